/* SPDX-License-Identifier: MIT */
/* docgen.c — the one generator of the checked-in docs: conf, DBC, register maps, man page keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/config_schema.h"
#include "bmsgw/mbmap.h"
#include "bmsgw/victron.h"

/* A generated file: its path in the source tree, the option that prints it, its writer. */
struct doc {
    const char *path;
    const char *option;
    void (*write)(FILE *out);
};

static const struct doc docs[] = {
    { .path = "conf/bmsgw.conf", .option = "--conf", .write = cfg_write_conf },
    { .path = "docs/victron-bms.dbc", .option = "--dbc", .write = victron_write_dbc },
    { .path = "docs/modbus-maps.md", .option = "--modbus-maps", .write = mbmap_write_markdown },
};

#define DOCS_N (sizeof(docs) / sizeof(docs[0]))

/* The file's bytes (NUL-terminated) in *len, or NULL when it cannot be read. */
static char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[4096];
    size_t n;
    while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    if (!m)
        return NULL;
    fclose(m);
    *len = cap;
    return buf;
}

/* Writes path through a temporary file and a rename: 0, or -errno. */
static int file_replace(const char *path, const char *text, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    int rc = fwrite(text, 1, len, f) == len ? 0 : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0)
        remove(tmp);
    return rc;
}

/* Regenerates one file under srcdir, touching it only when its text changes: 0, or -errno. */
static int doc_update(const char *srcdir, const struct doc *d)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", srcdir, d->path) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    char *gen = NULL;
    size_t gen_len = 0, old_len = 0;
    FILE *m = open_memstream(&gen, &gen_len);
    if (!m)
        return -errno;
    d->write(m);
    fclose(m);
    char *old = file_read(path, &old_len);
    int rc = 0;
    if (old && old_len == gen_len && memcmp(old, gen, gen_len) == 0) {
        printf("%s is current\n", d->path);
    } else {
        rc = file_replace(path, gen, gen_len);
        if (rc == 0)
            printf("%s updated\n", d->path);
    }
    free(old);
    free(gen);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: bmsgw-docgen --update SRCDIR | --man-keys");
    for (size_t i = 0; i < DOCS_N; i++)
        fprintf(stderr, " | %s", docs[i].option);
    fprintf(stderr, "\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--update") == 0) {
        int failed = 0;
        for (size_t i = 0; i < DOCS_N; i++) {
            int rc = doc_update(argv[2], &docs[i]);
            if (rc < 0) {
                fprintf(stderr, "bmsgw-docgen: %s/%s: %s\n", argv[2], docs[i].path, strerror(-rc));
                failed = 1;
            }
        }
        return failed;
    }
    if (argc != 2)
        return usage();
    if (strcmp(argv[1], "--man-keys") == 0) {
        cfg_write_man_keys(stdout);
        return 0;
    }
    for (size_t i = 0; i < DOCS_N; i++) {
        if (strcmp(argv[1], docs[i].option) == 0) {
            docs[i].write(stdout);
            return 0;
        }
    }
    return usage();
}
