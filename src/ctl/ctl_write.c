/* SPDX-License-Identifier: MIT */
/* ctl_write.c — bmsctl write-coil and write-reg: targets named by the map, values checked. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl.h"

/* A write target: one value of one field. */
struct target {
    const struct mbmap_field *f;
    unsigned group, item;
    unsigned addr;
};

static bool parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    *v = strtoul(s, &end, 0);
    return !errno && !*end && *v <= max;
}

/* "key", "key:N" or "key:G:N" (1-based group and item). */
static int target_by_key(const struct mbmap *m, int table, const char *text, struct target *t)
{
    char key[64];
    unsigned long a = 1, b = 1;
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    if (n >= sizeof(key))
        return -EINVAL;
    memcpy(key, text, n);
    key[n] = 0;
    t->f = mbmap_field_find(m, key);
    if (!t->f || t->f->table != table)
        return -ENOENT;
    const char *second = colon ? strchr(colon + 1, ':') : NULL;
    char first[16] = "1";
    if (colon)
        snprintf(first, sizeof(first), "%.*s",
                 (int)(second ? (size_t)(second - colon - 1) : strlen(colon + 1)), colon + 1);
    if (!parse_ulong(first, 65535, &a) || (second && !parse_ulong(second + 1, 65535, &b)))
        return -EINVAL;
    bool grouped = mbmap_field_groups(t->f) > 1;
    t->group = grouped ? (unsigned)a - 1 : 0;
    t->item = grouped ? (second ? (unsigned)b - 1 : 0) : (unsigned)a - 1;
    long addr = mbmap_field_addr(t->f, t->group, t->item);
    if (a == 0 || b == 0 || addr < 0)
        return -ERANGE;
    t->addr = (unsigned)addr;
    return 0;
}

/* A target from an address or a key; reports what is wrong. Returns 0 or CTL_EXIT_USAGE. */
static int target_find(struct ctl_session *s, int table, const char *text, struct target *t)
{
    const struct mbmap *m = s->o->map;
    const char *what = table == MBMAP_COILS ? "coil" : "register";
    unsigned long a;
    unsigned off = 0;
    int rc = 0;
    memset(t, 0, sizeof(*t));
    if (parse_ulong(text, MBMAP_ADDR_SPACE - 1, &a)) {
        t->addr = (unsigned)a;
        t->f = mbmap_locate(m, table, t->addr, &t->group, &t->item, &off);
        rc = t->f ? 0 : -ENOENT;
    } else {
        rc = target_by_key(m, table, text, t);
    }
    if (rc == -ENOENT)
        fprintf(s->err, "bmsctl: %s '%s' is not a value of the %s map\n", what, text, m->name);
    else if (rc)
        fprintf(s->err, "bmsctl: '%s' is not a %s of the %s map (address, key, key:N)\n", text,
                what, m->name);
    else if (off)
        fprintf(s->err, "bmsctl: %s %u is inside a value: write it from its first register %u\n",
                what, t->addr, t->addr - off);
    return rc || off ? CTL_EXIT_USAGE : 0;
}

static int written(struct ctl_session *s, const struct target *t, const char *value,
                   const uint16_t *regs, unsigned n)
{
    char name[96];
    mbmap_value_name(t->f, t->group, t->item, name, sizeof(name));
    if (s->o->format == CTL_FMT_JSON) {
        json_t *raw = json_array();
        for (unsigned k = 0; k < n; k++)
            json_array_append_new(raw, json_integer(regs[k]));
        json_t *o = json_pack("{s:{s:s, s:s, s:i, s:s, s:s, s:o}}", "written", "table",
                              mbmap_table_name(t->f->table), "key", t->f->key, "address",
                              (int)t->addr, "name", name, "value", value, "raw", raw);
        if (o)
            ctl_json_print(s->out, o);
        json_decref(o);
    } else {
        fprintf(s->out, "wrote %s (%u) = %s\n", name, t->addr, value);
    }
    return CTL_EXIT_OK;
}

int ctl_write_coil(struct ctl_session *s, unsigned nargs, const char *const *args)
{
    struct target t;
    static const char *const on[] = { "1", "on", "true", "yes" }, *const off[] = { "0", "off",
                                                                                   "false", "no" };
    int value = -1;
    if (nargs != 2 || target_find(s, MBMAP_COILS, args[0], &t))
        return CTL_EXIT_USAGE;
    for (unsigned k = 0; k < 4; k++) {
        value = strcasecmp(args[1], on[k]) == 0 ? 1 : value;
        value = strcasecmp(args[1], off[k]) == 0 ? 0 : value;
    }
    if (value < 0) {
        fprintf(s->err, "bmsctl: a coil is written 0 or 1 (also off/on, false/true; got '%s')\n",
                args[1]);
        return CTL_EXIT_USAGE;
    }
    if (!(t.f->flags & MBMAP_WRITABLE)) {
        fprintf(s->err, "bmsctl: coil %u (%s) is read-only in the %s map\n", t.addr, t.f->label,
                s->o->map->name);
        return CTL_EXIT_USAGE;
    }
    int rc = ctl_link_write_coil(s->link, t.addr, value);
    if (rc) {
        ctl_session_report(s, true);
        return CTL_EXIT_IO;
    }
    uint16_t raw = (uint16_t)value;
    return written(s, &t, value ? "1" : "0", &raw, 1);
}

/* ---- write-reg ----------------------------------------------------------------------------- */

/* The raw range of an integer type after scaling. */
static bool type_range(int type, double *lo, double *hi)
{
    static const struct {
        int type;
        double lo, hi;
    } r[] = {
        { MBMAP_U16, 0, 65535 },
        { MBMAP_S16, -32768, 32767 },
        { MBMAP_U32, 0, 4294967295.0 },
        { MBMAP_S32, -2147483648.0, 2147483647.0 },
    };
    for (unsigned k = 0; k < sizeof(r) / sizeof(r[0]); k++)
        if (r[k].type == type) {
            *lo = r[k].lo;
            *hi = r[k].hi;
            return true;
        }
    return false;
}

/* An engineering value for field f into raw registers; reports why not. */
static int encode_value(struct ctl_session *s, const struct target *t, const char *text,
                        uint16_t *regs)
{
    const struct mbmap_field *f = t->f;
    char *end, name[96];
    double v = strtod(text, &end), lo, hi;
    mbmap_value_name(f, t->group, t->item, name, sizeof(name));
    if (end == text || *end || !isfinite(v)) {
        fprintf(s->err, "bmsctl: '%s' is not a number (%s is in %s)\n", text, name,
                *f->unit ? f->unit : "plain numbers");
        return CTL_EXIT_USAGE;
    }
    double raw = round(v / mbmap_field_scale(f));
    bool checked = (f->flags & (MBMAP_WRITABLE | MBMAP_SIM_WRITE)) && (f->min != 0 || f->max != 0);
    if ((checked && (v < f->min || v > f->max)) ||
        (type_range(f->type, &lo, &hi) && (raw < lo || raw > hi))) {
        if (!checked) {
            lo *= mbmap_field_scale(f);
            hi *= mbmap_field_scale(f);
        }
        fprintf(s->err, "bmsctl: %s takes %g..%g%s%s (got %s)\n", name, checked ? f->min : lo,
                checked ? f->max : hi, *f->unit ? " " : "", ctl_unit_text(f->unit), text);
        return CTL_EXIT_USAGE;
    }
    mbmap_encode(f, v, s->o->word_order, regs);
    return 0;
}

/* --raw: 16-bit values (negative ones as two's complement). */
static int raw_values(struct ctl_session *s, unsigned nargs, const char *const *args,
                      uint16_t *regs)
{
    for (unsigned k = 0; k < nargs; k++) {
        char *end;
        long v = strtol(args[k], &end, 0);
        if (end == args[k] || *end || v < -32768 || v > 65535) {
            fprintf(s->err, "bmsctl: --raw values are 16-bit registers, -32768..65535 (got '%s')\n",
                    args[k]);
            return CTL_EXIT_USAGE;
        }
        regs[k] = (uint16_t)v;
    }
    return 0;
}

static int prepare_reg(struct ctl_session *s, unsigned nargs, const char *const *args,
                       struct target *t, uint16_t *regs, unsigned *n)
{
    int rc = target_find(s, MBMAP_REGS, args[0], t);
    if (s->o->raw) {
        unsigned long a;
        if (rc && parse_ulong(args[0], MBMAP_ADDR_SPACE - 1, &a)) {
            static const struct mbmap_field unknown = { .key = "", .label = "register" };
            *t = (struct target){ .f = &unknown, .addr = (unsigned)a };
            rc = 0;
        }
        *n = nargs - 1;
        return rc ? rc : raw_values(s, nargs - 1, args + 1, regs);
    }
    if (rc)
        return rc;
    *n = mbmap_field_width(t->f);
    if (nargs != 2 || t->f->type == MBMAP_STRING) {
        fprintf(s->err,
                "bmsctl: write-reg takes one value in the unit of %s (or --raw "
                "registers)\n",
                t->f->label);
        return CTL_EXIT_USAGE;
    }
    if (!(t->f->flags & (MBMAP_WRITABLE | MBMAP_SIM_WRITE))) {
        fprintf(s->err, "bmsctl: %s (%u) is read-only in the %s map\n", t->f->label, t->addr,
                s->o->map->name);
        return CTL_EXIT_USAGE;
    }
    return encode_value(s, t, args[1], regs);
}

int ctl_write_reg(struct ctl_session *s, unsigned nargs, const char *const *args)
{
    struct target t;
    uint16_t regs[MBMAP_MAX_WRITE_REGS];
    unsigned n = 0;
    char what[160], value[64], name[96];
    if (nargs < 2 || nargs - 1 > MBMAP_MAX_WRITE_REGS) {
        fprintf(s->err, "bmsctl: write-reg writes 1..%d registers at once\n", MBMAP_MAX_WRITE_REGS);
        return CTL_EXIT_USAGE;
    }
    int rc = prepare_reg(s, nargs, args, &t, regs, &n);
    if (rc)
        return rc;
    snprintf(value, sizeof(value), "%s%s%s", args[1], s->o->raw ? "" : " ",
             s->o->raw ? (nargs > 2 ? " ..." : "") : ctl_unit_text(t.f->unit));
    snprintf(what, sizeof(what), "%s (%u%s) = %s",
             mbmap_value_name(t.f, t.group, t.item, name, sizeof(name)), t.addr, n > 1 ? "..." : "",
             value);
    if (!s->o->yes) {
        fprintf(s->err, "bmsctl: write-reg would write %s as raw", what);
        for (unsigned k = 0; k < n; k++)
            fprintf(s->err, " 0x%04x", regs[k]);
        fprintf(s->err, " with FC%d; add --yes to write it\n", n == 1 ? 6 : 16);
        return CTL_EXIT_USAGE;
    }
    if (ctl_link_write_regs(s->link, t.addr, regs, n) != 0) {
        ctl_session_report(s, true);
        return CTL_EXIT_IO;
    }
    return written(s, &t, value, regs, n);
}
