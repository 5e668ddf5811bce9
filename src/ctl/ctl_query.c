/* SPDX-License-Identifier: MIT */
/* ctl_query.c — selections of map values, read plans and decoding for bmsctl (pure). */
#include "bmsgw/ctl_query.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ctl_plural(const char *label, char *buf, size_t size)
{
    size_t n = strlen(label);
    if (n > 1 && label[n - 1] == 'y' && !strchr("aeiou", label[n - 2]))
        snprintf(buf, size, "%.*sies", (int)(n - 1), label);
    else
        snprintf(buf, size, "%ss", label);
    return buf;
}

/* ---- item ranges --------------------------------------------------------------------------- */

/* A 1-based number at *p (advanced past it); 0 when there is none. */
static unsigned long parse_number(const char **p)
{
    char *end;
    if (!isdigit((unsigned char)**p))
        return 0;
    unsigned long v = strtoul(*p, &end, 10);
    *p = end;
    return v;
}

/* One "N", "N-M", "N-" or "-M" in [s, e). Returns 0 or -EINVAL. */
static int parse_token(const char *s, const char *e, unsigned count, const char *what,
                       struct ctl_items *out, char *err, size_t size)
{
    const char *p = s;
    unsigned long first = 1, last = count;
    bool dash = false;
    if (p < e && *p != '-')
        first = last = parse_number(&p);
    if (p < e && *p == '-') {
        dash = true;
        p++;
        last = p < e ? parse_number(&p) : count;
    }
    if (p != e || first == 0 || last == 0 || (!dash && s == e)) {
        snprintf(err, size, "'%.*s' is not a %s number or range (e.g. 1-16,100)", (int)(e - s), s,
                 what);
        return -EINVAL;
    }
    unsigned long bad = first > count ? first : last > count ? last : 0;
    if (bad) {
        char many[48];
        snprintf(err, size, "%s %lu is out of range: the map has %s 1-%u", what, bad,
                 ctl_plural(what, many, sizeof(many)), count);
        return -EINVAL;
    }
    if (first > last) {
        snprintf(err, size, "%s range %lu-%lu is reversed", what, first, last);
        return -EINVAL;
    }
    if (out->n >= CTL_MAX_RANGES) {
        snprintf(err, size, "too many %s ranges (at most %d)", what, CTL_MAX_RANGES);
        return -EINVAL;
    }
    out->r[out->n].first = (uint16_t)(first - 1);
    out->r[out->n].last = (uint16_t)(last - 1);
    out->n++;
    return 0;
}

int ctl_items_parse(const char *text, unsigned count, const char *what, struct ctl_items *out,
                    char *err, size_t size)
{
    memset(out, 0, sizeof(*out));
    if (!text || !*text || strcmp(text, "all") == 0)
        return 0;
    const char *s = text;
    while (*s) {
        while (*s == ' ')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && t[-1] == ' ')
            t--;
        int rc = parse_token(s, t, count, what, out, err, size);
        if (rc)
            return rc;
        s = *e ? e + 1 : e;
    }
    return 0;
}

bool ctl_items_has(const struct ctl_items *it, unsigned item)
{
    if (it->n == 0)
        return true;
    for (unsigned k = 0; k < it->n; k++)
        if (item >= it->r[k].first && item <= it->r[k].last)
            return true;
    return false;
}

bool ctl_items_limit(struct ctl_items *it, unsigned count)
{
    if (count == 0)
        return false;
    if (it->n == 0) {
        it->n = 1;
        it->r[0].first = 0;
        it->r[0].last = (uint16_t)(count - 1);
        return true;
    }
    unsigned kept = 0;
    for (unsigned k = 0; k < it->n; k++) {
        if (it->r[k].first >= count)
            continue;
        it->r[kept] = it->r[k];
        if (it->r[kept].last >= count)
            it->r[kept].last = (uint16_t)(count - 1);
        kept++;
    }
    it->n = kept;
    return kept > 0;
}

/* ---- needs and plans ----------------------------------------------------------------------- */

void ctl_need_clear(struct ctl_image *img)
{
    memset(img->need, 0, sizeof(img->need));
}

/* Loops over every selected (group, item) of sel. */
#define FOR_EACH_SELECTED(sel, g, i)                                                               \
    for (unsigned g = (sel)->group_first;                                                          \
         g <= (sel)->group_last && g < mbmap_field_groups((sel)->f); g++)                          \
        for (unsigned i = 0; i < (sel)->f->count; i++)                                             \
            if (ctl_items_has(&(sel)->items, i))

void ctl_need_mark(struct ctl_image *img, const struct ctl_sel *sel, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        const struct mbmap_field *f = sel[k].f;
        unsigned width = mbmap_field_width(f);
        FOR_EACH_SELECTED(&sel[k], g, i)
        {
            long a = mbmap_field_addr(f, g, i);
            for (unsigned w = 0; w < width && a >= 0 && a + w < MBMAP_ADDR_SPACE; w++)
                img->need[f->table][a + w] = 1;
        }
    }
}

unsigned ctl_plan(const struct mbmap *m, const struct ctl_image *img, int table,
                  struct mbmap_span *out, unsigned max_out)
{
    unsigned max_qty = table == MBMAP_REGS ? MBMAP_MAX_READ_REGS : MBMAP_MAX_READ_BITS;
    return mbmap_plan_cover(m, table, img->need[table], MBMAP_ADDR_SPACE, max_qty, out, max_out);
}

/* ---- values -------------------------------------------------------------------------------- */

int ctl_values_add(struct ctl_values *out, const struct ctl_value *v)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        struct ctl_value *nv = realloc(out->v, cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        out->v = nv;
        out->cap = cap;
    }
    struct ctl_value *d = &out->v[out->n];
    *d = *v;
    if (v->text && !(d->text = strdup(v->text)))
        return -ENOMEM;
    out->n++;
    return 0;
}

static int decode_one(const struct ctl_image *img, const struct mbmap_field *f, unsigned g,
                      unsigned i, int word_order, struct ctl_values *out)
{
    long a = mbmap_field_addr(f, g, i);
    unsigned width = mbmap_field_width(f);
    if (a < 0 || a + width > MBMAP_ADDR_SPACE)
        return 0;
    struct ctl_value v = { .f = f, .group = (uint16_t)g, .item = (uint16_t)i, .addr = (uint16_t)a };
    char text[2 * 256 + 1];
    if (f->table != MBMAP_REGS) {
        v.value = img->bits[f->table == MBMAP_COILS ? 0 : 1][a];
        v.raw = (uint16_t)v.value;
    } else if (f->type == MBMAP_STRING) {
        v.text = (char *)mbmap_decode_str(f, &img->regs[a], text, sizeof(text));
        v.value = NAN;
    } else {
        v.raw = img->regs[a];
        v.absent = mbmap_decode(f, &img->regs[a], word_order, &v.value) == 1;
    }
    return ctl_values_add(out, &v);
}

int ctl_decode(const struct ctl_image *img, const struct ctl_sel *sel, unsigned n, int word_order,
               struct ctl_values *out)
{
    for (unsigned k = 0; k < n; k++) {
        FOR_EACH_SELECTED(&sel[k], g, i)
        {
            int rc = decode_one(img, sel[k].f, g, i, word_order, out);
            if (rc)
                return rc;
        }
    }
    return 0;
}

void ctl_values_clear(struct ctl_values *v)
{
    for (size_t k = 0; k < v->n; k++)
        free(v->v[k].text);
    v->n = 0;
}

void ctl_values_free(struct ctl_values *v)
{
    ctl_values_clear(v);
    free(v->v);
    memset(v, 0, sizeof(*v));
}

const struct ctl_value *ctl_values_find(const struct ctl_values *v, const char *key, unsigned group,
                                        unsigned item)
{
    for (size_t k = 0; k < v->n; k++) {
        const struct ctl_value *x = &v->v[k];
        if (x->group == group && x->item == item && strcmp(x->f->key, key) == 0)
            return x;
    }
    return NULL;
}

bool ctl_value_same(const struct ctl_value *a, const struct ctl_value *b)
{
    if (a->absent != b->absent || (a->text == NULL) != (b->text == NULL))
        return false;
    if (a->text)
        return strcmp(a->text, b->text) == 0;
    return a->absent || a->value == b->value || (isnan(a->value) && isnan(b->value));
}

/* ---- probing ------------------------------------------------------------------------------- */

long ctl_probe_addr(const struct mbmap *m, int table)
{
    for (unsigned r = 0; r < m->n_ranges; r++) {
        if (m->ranges[r].table != table)
            continue;
        for (unsigned a = m->ranges[r].first; a <= m->ranges[r].last; a++) {
            bool other = false;
            for (int k = 0; k < MBMAP_KIND_COUNT && !other; k++) {
                const struct mbmap *o = mbmap_get(k);
                other = o != m && mbmap_declared(o, table, a, 1);
            }
            if (!other)
                return a;
        }
    }
    return -1;
}
