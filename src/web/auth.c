/* SPDX-License-Identifier: MIT */
/* auth.c — token file creation and reading, constant-time comparison. */
#include "bmsgw/auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "bmsgw/persist.h"

static int token_create(const char *path, char *out, size_t size)
{
    uint8_t raw[32];
    char hex[2 * sizeof(raw) + 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    if (size < 2 * sizeof(raw) + 1)
        return -ENOBUFS;
    memcpy(out, hex, 2 * sizeof(raw) + 1);
    hex[2 * sizeof(raw)] = '\n';
    hex[2 * sizeof(raw) + 1] = '\0';
    int rc = persist_write(path, hex, 2 * sizeof(raw) + 1, 0600);
    return rc ? rc : 1;
}

/* Trim in place; check the characters. */
static int token_parse(char *text, char *out, size_t size)
{
    char *s = text, *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    size_t n = (size_t)(e - s);
    if (n < AUTH_TOKEN_MIN || n >= size || n >= AUTH_TOKEN_MAX)
        return -EINVAL;
    for (const char *p = s; p < e; p++)
        if (!isgraph((unsigned char)*p))
            return -EINVAL;
    memcpy(out, s, n + 1);
    return 0;
}

int auth_token_load(const char *path, char *out, size_t size, bool *loose)
{
    int rc = auth_token_read(path, out, size, loose);
    return rc == -ENOENT ? token_create(path, out, size) : rc;
}

int auth_token_read(const char *path, char *out, size_t size, bool *loose)
{
    char *text = NULL;
    size_t len;
    struct stat st;
    *loose = false;
    int rc = persist_read(path, &text, &len, 4096);
    if (rc)
        return rc;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        *loose = true;
    rc = token_parse(text, out, size);
    free(text);
    return rc;
}

bool auth_token_equal(const char *presented, const char *expected)
{
    size_t n = strlen(expected), m = presented ? strlen(presented) : 0;
    unsigned char diff = (unsigned char)(n != m);
    /* always walk the expected token's whole length; past the end of a shorter presented token
     * its first byte is read again, never memory beyond it */
    for (size_t i = 0; i < n; i++) {
        unsigned char p = m ? (unsigned char)presented[i < m ? i : 0] : 0;
        diff |= (unsigned char)(p ^ (unsigned char)expected[i]);
    }
    return diff == 0 && n > 0;
}
