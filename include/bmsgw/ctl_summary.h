/* SPDX-License-Identifier: MIT */
/* ctl_summary.h — statistics of cells and temperatures, per string and for the whole system. */
#ifndef BMSGW_CTL_SUMMARY_H
#define BMSGW_CTL_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "bmsgw/ctl_query.h"
#include "bmsgw/mbmap.h"

/* Minimum, maximum (and which value had them), sum and count of some samples. */
struct ctl_stats {
    unsigned n;
    double min, max, sum;
    const struct ctl_value *min_at, *max_at;
};

void ctl_stats_init(struct ctl_stats *s);
void ctl_stats_add(struct ctl_stats *s, const struct ctl_value *at, double x);
/* NaN when empty. */
double ctl_stats_avg(const struct ctl_stats *s);
double ctl_stats_spread(const struct ctl_stats *s);

/* Cells with a value of 0 and absent sensors are not installed; they count nowhere. */
bool ctl_value_empty(const struct ctl_value *v);

struct ctl_string_sum {
    unsigned no; /* 1-based; 0 for the whole system */
    struct ctl_stats cells_mv;
    struct ctl_stats temps_c;
    struct ctl_stats soc_pct;
    struct ctl_stats current_a;
    int status; /* -1 when the map has none, else 0 (no data / error) or 1 (normal) */
};

/* How the mega map's flat cell and sensor numbers split into strings (0 sensors: the
 * temperatures are summarised for the system only). */
struct ctl_layout {
    unsigned cells_per_string;
    unsigned sensors_per_string;
};

struct ctl_strings {
    unsigned n;
    struct ctl_string_sum *s; /* strings with data, in order */
    struct ctl_string_sum system;
};

/*
 * Summarise the values of a strings view: for the mega map cell k belongs to string
 * (k - 1) / cells_per_string + 1 (sensors likewise); for the Tescom map a string is an arm (cell
 * voltages in V are given in mV). Strings without any cell, sensor, current or status are left
 * out. Returns 0 or -ENOMEM.
 */
int ctl_strings_build(const struct ctl_values *v, const struct ctl_layout *lay,
                      struct ctl_strings *out);
void ctl_strings_free(struct ctl_strings *s);

/* {"layout": {...}, "strings": [{"string": 1, "cells_mv": {"count", "min", "min_at", "max",
 * "max_at", "avg", "spread"}, "temperatures_c": {...}, "soc_pct", "current_a", "status"}],
 * "system": {...}} into obj. Returns 0 or -ENOMEM. */
int ctl_strings_json(json_t *obj, const struct ctl_strings *s, const struct ctl_layout *lay);
void ctl_strings_text(FILE *out, const struct ctl_strings *s, const char *label);
void ctl_strings_csv(FILE *out, const struct ctl_strings *s);

#endif
