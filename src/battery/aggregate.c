/* SPDX-License-Identifier: MIT */
/* aggregate.c — the system aggregates over the fresh strings (pure; a composer stage). */
#include "bmsgw/aggregate.h"

#include <math.h>
#include <string.h>

struct temp_acc {
    long sum;
    unsigned n;
};

static void agg_cells(const struct bmsgw_system *sys, unsigned si, struct bmsgw_aggregate *a,
                      double *sum_mv, unsigned *n_cells)
{
    const struct bmsgw_string *st = &sys->strings[si];
    for (unsigned c = 0; c < st->cell_count; c++) {
        unsigned k = st->cell_first + c;
        if (k >= BMSGW_MAX_CELLS)
            break;
        uint16_t mv = sys->cell_mv[k];
        if (sys->cell_flags[k] & BMSGW_CELL_BALANCING)
            a->balancing = true;
        if (mv == 0)
            continue;
        if (*n_cells == 0 || mv < a->min_cell_mv) {
            a->min_cell_mv = mv;
            a->min_cell = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(c + 1) };
        }
        if (*n_cells == 0 || mv > a->max_cell_mv) {
            a->max_cell_mv = mv;
            a->max_cell = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(c + 1) };
        }
        *sum_mv += mv;
        (*n_cells)++;
    }
}

static void agg_temps(const struct bmsgw_system *sys, unsigned si, struct bmsgw_aggregate *a,
                      struct temp_acc *acc)
{
    const struct bmsgw_string *st = &sys->strings[si];
    for (unsigned t = 0; t < st->sensor_count; t++) {
        unsigned k = st->sensor_first + t;
        if (k >= BMSGW_MAX_SENSORS)
            break;
        int16_t dc = sys->sensor_dc[k];
        if (dc == BMSGW_TEMP_ABSENT)
            continue;
        if (acc->n == 0 || dc < a->min_temp_dc) {
            a->min_temp_dc = dc;
            a->min_temp = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(t + 1) };
        }
        if (acc->n == 0 || dc > a->max_temp_dc) {
            a->max_temp_dc = dc;
            a->max_temp = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(t + 1) };
        }
        acc->sum += dc;
        acc->n++;
    }
}

static void agg_string_values(const struct bmsgw_string *st, struct bmsgw_aggregate *a,
                              double *w_soc, double *w_soh, double *w)
{
    double weight = st->capacity_ah > 0 ? st->capacity_ah : 1.0;
    a->pack_v += st->pack_v;
    a->current_a += st->current_a;
    a->capacity_ah += st->capacity_ah;
    *w_soc += st->soc_pct * weight;
    *w_soh += st->soh_pct * weight;
    *w += weight;
    if (st->state == BMSGW_BMS_FAULT)
        a->fault = true;
    if (a->oldest_sample_ms == 0 || st->sample_ms < a->oldest_sample_ms)
        a->oldest_sample_ms = st->sample_ms;
    if (st->sample_ms > a->newest_sample_ms)
        a->newest_sample_ms = st->sample_ms;
}

void bmsgw_system_aggregate(struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms)
{
    struct bmsgw_aggregate a;
    memset(&a, 0, sizeof(a));
    a.min_cell.string = a.max_cell.string = a.min_temp.string = a.max_temp.string = -1;
    a.min_temp_dc = a.max_temp_dc = a.avg_temp_dc = BMSGW_TEMP_ABSENT;
    double w_soc = 0, w_soh = 0, w = 0, sum_mv = 0;
    unsigned n_cells = 0;
    struct temp_acc acc = { 0, 0 };
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;

    a.strings_configured = (uint16_t)n;
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        a.charged_wh += st->charged_wh;
        a.discharged_wh += st->discharged_wh;
        if (!bmsgw_string_is_fresh(st, now_ms, stale_after_ms))
            continue;
        a.strings_online++;
        agg_string_values(st, &a, &w_soc, &w_soh, &w);
        agg_cells(sys, i, &a, &sum_mv, &n_cells);
        agg_temps(sys, i, &a, &acc);
    }
    if (a.strings_online) {
        a.pack_v /= a.strings_online;
        a.soc_pct = w_soc / w;
        a.soh_pct = w_soh / w;
    }
    if (n_cells)
        a.avg_cell_mv = sum_mv / n_cells;
    if (acc.n) {
        a.temp_count = (uint16_t)acc.n;
        a.avg_temp_dc = (int16_t)lround((double)acc.sum / acc.n);
    }
    sys->agg = a;
}
