/* SPDX-License-Identifier: MIT */
/* ctl_query.h — bmsctl's reads: selections of map values, batched read plans, decoding. */
#ifndef BMSGW_CTL_QUERY_H
#define BMSGW_CTL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/mbmap.h"

/*
 * A client names what it wants as selections of map fields (never addresses): items of some
 * groups of one field. The addresses they need are marked in an image, planned into the fewest
 * reads the protocol's quantity limits allow, read (ctl_link.h), and decoded with the map's own
 * types, scales and word order into values. Pure: no I/O.
 */

#define CTL_MAX_RANGES 32

/* Items of a field, 0-based inclusive ranges; n == 0 selects every item. */
struct ctl_items {
    unsigned n;
    struct {
        uint16_t first, last;
    } r[CTL_MAX_RANGES];
};

/*
 * Parse a RANGE of 1-based item numbers: "17", "1-16", "100-" (to the last), "-8" (from the
 * first), lists of those ("1-4,9,200-"); "" or "all" = every item. count is the field's item
 * count, what names the items in messages ("cell"). Returns 0, or -EINVAL with the reason in
 * err ("cell 5000 is out of range: the map has cells 1-4992").
 */
int ctl_items_parse(const char *text, unsigned count, const char *what, struct ctl_items *out,
                    char *err, size_t size);

/* The plural of an item or group label ("cell" -> "cells", "battery" -> "batteries"). */
const char *ctl_plural(const char *label, char *buf, size_t size);

/* True when item (0-based) is selected. */
bool ctl_items_has(const struct ctl_items *it, unsigned item);

/* Keep only items below count (the installed ones). Returns false when nothing is left. */
bool ctl_items_limit(struct ctl_items *it, unsigned count);

/* Items [group_first, group_last] x items of one field. */
struct ctl_sel {
    const struct mbmap_field *f;
    uint16_t group_first, group_last;
    struct ctl_items items;
};

/* The client's view of the device: what was read, and what the next read needs. */
struct ctl_image {
    uint16_t regs[MBMAP_ADDR_SPACE];
    uint8_t bits[2][MBMAP_ADDR_SPACE]; /* coils, discrete inputs: 0 or 1 */
    uint8_t need[MBMAP_TABLE_COUNT][MBMAP_ADDR_SPACE];
};

/* Forget what is needed. */
void ctl_need_clear(struct ctl_image *img);
/* Mark every register (or bit) of every selected value as needed. */
void ctl_need_mark(struct ctl_image *img, const struct ctl_sel *sel, unsigned n);
/* The reads that cover what table needs (FC3/FC4 at most 125 registers, FC1/FC2 2000 bits).
 * Writes up to max_out; returns how many are needed. */
unsigned ctl_plan(const struct mbmap *m, const struct ctl_image *img, int table,
                  struct mbmap_span *out, unsigned max_out);

/* One decoded value. */
struct ctl_value {
    const struct mbmap_field *f;
    uint16_t group, item; /* 0-based */
    uint16_t addr;        /* first register (or bit) */
    bool absent;          /* the field's "not measured" marker: value is NaN */
    double value;         /* engineering units (0/1 for bits) */
    uint16_t raw;         /* the first register (bit fields) */
    char *text;           /* MBMAP_STRING: the text (owned by the set), else NULL */
};

struct ctl_values {
    struct ctl_value *v;
    size_t n, cap;
};

/* Append the selected values, decoded from img in word_order (order: selection, group, item).
 * Returns 0 or -ENOMEM. */
int ctl_decode(const struct ctl_image *img, const struct ctl_sel *sel, unsigned n, int word_order,
               struct ctl_values *out);
/* Append one value (its text is copied). Returns 0 or -ENOMEM. */
int ctl_values_add(struct ctl_values *out, const struct ctl_value *v);
/* Empty the set (capacity kept) / free it. */
void ctl_values_clear(struct ctl_values *v);
void ctl_values_free(struct ctl_values *v);
/* The value of field key at (group, item), or NULL. */
const struct ctl_value *ctl_values_find(const struct ctl_values *v, const char *key, unsigned group,
                                        unsigned item);
/* True when a and b hold the same reading (value, absence and text). */
bool ctl_value_same(const struct ctl_value *a, const struct ctl_value *b);

/* The first address of table that m declares and no other map does, or -1: reading it tells a
 * device that serves m from one that serves another map. */
long ctl_probe_addr(const struct mbmap *m, int table);

#endif
