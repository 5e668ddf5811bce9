/* SPDX-License-Identifier: MIT */
/* auth.h — the API token: its file (created on first start, mode 0600) and its comparison. */
#ifndef BMSGW_AUTH_H
#define BMSGW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_TOKEN_MIN 16  /* characters a usable token has at least */
#define AUTH_TOKEN_MAX 128 /* buffer size for a token, NUL included */

/*
 * Read the token from path (surrounding whitespace ignored). When the file does not exist, make
 * a new one: 32 random bytes as 64 hex characters, written atomically with mode 0600.
 * Returns 0 (read), 1 (created), -EINVAL (the file holds no usable token: fewer than
 * AUTH_TOKEN_MIN characters, spaces or control characters, or more than AUTH_TOKEN_MAX - 1),
 * or another -errno. *loose is set when an existing file is readable by group or others.
 */
int auth_token_load(const char *path, char *out, size_t size, bool *loose);

/* The same without ever creating the file (tools): -ENOENT when it does not exist. */
int auth_token_read(const char *path, char *out, size_t size, bool *loose);

/* Compare a presented token with the expected one in time that depends only on the expected
 * token's length. */
bool auth_token_equal(const char *presented, const char *expected);

#endif
