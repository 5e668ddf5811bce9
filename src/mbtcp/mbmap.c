/* SPDX-License-Identifier: MIT */
/* mbmap.c — the register-map engine: addresses, read planning, rendering, write decoding (pure);
 * value encoding is in mbmap_codec.c. */
#include "bmsgw/mbmap.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/mbmap_maps.h"

static const struct mbmap *const maps[MBMAP_KIND_COUNT] = {
    [MBMAP_MEGA] = &mbmap_mega,
    [MBMAP_TESCOM] = &mbmap_tescom,
    [MBMAP_PACK12S] = &mbmap_pack12s,
    [MBMAP_TESTPATTERN] = &mbmap_testpattern,
};

const struct mbmap *mbmap_get(int kind)
{
    return kind >= 0 && kind < MBMAP_KIND_COUNT ? maps[kind] : NULL;
}

const struct mbmap *mbmap_find(const char *name)
{
    for (unsigned k = 0; name && k < MBMAP_KIND_COUNT; k++)
        if (strcmp(maps[k]->name, name) == 0)
            return maps[k];
    return NULL;
}

/* ---- fields -------------------------------------------------------------------------------- */

unsigned mbmap_field_width(const struct mbmap_field *f)
{
    switch (f->type) {
    case MBMAP_U32:
    case MBMAP_S32:
    case MBMAP_F32:
        return 2;
    case MBMAP_F64:
        return 4;
    case MBMAP_STRING:
        return f->str_regs;
    default:
        return 1;
    }
}

unsigned mbmap_field_groups(const struct mbmap_field *f)
{
    return f->groups ? f->groups : 1;
}

static unsigned field_stride(const struct mbmap_field *f)
{
    return f->stride ? f->stride : mbmap_field_width(f);
}

long mbmap_field_addr(const struct mbmap_field *f, unsigned group, unsigned item)
{
    if (group >= mbmap_field_groups(f) || item >= f->count)
        return -1;
    return (long)f->addr + (long)group * f->group_stride + (long)item * field_stride(f);
}

double mbmap_field_scale(const struct mbmap_field *f)
{
    return f->scale != 0 ? f->scale : 1.0;
}

const struct mbmap_field *mbmap_field_find(const struct mbmap *m, const char *key)
{
    for (unsigned i = 0; key && i < m->n_fields; i++)
        if (strcmp(m->fields[i].key, key) == 0)
            return &m->fields[i];
    return NULL;
}

const struct mbmap_field *mbmap_locate(const struct mbmap *m, int table, unsigned addr,
                                       unsigned *group, unsigned *item, unsigned *offset)
{
    for (unsigned k = 0; k < m->n_fields; k++) {
        const struct mbmap_field *f = &m->fields[k];
        if (f->table != table)
            continue;
        unsigned stride = field_stride(f), width = mbmap_field_width(f);
        for (unsigned g = 0; g < mbmap_field_groups(f); g++) {
            unsigned base = f->addr + g * f->group_stride;
            if (addr < base)
                continue;
            unsigned rel = addr - base, i = rel / stride, off = rel % stride;
            if (i < f->count && off < width) {
                *group = g;
                *item = i;
                *offset = off;
                return f;
            }
        }
    }
    return NULL;
}

const char *mbmap_value_name(const struct mbmap_field *f, unsigned group, unsigned item, char *buf,
                             size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    if (f->group_label && mbmap_field_groups(f) > 1)
        n += (size_t)snprintf(buf, size, "%s %u ", f->group_label, group + 1);
    if (n < size && f->item_label && f->count > 1)
        n += (size_t)snprintf(buf + n, size - n, "%s %u ", f->item_label, item + 1);
    if (n < size)
        snprintf(buf + n, size - n, "%s", f->label);
    return buf;
}

/* The declared range of table containing addr, or NULL. */
static const struct mbmap_range *range_at(const struct mbmap *m, int table, unsigned addr)
{
    for (unsigned i = 0; i < m->n_ranges; i++) {
        const struct mbmap_range *r = &m->ranges[i];
        if (r->table == table && addr >= r->first && addr <= r->last)
            return r;
    }
    return NULL;
}

/* Last address of the declared span (touching ranges joined) that contains addr. */
static unsigned span_end(const struct mbmap *m, int table, const struct mbmap_range *r)
{
    unsigned end = r->last;
    const struct mbmap_range *next;
    while (end + 1 < MBMAP_ADDR_SPACE && (next = range_at(m, table, end + 1)) != NULL)
        end = next->last;
    return end;
}

bool mbmap_declared(const struct mbmap *m, int table, unsigned addr, unsigned qty)
{
    if (qty == 0 || addr + qty > MBMAP_ADDR_SPACE)
        return false;
    const struct mbmap_range *r = range_at(m, table, addr);
    return r && span_end(m, table, r) >= addr + qty - 1;
}

unsigned mbmap_plan_reads(const struct mbmap *m, int table, unsigned first, unsigned last,
                          unsigned max_qty, struct mbmap_span *out, unsigned max_out)
{
    unsigned n = 0, cur = first;
    if (max_qty == 0)
        return 0;
    while (cur <= last && cur < MBMAP_ADDR_SPACE) {
        const struct mbmap_range *r = range_at(m, table, cur);
        if (!r) {
            unsigned next = MBMAP_ADDR_SPACE;
            for (unsigned i = 0; i < m->n_ranges; i++)
                if (m->ranges[i].table == table && m->ranges[i].first > cur &&
                    m->ranges[i].first < next)
                    next = m->ranges[i].first;
            cur = next;
            continue;
        }
        unsigned end = span_end(m, table, r);
        if (end > last)
            end = last;
        unsigned qty = end - cur + 1 < max_qty ? end - cur + 1 : max_qty;
        if (n < max_out)
            out[n] = (struct mbmap_span){ .addr = (uint16_t)cur, .qty = (uint16_t)qty };
        n++;
        cur += qty;
    }
    return n;
}

/* Last address of a read starting at the needed address a: as far as max_qty and the declared
 * span (or, outside the declared ranges, the run of needed addresses) allow, then back to the
 * last needed address. */
static unsigned cover_end(const struct mbmap *m, int table, const uint8_t *need, unsigned size,
                          unsigned a, unsigned max_qty)
{
    const struct mbmap_range *r = range_at(m, table, a);
    unsigned end = a + max_qty - 1;
    if (end >= size)
        end = size - 1;
    if (r) {
        unsigned span = span_end(m, table, r);
        if (span < end)
            end = span;
    } else {
        for (unsigned x = a + 1; x <= end; x++)
            if (!need[x] || range_at(m, table, x)) {
                end = x - 1;
                break;
            }
    }
    while (end > a && !need[end])
        end--;
    return end;
}

unsigned mbmap_plan_cover(const struct mbmap *m, int table, const uint8_t *need, unsigned size,
                          unsigned max_qty, struct mbmap_span *out, unsigned max_out)
{
    unsigned n = 0;
    if (max_qty == 0)
        return 0;
    if (size > MBMAP_ADDR_SPACE)
        size = MBMAP_ADDR_SPACE;
    for (unsigned a = 0; a < size; a++) {
        if (!need[a])
            continue;
        unsigned end = cover_end(m, table, need, size, a, max_qty);
        if (n < max_out)
            out[n] = (struct mbmap_span){ .addr = (uint16_t)a, .qty = (uint16_t)(end - a + 1) };
        n++;
        a = end;
    }
    return n;
}

/* ---- images -------------------------------------------------------------------------------- */

static void encode_str(const struct mbmap_field *f, const char *text, uint16_t *regs)
{
    size_t len = text ? strnlen(text, 2u * f->str_regs) : 0;
    for (unsigned r = 0; r < f->str_regs; r++) {
        unsigned hi = 2 * r < len ? (unsigned char)text[2 * r] : 0;
        unsigned lo = 2 * r + 1 < len ? (unsigned char)text[2 * r + 1] : 0;
        regs[r] = (uint16_t)(hi << 8 | lo);
    }
}

static void mark_field(struct mbmap_image *img, const struct mbmap_field *f, unsigned flag)
{
    unsigned width = mbmap_field_width(f);
    for (unsigned g = 0; g < mbmap_field_groups(f); g++)
        for (unsigned i = 0; i < f->count; i++)
            for (unsigned w = 0; w < width; w++)
                img->flags[f->table][mbmap_field_addr(f, g, i) + w] |= (uint8_t)flag;
}

/* Every register of every value must be declared (a table error otherwise). */
static bool field_declared(const struct mbmap_image *img, const struct mbmap_field *f)
{
    unsigned width = mbmap_field_width(f);
    for (unsigned g = 0; g < mbmap_field_groups(f); g++)
        for (unsigned i = 0; i < f->count; i++) {
            long a = mbmap_field_addr(f, g, i);
            if (a < 0 || a + width > img->size[f->table])
                return false;
            for (unsigned w = 0; w < width; w++)
                if (!(img->flags[f->table][a + w] & MBMAP_A_DECLARED))
                    return false;
        }
    return true;
}

static int image_alloc(struct mbmap_image *img)
{
    for (unsigned i = 0; i < img->map->n_ranges; i++) {
        const struct mbmap_range *r = &img->map->ranges[i];
        if (r->table >= MBMAP_TABLE_COUNT || r->last < r->first)
            return -EINVAL;
        if ((uint32_t)r->last + 1 > img->size[r->table])
            img->size[r->table] = (uint32_t)r->last + 1;
    }
    for (unsigned t = 0; t < MBMAP_TABLE_COUNT; t++) {
        img->flags[t] = calloc(img->size[t] ? img->size[t] : 1, 1);
        if (!img->flags[t])
            return -ENOMEM;
    }
    img->regs = calloc(img->size[MBMAP_REGS] ? img->size[MBMAP_REGS] : 1, sizeof(uint16_t));
    img->bits[0] = calloc(img->size[MBMAP_COILS] ? img->size[MBMAP_COILS] : 1, 1);
    img->bits[1] = calloc(img->size[MBMAP_DISCRETE] ? img->size[MBMAP_DISCRETE] : 1, 1);
    return img->regs && img->bits[0] && img->bits[1] ? 0 : -ENOMEM;
}

int mbmap_image_init(struct mbmap_image *img, const struct mbmap *map, int word_order)
{
    memset(img, 0, sizeof(*img));
    img->map = map;
    img->word_order = word_order;
    int rc = image_alloc(img);
    if (rc)
        goto fail;
    for (unsigned i = 0; i < map->n_ranges; i++) {
        const struct mbmap_range *r = &map->ranges[i];
        unsigned flag = MBMAP_A_DECLARED | (r->flags & MBMAP_LIVE ? MBMAP_A_LIVE : 0);
        for (unsigned a = r->first; a <= r->last; a++)
            img->flags[r->table][a] |= (uint8_t)flag;
    }
    rc = -EINVAL;
    for (unsigned k = 0; k < map->n_fields; k++) {
        const struct mbmap_field *f = &map->fields[k];
        if (f->table >= MBMAP_TABLE_COUNT || f->count == 0 || !field_declared(img, f))
            goto fail;
        if ((f->type == MBMAP_BIT) != (f->table != MBMAP_REGS))
            goto fail;
        if (f->flags & MBMAP_WRITABLE)
            mark_field(img, f, MBMAP_A_WRITE | MBMAP_A_SIM_WRITE);
        if (f->flags & MBMAP_SIM_WRITE)
            mark_field(img, f, MBMAP_A_SIM_WRITE);
    }
    return 0;
fail:
    mbmap_image_deinit(img);
    return rc;
}

void mbmap_image_deinit(struct mbmap_image *img)
{
    free(img->regs);
    free(img->bits[0]);
    free(img->bits[1]);
    for (unsigned t = 0; t < MBMAP_TABLE_COUNT; t++)
        free(img->flags[t]);
    memset(img, 0, sizeof(*img));
}

static void render_value(struct mbmap_image *img, const struct mbmap_field *f, const void *src,
                         unsigned g, unsigned i)
{
    long a = mbmap_field_addr(f, g, i);
    double v = 0;
    bool present = f->get(src, f, g, i, &v);
    if (f->type == MBMAP_BIT) {
        img->bits[f->table][a] = present && !isnan(v) && v != 0;
        return;
    }
    if (present)
        mbmap_encode(f, v, img->word_order, &img->regs[a]);
    else if (f->flags & MBMAP_ABSENT)
        img->regs[a] = f->absent_raw; /* the other registers stay 0 */
}

void mbmap_render(struct mbmap_image *img, const void *src)
{
    memset(img->regs, 0, sizeof(uint16_t) * img->size[MBMAP_REGS]);
    memset(img->bits[0], 0, img->size[MBMAP_COILS]);
    memset(img->bits[1], 0, img->size[MBMAP_DISCRETE]);
    for (unsigned k = 0; k < img->map->n_fields; k++) {
        const struct mbmap_field *f = &img->map->fields[k];
        if (f->type == MBMAP_STRING) {
            for (unsigned g = 0; g < mbmap_field_groups(f); g++)
                for (unsigned i = 0; i < f->count; i++)
                    encode_str(f, f->get_str(src, f), &img->regs[mbmap_field_addr(f, g, i)]);
            continue;
        }
        for (unsigned g = 0; g < mbmap_field_groups(f); g++)
            for (unsigned i = 0; i < f->count; i++)
                render_value(img, f, src, g, i);
    }
}

void mbmap_image_flags(const struct mbmap_image *img, int table, unsigned addr, unsigned qty,
                       unsigned *any, unsigned *all)
{
    unsigned o = 0, a = 0xff;
    for (unsigned k = 0; k < qty; k++) {
        unsigned x = addr + k;
        unsigned fl = x < img->size[table] ? img->flags[table][x] : 0;
        o |= fl;
        a &= fl;
    }
    *any = o;
    *all = qty ? a : 0;
}

/* ---- writes -------------------------------------------------------------------------------- */

int mbmap_write_decode(const struct mbmap_image *img, int table, unsigned addr, unsigned qty,
                       const uint16_t *regs, const uint8_t *bits, bool sim, struct mbmap_write *out,
                       unsigned max_out, unsigned *n)
{
    unsigned any, all, need = sim ? MBMAP_A_SIM_WRITE : MBMAP_A_WRITE;
    int value_error = MBMAP_EX_NONE;
    *n = 0;
    mbmap_image_flags(img, table, addr, qty, &any, &all);
    if (qty == 0 || !(all & need))
        return MBMAP_EX_ILLEGAL_ADDRESS;
    for (unsigned cur = addr; cur < addr + qty;) {
        unsigned g, i, off;
        const struct mbmap_field *f = mbmap_locate(img->map, table, cur, &g, &i, &off);
        unsigned width = f ? mbmap_field_width(f) : 1;
        if (!f || off != 0 || cur + width > addr + qty || f->type == MBMAP_STRING)
            return MBMAP_EX_ILLEGAL_ADDRESS;
        struct mbmap_write w = { .field = f, .group = (uint16_t)g, .item = (uint16_t)i };
        if (table == MBMAP_REGS) {
            w.absent = mbmap_decode(f, &regs[cur - addr], img->word_order, &w.value) == 1;
        } else {
            w.value = bits[cur - addr] ? 1 : 0;
        }
        double eps = mbmap_field_scale(f) * 1e-6; /* raw x scale is inexact in binary */
        if (!w.absent && !(w.value >= f->min - eps && w.value <= f->max + eps))
            value_error = MBMAP_EX_ILLEGAL_VALUE;
        if (*n >= max_out)
            return MBMAP_EX_ILLEGAL_VALUE;
        out[(*n)++] = w;
        cur += width;
    }
    return value_error;
}

/* ---- names --------------------------------------------------------------------------------- */

const char *mbmap_table_name(int table)
{
    switch (table) {
    case MBMAP_COILS:
        return "coils";
    case MBMAP_DISCRETE:
        return "discrete inputs";
    case MBMAP_REGS:
        return "holding/input registers";
    }
    return "unknown";
}

const char *mbmap_type_name(int type)
{
    static const char *const names[] = {
        [MBMAP_U16] = "uint16",  [MBMAP_S16] = "int16",     [MBMAP_U32] = "uint32",
        [MBMAP_S32] = "int32",   [MBMAP_F16] = "float16",   [MBMAP_F32] = "float32",
        [MBMAP_F64] = "float64", [MBMAP_STRING] = "string", [MBMAP_BIT] = "bit",
    };
    return type >= 0 && type <= MBMAP_BIT ? names[type] : "unknown";
}

const char *mbmap_exception_name(int code)
{
    switch (code) {
    case MBMAP_EX_NONE:
        return "no exception";
    case MBMAP_EX_ILLEGAL_FUNCTION:
        return "illegal function";
    case MBMAP_EX_ILLEGAL_ADDRESS:
        return "illegal data address";
    case MBMAP_EX_ILLEGAL_VALUE:
        return "illegal data value";
    case MBMAP_EX_DEVICE_FAILURE:
        return "slave device failure";
    case 0x05:
        return "acknowledge";
    case 0x06:
        return "slave device busy";
    case 0x08:
        return "memory parity error";
    case 0x0A:
        return "gateway path unavailable";
    case MBMAP_EX_GATEWAY_TARGET:
        return "gateway target device failed to respond";
    }
    return "unknown exception";
}
