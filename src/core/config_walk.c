/* SPDX-License-Identifier: MIT */
/* config_walk.c — the one validator: type, range and unknown-key checks for every setting. */
#include "config_walk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGINS_MAX 512

struct origin {
    char key[96];
    char file[CFG_PATH_MAX];
    int line;
};

struct cfg_origins {
    unsigned n;
    struct origin o[ORIGINS_MAX];
};

struct cfg_origins *cfg_origins_new(void)
{
    return calloc(1, sizeof(struct cfg_origins));
}

void cfg_origins_free(struct cfg_origins *o)
{
    free(o);
}

static void origins_add(struct cfg_origins *o, const char *key, const char *file, int line)
{
    if (!o)
        return;
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->o[i].key, key) == 0) {
            cfg_set_string(o->o[i].file, sizeof(o->o[i].file), file);
            o->o[i].line = line;
            return;
        }
    }
    if (o->n == ORIGINS_MAX)
        return;
    cfg_set_string(o->o[o->n].key, sizeof(o->o[o->n].key), key);
    cfg_set_string(o->o[o->n].file, sizeof(o->o[o->n].file), file);
    o->o[o->n].line = line;
    o->n++;
}

void cfg_origins_lookup(const struct cfg_origins *o, struct cfg_error *e)
{
    if (!o)
        return;
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->o[i].key, e->key) == 0) {
            cfg_set_string(e->file, sizeof(e->file), o->o[i].file);
            e->line = o->o[i].line;
            return;
        }
    }
}

void cfg_set_string(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    memset(dst + n, 0, size - n);
}

int cfg_fail(struct cfg_error *err, const char *file, int line, const char *key, const char *fmt,
             ...)
{
    va_list ap;
    cfg_set_string(err->file, sizeof(err->file), file ? file : "");
    err->line = line;
    cfg_set_string(err->key, sizeof(err->key), key ? key : "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

const char *cfg_error_str(const struct cfg_error *e, char *buf, unsigned size)
{
    int n = 0;
    buf[0] = '\0';
    if (e->file[0] && e->line > 0)
        n = snprintf(buf, size, "%s:%d: ", e->file, e->line);
    else if (e->file[0])
        n = snprintf(buf, size, "%s: ", e->file);
    if (n < 0 || (unsigned)n >= size)
        return buf;
    if (e->key[0])
        snprintf(buf + n, size - (unsigned)n, "%s: %s", e->key, e->msg);
    else
        snprintf(buf + n, size - (unsigned)n, "%s", e->msg);
    return buf;
}

/* ---- one key ---------------------------------------------------------------------------- */

static const char *unit_suffix(const struct cfg_key *k, char *buf, size_t size)
{
    if (k->unit)
        snprintf(buf, size, " %s", k->unit);
    else
        buf[0] = '\0';
    return buf;
}

static int set_int(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                   const char *path, int line)
{
    char u[24];
    if (w->ops->kind(n) != CFG_N_INT)
        return cfg_fail(w->err, w->file, line, path, "must be an integer%s, %lld..%lld",
                        unit_suffix(k, u, sizeof(u)), k->min, k->max);
    long long v = w->ops->get_int(n);
    if (v < k->min || v > k->max)
        return cfg_fail(w->err, w->file, line, path, "must be %lld..%lld%s (got %lld)", k->min,
                        k->max, unit_suffix(k, u, sizeof(u)), v);
    *(int *)((char *)base + k->offset) = (int)v;
    return 0;
}

static int set_double(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                      const char *path, int line)
{
    char u[24];
    enum cfg_node_kind kind = w->ops->kind(n);
    if (kind != CFG_N_INT && kind != CFG_N_FLOAT)
        return cfg_fail(w->err, w->file, line, path, "must be a number%s, %g..%g",
                        unit_suffix(k, u, sizeof(u)), k->dmin, k->dmax);
    double v = kind == CFG_N_INT ? (double)w->ops->get_int(n) : w->ops->get_float(n);
    if (!(v >= k->dmin && v <= k->dmax))
        return cfg_fail(w->err, w->file, line, path, "must be %g..%g%s (got %g)", k->dmin, k->dmax,
                        unit_suffix(k, u, sizeof(u)), v);
    *(double *)((char *)base + k->offset) = v;
    return 0;
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static int set_string(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                      const char *path, int line)
{
    if (w->ops->kind(n) != CFG_N_STRING)
        return cfg_fail(w->err, w->file, line, path, "must be a string of %lld..%lld characters",
                        k->min, k->max);
    const char *s = w->ops->get_string(n);
    long long len = (long long)strlen(s);
    if (len < k->min || len > k->max)
        return cfg_fail(w->err, w->file, line, path,
                        "must be %lld..%lld characters long (got %lld)", k->min, k->max, len);
    if ((k->flags & CFG_F_ASCII) && !printable_ascii(s))
        return cfg_fail(w->err, w->file, line, path, "must be printable ASCII");
    cfg_set_string((char *)base + k->offset, k->size, s);
    return 0;
}

static void enum_list(const struct cfg_key *k, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const char *const *e = k->enums; *e && used < size; e++) {
        int n = snprintf(buf + used, size - used, "%s%s", e == k->enums ? "" : ", ", *e);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int set_enum(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                    const char *path, int line)
{
    char names[160];
    enum_list(k, names, sizeof(names));
    if (w->ops->kind(n) == CFG_N_STRING) {
        const char *s = w->ops->get_string(n);
        for (int i = 0; k->enums[i]; i++) {
            if (strcmp(k->enums[i], s) == 0) {
                *(int *)((char *)base + k->offset) = i;
                return 0;
            }
        }
        return cfg_fail(w->err, w->file, line, path, "must be one of %s (got \"%s\")", names, s);
    }
    return cfg_fail(w->err, w->file, line, path, "must be one of %s (a string)", names);
}

static int set_array(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                     const char *path, int line)
{
    bool ints = k->type == CFG_T_INT_ARRAY;
    const char *what = ints ? "integers" : "numbers";
    if (w->ops->kind(n) != CFG_N_ARRAY)
        return cfg_fail(w->err, w->file, line, path,
                        "must be an array of %lld..%lld %s [a, b, ...]", k->min, k->max, what);
    unsigned cnt = w->ops->count(n);
    if ((long long)cnt < k->min || (long long)cnt > k->max)
        return cfg_fail(w->err, w->file, line, path, "must have %lld..%lld elements (got %u)",
                        k->min, k->max, cnt);
    for (unsigned i = 0; i < cnt; i++) {
        const void *e = w->ops->child(n, i, NULL);
        enum cfg_node_kind ek = w->ops->kind(e);
        if (ek != CFG_N_INT && (ints || ek != CFG_N_FLOAT))
            return cfg_fail(w->err, w->file, line, path, "element %u must be one of the %s", i + 1,
                            what);
        double v = ek == CFG_N_INT ? (double)w->ops->get_int(e) : w->ops->get_float(e);
        if (!(v >= k->dmin && v <= k->dmax))
            return cfg_fail(w->err, w->file, line, path, "element %u must be %g..%g (got %g)",
                            i + 1, k->dmin, k->dmax, v);
        if (ints)
            ((int *)((char *)base + k->offset))[i] = (int)v;
        else
            ((double *)((char *)base + k->offset))[i] = v;
    }
    *(int *)((char *)base + k->count_offset) = (int)cnt;
    return 0;
}

static int set_list(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                    const char *path, int line)
{
    if (w->ops->kind(n) != CFG_N_ARRAY)
        return cfg_fail(w->err, w->file, line, path, "must be a list ( { ... }, ... )");
    unsigned cnt = w->ops->count(n);
    if ((long long)cnt > k->max)
        return cfg_fail(w->err, w->file, line, path, "must have at most %lld entries (got %u)",
                        k->max, cnt);
    char *elems = (char *)base + k->offset;
    for (unsigned i = 0; i < cnt; i++) {
        const void *e = w->ops->child(n, i, NULL);
        char epath[128];
        snprintf(epath, sizeof(epath), "%s[%u]", path, i);
        if (w->ops->kind(e) != CFG_N_GROUP)
            return cfg_fail(w->err, w->file, w->ops->line(e) ? w->ops->line(e) : line, epath,
                            "must be a group { ... }");
        k->elem_defaults(elems + i * k->elem_size, i);
        int rc = cfg_walk_group(w, k->sub, elems + i * k->elem_size, e, epath);
        if (rc)
            return rc;
    }
    *(int *)((char *)base + k->count_offset) = (int)cnt;
    return 0;
}

static int apply_key(struct cfg_walk *w, const struct cfg_key *k, void *base, const void *n,
                     const char *path)
{
    int line = w->ops->line(n);
    int rc;

    if (w->skip_null && w->ops->kind(n) == CFG_N_NULL)
        return 0;
    if (w->api && (k->flags & CFG_F_FILE_ONLY))
        return cfg_fail(w->err, w->file, line, path,
                        "can only be changed in the configuration file");
    origins_add(w->origins, path, w->file, line);
    switch (k->type) {
    case CFG_T_INT:
        rc = set_int(w, k, base, n, path, line);
        break;
    case CFG_T_DOUBLE:
        rc = set_double(w, k, base, n, path, line);
        break;
    case CFG_T_BOOL:
        if (w->ops->kind(n) != CFG_N_BOOL)
            return cfg_fail(w->err, w->file, line, path, "must be true or false");
        *(bool *)((char *)base + k->offset) = w->ops->get_bool(n);
        rc = 0;
        break;
    case CFG_T_STRING:
        rc = set_string(w, k, base, n, path, line);
        break;
    case CFG_T_ENUM:
        rc = set_enum(w, k, base, n, path, line);
        break;
    case CFG_T_INT_ARRAY:
    case CFG_T_DOUBLE_ARRAY:
        rc = set_array(w, k, base, n, path, line);
        break;
    case CFG_T_GROUP:
        if (w->ops->kind(n) != CFG_N_GROUP)
            return cfg_fail(w->err, w->file, line, path, "must be a group { ... }");
        rc = cfg_walk_group(w, k->sub, (char *)base + k->offset, n, path);
        break;
    case CFG_T_LIST:
        rc = set_list(w, k, base, n, path, line);
        break;
    default:
        rc = cfg_fail(w->err, w->file, line, path, "internal: unknown key type");
    }
    if (rc == 0 && (k->flags & CFG_F_PRESET) && w->cfg)
        w->cfg->limits.preset_explicit |= 1u << k->preset_bit;
    return rc;
}

static void known_keys(const struct cfg_key *keys, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const struct cfg_key *k = keys; k->name && used < size; k++) {
        int n = snprintf(buf + used, size - used, "%s%s", k == keys ? "" : ", ", k->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int cfg_walk_group(struct cfg_walk *w, const struct cfg_key *keys, void *base, const void *node,
                   const char *prefix)
{
    unsigned cnt = w->ops->count(node);
    for (unsigned i = 0; i < cnt; i++) {
        const char *name = NULL;
        const void *c = w->ops->child(node, i, &name);
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name ? name : "?");
        const struct cfg_key *k = cfg_key_find(keys, name);
        if (!k) {
            char known[200];
            known_keys(keys, known, sizeof(known));
            return cfg_fail(w->err, w->file, w->ops->line(c), path, "unknown key; allowed %s%s: %s",
                            *prefix ? "in " : "at top level", prefix, known);
        }
        int rc = apply_key(w, k, base, c, path);
        if (rc)
            return rc;
    }
    return 0;
}
