/* SPDX-License-Identifier: MIT */
/* config_walk.h — private: apply a tree of settings (libconfig or JSON) to a config by schema. */
#ifndef BMSGW_CONFIG_WALK_H
#define BMSGW_CONFIG_WALK_H

#include <stdbool.h>

#include "bmsgw/config_schema.h"

enum cfg_node_kind {
    CFG_N_INT,
    CFG_N_FLOAT,
    CFG_N_BOOL,
    CFG_N_STRING,
    CFG_N_ARRAY, /* ordered, unnamed children */
    CFG_N_GROUP, /* named children */
    CFG_N_NULL,
    CFG_N_OTHER,
};

/* A read-only view of one settings tree, so the file and the API share one validator. */
struct cfg_node_ops {
    enum cfg_node_kind (*kind)(const void *n);
    long long (*get_int)(const void *n);
    double (*get_float)(const void *n);
    bool (*get_bool)(const void *n);
    const char *(*get_string)(const void *n);
    unsigned (*count)(const void *n);
    /* i-th child; *name gets its name for group members */
    const void *(*child)(const void *n, unsigned i, const char **name);
    int (*line)(const void *n); /* 0 when unknown */
};

/* Where each key came from, to name file:line in cross-key errors. */
struct cfg_origins;
struct cfg_origins *cfg_origins_new(void);
void cfg_origins_free(struct cfg_origins *o);
/* Fill e->file/e->line for e->key when known. */
void cfg_origins_lookup(const struct cfg_origins *o, struct cfg_error *e);

struct cfg_walk {
    const struct cfg_node_ops *ops;
    const char *file; /* for errors; "" for API input */
    struct cfg_error *err;
    struct cfg_origins *origins; /* may be NULL */
    struct bmsgw_config *cfg;    /* for preset_explicit */
    bool api;                    /* input from the API: CFG_F_FILE_ONLY keys are refused */
    bool skip_null;              /* JSON null members are skipped (they mean "remove") */
};

/* Apply the members of a group node to the struct at base, with keys as its schema.
 * prefix is the dotted path of the group ("" at top level). Returns 0 or -EINVAL. */
int cfg_walk_group(struct cfg_walk *w, const struct cfg_key *keys, void *base, const void *node,
                   const char *prefix);

/* Apply one libconfig file (optional: a missing file is not an error). */
int cfg_apply_file(struct bmsgw_config *cfg, const char *path, bool optional, struct cfg_origins *o,
                   struct cfg_error *err);

/* Presets and map default ports, after every source was applied. */
void cfg_normalise(struct bmsgw_config *cfg);
/* The port a map listens on: 0 stands for the map's default port (from the map's table). */
int cfg_map_port(const struct cfg_map *m);

/* Set a string buffer of size bytes, zero-filling the rest (keeps configs comparable). */
void cfg_set_string(char *dst, size_t size, const char *src);

/* Write the error (printf-style message). Always returns -EINVAL. */
int cfg_fail(struct cfg_error *err, const char *file, int line, const char *key, const char *fmt,
             ...) __attribute__((format(printf, 5, 6)));

/* Cross-key checks with origins for file:line. */
int cfg_validate_with(const struct bmsgw_config *cfg, const struct cfg_origins *o,
                      struct cfg_error *err);

extern const struct cfg_node_ops cfg_libconfig_ops;
extern const struct cfg_node_ops cfg_json_ops;

#endif
