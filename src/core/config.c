/* SPDX-License-Identifier: MIT */
/* config.c — defaults, loading of the file and the runtime overlay, presets, cross-key checks. */
#include "bmsgw/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "config_walk.h"

static void defaults_group(const struct cfg_key *keys, void *base, struct bmsgw_config *cfg)
{
    for (const struct cfg_key *k = keys; k->name; k++) {
        char *p = (char *)base + k->offset;
        if (k->flags & CFG_F_PRESET)
            continue;
        switch (k->type) {
        case CFG_T_INT:
        case CFG_T_ENUM:
            *(int *)p = (int)k->def_i;
            break;
        case CFG_T_DOUBLE:
            *(double *)p = k->def_d;
            break;
        case CFG_T_BOOL:
            *(bool *)p = k->def_i != 0;
            break;
        case CFG_T_STRING:
            cfg_set_string(p, k->size, k->def_s ? k->def_s : "");
            break;
        case CFG_T_GROUP:
            defaults_group(k->sub, p, cfg);
            break;
        case CFG_T_LIST:
            k->list_defaults(cfg);
            break;
        case CFG_T_INT_ARRAY:
        case CFG_T_DOUBLE_ARRAY:
            break;
        }
    }
}

static const struct cfg_key *limits_keys(void)
{
    return cfg_schema_find("limits")->sub;
}

static void apply_presets(const struct cfg_limits *l, const struct cfg_key *keys, void *base)
{
    for (const struct cfg_key *k = keys; k->name; k++) {
        if (!(k->flags & CFG_F_PRESET) || (l->preset_explicit & (1u << k->preset_bit)))
            continue;
        char *p = (char *)base + k->offset;
        if (k->type == CFG_T_INT) {
            *(int *)p = cfg_preset_int(l->chemistry, k->preset_bit);
            continue;
        }
        const struct cfg_table *t = cfg_preset_table(l->chemistry, k->preset_bit);
        if (k->type == CFG_T_INT_ARRAY) {
            memcpy(p, t->x, sizeof(t->x));
            *(int *)((char *)base + k->count_offset) = t->n_x;
        } else {
            memcpy(p, t->f, sizeof(t->f));
            *(int *)((char *)base + k->count_offset) = t->n_f;
        }
    }
}

void config_apply_presets(struct bmsgw_config *cfg)
{
    apply_presets(&cfg->limits, limits_keys(), &cfg->limits);
    apply_presets(&cfg->limits, cfg_schema_find("alarms")->sub, &cfg->alarms);
}

void config_defaults(struct bmsgw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    defaults_group(cfg_schema, cfg, cfg);
    config_apply_presets(cfg);
}

void config_overlay_path(const struct bmsgw_config *cfg, char *buf, unsigned size)
{
    snprintf(buf, size, "%s/%s", cfg->state_dir, CFG_OVERLAY_NAME);
}

int config_log_syslog_level(const struct bmsgw_config *cfg)
{
    static const int levels[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
    return cfg->log.level >= 0 && cfg->log.level < 5 ? levels[cfg->log.level] : LOG_INFO;
}

static int apply_libconfig(struct bmsgw_config *cfg, config_t *lc, const char *name,
                           struct cfg_origins *o, struct cfg_error *err)
{
    struct cfg_walk w = {
        .ops = &cfg_libconfig_ops, .file = name, .err = err, .origins = o, .cfg = cfg
    };
    return cfg_walk_group(&w, cfg_schema, cfg, config_root_setting(lc), "");
}

static int syntax_error(config_t *lc, const char *name, struct cfg_error *err)
{
    const char *text = config_error_text(lc);
    const char *hint = strstr(text, "mismatched element type")
                           ? " (every element of an array must have the same type: write 1.0, "
                             "not 1, among decimals)"
                           : "";
    return cfg_fail(err, name, config_error_line(lc), NULL, "syntax error: %s%s", text, hint);
}

/* Apply what libconfig parsed (or report its syntax error), then release it. */
static int apply_parsed(struct bmsgw_config *cfg, config_t *lc, int parsed, const char *name,
                        struct cfg_origins *o, struct cfg_error *err)
{
    int rc = parsed ? apply_libconfig(cfg, lc, name, o, err) : syntax_error(lc, name, err);
    config_destroy(lc);
    return rc;
}

int cfg_apply_file(struct bmsgw_config *cfg, const char *path, bool optional, struct cfg_origins *o,
                   struct cfg_error *err)
{
    config_t lc;
    int rc;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (optional && errno == ENOENT)
            return 0;
        return cfg_fail(err, path, 0, NULL, "cannot read the file: %s", strerror(errno));
    }
    config_init(&lc);
    rc = apply_parsed(cfg, &lc, config_read(&lc, f), path, o, err);
    fclose(f);
    return rc;
}

int cfg_map_port(const struct cfg_map *m)
{
    return m->port ? m->port : config_map_default_port(m->kind);
}

void cfg_normalise(struct bmsgw_config *cfg)
{
    config_apply_presets(cfg);
    for (int i = 0; i < cfg->mbtcp.map_count; i++)
        cfg->mbtcp.maps[i].port = cfg_map_port(&cfg->mbtcp.maps[i]);
}

/* After every source was applied: presets, default ports, cross-key checks. */
static int finish(struct bmsgw_config *cfg, int rc, struct cfg_origins *o, struct cfg_error *err)
{
    if (rc == 0) {
        cfg_normalise(cfg);
        rc = cfg_validate_with(cfg, o, err);
    }
    cfg_origins_free(o);
    return rc;
}

int config_load(struct bmsgw_config *cfg, const char *path, const char *overlay_path,
                struct cfg_error *err)
{
    char overlay[CFG_PATH_MAX + 16];
    struct cfg_origins *o = cfg_origins_new();
    int rc;

    memset(err, 0, sizeof(*err));
    config_defaults(cfg);
    rc = cfg_apply_file(cfg, path, false, o, err);
    if (rc == 0 && (!overlay_path || *overlay_path)) {
        if (!overlay_path)
            config_overlay_path(cfg, overlay, sizeof(overlay));
        rc = cfg_apply_file(cfg, overlay_path ? overlay_path : overlay, true, o, err);
    }
    return finish(cfg, rc, o, err);
}

int config_load_string(struct bmsgw_config *cfg, const char *text, const char *name,
                       struct cfg_error *err)
{
    config_t lc;
    struct cfg_origins *o = cfg_origins_new();

    memset(err, 0, sizeof(*err));
    config_defaults(cfg);
    config_init(&lc);
    int rc = apply_parsed(cfg, &lc, config_read_string(&lc, text), name, o, err);
    return finish(cfg, rc, o, err);
}

/* ---- restart diff ------------------------------------------------------------------------- */

static size_t key_storage(const struct cfg_key *k)
{
    switch (k->type) {
    case CFG_T_INT:
    case CFG_T_ENUM:
        return sizeof(int);
    case CFG_T_DOUBLE:
        return sizeof(double);
    case CFG_T_BOOL:
        return sizeof(bool);
    case CFG_T_STRING:
        return k->size;
    case CFG_T_INT_ARRAY:
        return k->size * sizeof(int);
    case CFG_T_DOUBLE_ARRAY:
        return k->size * sizeof(double);
    case CFG_T_LIST:
        return k->size * k->elem_size;
    case CFG_T_GROUP:
        return 0;
    }
    return 0;
}

static bool key_differs(const struct cfg_key *k, const char *a, const char *b)
{
    if (memcmp(a + k->offset, b + k->offset, key_storage(k)) != 0)
        return true;
    if (k->type == CFG_T_LIST || k->type == CFG_T_INT_ARRAY || k->type == CFG_T_DOUBLE_ARRAY)
        return *(const int *)(a + k->count_offset) != *(const int *)(b + k->count_offset);
    return false;
}

static int diff_group(const struct cfg_key *keys, const char *a, const char *b, const char *prefix,
                      char *buf, unsigned size, unsigned *used)
{
    int n = 0;
    for (const struct cfg_key *k = keys; k->name; k++) {
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k->name);
        if (k->type == CFG_T_GROUP) {
            n += diff_group(k->sub, a + k->offset, b + k->offset, path, buf, size, used);
            continue;
        }
        if (!(k->flags & CFG_F_RESTART) || !key_differs(k, a, b))
            continue;
        n++;
        if (*used < size) {
            int w = snprintf(buf + *used, size - *used, "%s%s", *used ? "," : "", path);
            if (w > 0)
                *used += (unsigned)w;
        }
    }
    return n;
}

int config_restart_keys(const struct bmsgw_config *a, const struct bmsgw_config *b, char *buf,
                        unsigned size)
{
    unsigned used = 0;
    if (size)
        buf[0] = '\0';
    return diff_group(cfg_schema, (const char *)a, (const char *)b, "", buf, size, &used);
}

int config_validate(const struct bmsgw_config *cfg, struct cfg_error *err)
{
    return cfg_validate_with(cfg, NULL, err);
}
