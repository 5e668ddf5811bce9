/* SPDX-License-Identifier: MIT */
/* persist.h — crash-safe files under the state directory (energy, alert history, runtime.conf). */
#ifndef BMSGW_PERSIST_H
#define BMSGW_PERSIST_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with data atomically: write a temporary file in the same folder, fsync it, set
 * its mode, rename it over path, fsync the folder. After a crash at any point path holds either
 * the old or the new content, never a mix or an empty file.
 * Returns 0 or -errno (the old file is untouched on failure).
 */
int persist_write(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Read a whole file of at most max_len bytes into a NUL-terminated heap buffer (*data, free()
 * it; *len excludes the NUL). Returns 0, -ENOENT when it does not exist, -EFBIG when it is
 * larger than max_len, or another -errno.
 */
int persist_read(const char *path, char **data, size_t *len, size_t max_len);

#endif
