/* SPDX-License-Identifier: MIT */
/* bms_sample.c — what every BMS driver shares: a decoded sample into the model at its string's
 * range, the series-cell check, which events of a log are new, and the ranges of the strings. */
#include "bms_poller.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int bms_sample_check_cells(const struct bms_sample *s, unsigned expected, const char *source,
                           char *why, size_t why_size)
{
    if (expected == 0 || s->cell_count == expected)
        return 0;
    if (why && why_size)
        snprintf(why, why_size, "the BMS reports %u series cells, the string has %u (%s)",
                 s->cell_count, expected, source);
    return -EDOM;
}

static void apply_extremes(const struct bms_sample *s, struct bmsgw_string *st)
{
    st->min_cell_mv = st->max_cell_mv = s->cell_mv[0];
    st->min_cell_no = st->max_cell_no = 1;
    for (unsigned i = 1; i < s->cell_count; i++) {
        if (s->cell_mv[i] < st->min_cell_mv) {
            st->min_cell_mv = s->cell_mv[i];
            st->min_cell_no = (uint16_t)(i + 1);
        }
        if (s->cell_mv[i] > st->max_cell_mv) {
            st->max_cell_mv = s->cell_mv[i];
            st->max_cell_no = (uint16_t)(i + 1);
        }
    }
}

static bool fits(const struct bms_sample *s, unsigned i, const struct bms_range *r)
{
    return i < BMSGW_MAX_STRINGS && s->cell_count >= 1 && s->cell_count <= r->cell_count &&
           r->cell_count <= BMS_STRING_CELLS_MAX && s->sensor_count <= r->sensor_count &&
           r->sensor_count <= BMS_STRING_SENSORS_MAX &&
           (unsigned)r->cell_first + r->cell_count <= BMSGW_MAX_CELLS &&
           (unsigned)r->sensor_first + r->sensor_count <= BMSGW_MAX_SENSORS;
}

void bms_sample_apply(const struct bms_sample *s, struct bmsgw_system *sys, unsigned i,
                      const struct bms_range *r, const char *bms_name, int64_t sample_ms)
{
    if (!fits(s, i, r))
        return;
    struct bmsgw_string *st = &sys->strings[i];
    unsigned c0 = r->cell_first, s0 = r->sensor_first;
    st->cell_first = r->cell_first;
    st->cell_count = s->cell_count;
    st->sensor_first = r->sensor_first;
    st->sensor_count = r->sensor_count;
    for (unsigned k = 0; k < r->cell_count; k++) {
        bool used = k < s->cell_count;
        sys->cell_mv[c0 + k] = used ? s->cell_mv[k] : 0;
        sys->cell_flags[c0 + k] = used ? s->cell_flags[k] : 0;
    }
    for (unsigned k = 0; k < r->sensor_count; k++)
        sys->sensor_dc[s0 + k] = k < s->sensor_count ? s->sensor_dc[k] : BMSGW_TEMP_ABSENT;
    if (sys->cell_count < c0 + r->cell_count)
        sys->cell_count = (uint16_t)(c0 + r->cell_count);
    if (sys->sensor_count < s0 + r->sensor_count)
        sys->sensor_count = (uint16_t)(s0 + r->sensor_count);

    st->pack_v = s->pack_v;
    st->current_a = s->current_a;
    st->soc_pct = s->soc_pct;
    st->soh_pct = s->soh_pct;
    st->mosfet_temp_dc = s->mosfet_temp_dc;
    st->bms_name = bms_name;
    st->state = s->state;
    st->status_code = s->status_code;
    st->time_left_s = s->time_left_s;
    st->lifetime_s = s->lifetime_s;
    apply_extremes(s, st);
    st->sample_ms = sample_ms;
    st->online = true;
}

static bool event_in(const struct bmsgw_bms_event *list, unsigned n,
                     const struct bmsgw_bms_event *e)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i].timestamp_s == e->timestamp_s && list[i].id == e->id)
            return true;
    return false;
}

unsigned bms_events_new(const struct bmsgw_bms_event *prev, unsigned n_prev, bool baseline,
                        const struct bmsgw_bms_event *cur, unsigned n_cur,
                        struct bmsgw_bms_event *fresh)
{
    if (!baseline)
        return 0;
    uint32_t newest = 0;
    for (unsigned i = 0; i < n_prev; i++)
        if (prev[i].timestamp_s > newest)
            newest = prev[i].timestamp_s;
    unsigned n = 0;
    /* cur is newest first: walk it backwards so fresh[] comes out oldest first */
    for (unsigned i = n_cur; i-- > 0;) {
        const struct bmsgw_bms_event *e = &cur[i];
        if (event_in(prev, n_prev, e))
            continue;
        if (n_prev > 0 && e->timestamp_s < newest)
            continue;
        fresh[n++] = *e;
    }
    return n;
}

void bms_layout(const struct cfg_bms *bms, const struct bms_driver *const *drivers,
                struct bms_range out[CFG_MAX_PORTS])
{
    unsigned cell = 0, sensor = 0;
    for (int i = 0; i < bms->port_count && i < CFG_MAX_PORTS; i++) {
        const struct bms_driver *d = bms_driver_pick(drivers, &bms->ports[i]);
        /* the driver's maximum, not bms.ports[].cells: a string's registers in the maps stay
         * where they are when its count is set or changed */
        unsigned cells = d->max_cells;
        if (cells > BMS_STRING_CELLS_MAX)
            cells = BMS_STRING_CELLS_MAX;
        unsigned sensors =
            d->sensors > BMS_STRING_SENSORS_MAX ? BMS_STRING_SENSORS_MAX : d->sensors;
        out[i] = (struct bms_range){ .cell_first = (uint16_t)cell,
                                     .cell_count = (uint16_t)cells,
                                     .sensor_first = (uint16_t)sensor,
                                     .sensor_count = (uint16_t)sensors };
        cell += cells;
        sensor += sensors;
    }
}
