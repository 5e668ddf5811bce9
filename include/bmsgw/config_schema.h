/* SPDX-License-Identifier: MIT */
/* config_schema.h — the one table of config keys: types, defaults, ranges, units, help. */
#ifndef BMSGW_CONFIG_SCHEMA_H
#define BMSGW_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

#include "bmsgw/config.h"

/*
 * The schema drives the file parser, the JSON API (GET/POST /api/config), the shipped
 * conf/bmsgw.conf, the bmsgw.conf(5) key reference and the restart-required diff. A key's
 * storage is found by offset from its containing struct (the config, a group, a list element).
 */

enum cfg_type {
    CFG_T_INT = 0,
    CFG_T_DOUBLE,
    CFG_T_BOOL,
    CFG_T_STRING,
    CFG_T_ENUM,
    CFG_T_INT_ARRAY,
    CFG_T_DOUBLE_ARRAY,
    CFG_T_GROUP,
    CFG_T_LIST,
};

enum {
    CFG_F_RESTART = 1u << 0,   /* a change takes effect only after a restart */
    CFG_F_FILE_ONLY = 1u << 1, /* only the configuration file may set it, not the API */
    CFG_F_PRESET = 1u << 2,    /* default comes from the chemistry preset */
    CFG_F_ASCII = 1u << 3,     /* string: printable ASCII only */
};

struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset;             /* of the value in the containing struct */
    size_t size;               /* string buffer size; array capacity; list capacity */
    size_t count_offset;       /* arrays and lists: offset of the int element count */
    long long min, max;        /* int/enum-free range; string length; array/list length */
    double dmin, dmax;         /* double; double/int array elements */
    const char *const *enums;  /* NULL-terminated value names (CFG_T_ENUM) */
    long long def_i;           /* default of int/bool/enum */
    double def_d;              /* default of double */
    const char *def_s;         /* default of string */
    const char *unit;          /* "ms", "mV", "A", ... or NULL */
    const char *help;          /* one sentence */
    unsigned flags;            /* CFG_F_* */
    unsigned preset_bit;       /* CFG_F_PRESET: bit in cfg_limits.preset_explicit; the bits
                                  from CFG_PRESET_ALARMS_FIRST are keys of the alarms group */
    const struct cfg_key *sub; /* group members / list element members, ended by name == NULL */
    size_t elem_size;          /* list element size */
    void (*elem_defaults)(void *elem, unsigned index); /* list element defaults */
    void (*list_defaults)(struct bmsgw_config *cfg);   /* the list's default content */
};

/* The top-level keys, ended by an entry with name == NULL. */
extern const struct cfg_key cfg_schema[];

/* Find a key by dotted path ("bms.poll_interval_ms"); list members as "bms.ports.device".
 * Returns NULL when there is none. */
const struct cfg_key *cfg_schema_find(const char *path);
/* The key called name in one group's table (NULL-terminated), or NULL. */
const struct cfg_key *cfg_key_find(const struct cfg_key *keys, const char *name);

/* Chemistry presets (config_presets.c). Bits below CFG_PRESET_ALARMS_FIRST: limits keys. */
#define CFG_PRESET_ALARMS_FIRST 12
int cfg_preset_int(int chemistry, unsigned preset_bit);
const struct cfg_table *cfg_preset_table(int chemistry, unsigned preset_bit);

/* Writers of the generated documentation (bmsgw-docgen). */
void cfg_write_conf(FILE *out);
void cfg_write_man_keys(FILE *out);

#endif
