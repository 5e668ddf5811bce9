/* SPDX-License-Identifier: MIT */
/* sysgen.c — battery systems for the battery and CAN-area tests. */
#include "sysgen.h"

#include <stdlib.h>
#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/tinybms.h"

#define STALE_MS 3000

static void layout(struct bmsgw_system *s, unsigned strings, unsigned cells, unsigned sensors)
{
    s->string_count = (uint16_t)strings;
    s->cell_count = (uint16_t)(strings * cells);
    s->sensor_count = (uint16_t)(strings * sensors);
    for (unsigned i = 0; i < strings; i++) {
        struct bmsgw_string *st = &s->strings[i];
        st->cell_first = (uint16_t)(i * cells);
        st->cell_count = (uint16_t)cells;
        st->sensor_first = (uint16_t)(i * sensors);
        st->sensor_count = (uint16_t)sensors;
        st->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    }
}

struct bmsgw_system *sysgen_new(unsigned strings, unsigned cells, unsigned sensors, uint16_t mv,
                                int16_t dc, int64_t now_ms)
{
    struct bmsgw_system *s = calloc(1, sizeof(*s));
    layout(s, strings, cells, sensors);
    for (unsigned i = 0; i < strings; i++) {
        struct bmsgw_string *st = &s->strings[i];
        st->name[0] = (char)('A' + i);
        st->online = true;
        st->pack_v = cells * mv / 1000.0;
        st->soc_pct = 50;
        st->soh_pct = 100;
        st->capacity_ah = 100;
        st->state = BMSGW_BMS_IDLE;
        st->link.state = BMSGW_LINK_UP;
    }
    for (unsigned c = 0; c < s->cell_count; c++)
        s->cell_mv[c] = mv;
    for (unsigned t = 0; t < s->sensor_count; t++)
        s->sensor_dc[t] = dc;
    sysgen_touch(s, now_ms);
    return s;
}

void sysgen_driver(struct bmsgw_system *s)
{
    for (unsigned i = 0; i < s->string_count; i++) {
        struct bmsgw_string *st = &s->strings[i];
        st->bms_name = TINYBMS_NAME;
        tinybms_cutoffs(st->settings_reg, st);
        for (unsigned k = 0; k < st->event_count && k < BMSGW_EVENTS_MAX; k++)
            tinybms_event_describe(&st->events[k]);
    }
}

void sysgen_touch(struct bmsgw_system *s, int64_t now_ms)
{
    sysgen_driver(s);
    for (unsigned i = 0; i < s->string_count; i++)
        if (s->strings[i].online)
            s->strings[i].sample_ms = now_ms;
    bmsgw_system_aggregate(s, now_ms, STALE_MS);
}

void sysgen_cell(struct bmsgw_system *s, unsigned si, unsigned no, uint16_t mv)
{
    s->cell_mv[s->strings[si].cell_first + no - 1] = mv;
}

void sysgen_from_battery(struct bmsgw_system *s, unsigned si, const struct battery *b,
                         int64_t now_ms)
{
    struct bmsgw_string *st = &s->strings[si];
    for (unsigned c = 0; c < st->cell_count && c < b->p.cells; c++)
        s->cell_mv[st->cell_first + c] = battery_cell_mv(b, c);
    for (unsigned t = 0; t < st->sensor_count && t < b->p.sensors; t++)
        s->sensor_dc[st->sensor_first + t] = battery_sensor_dc(b, t);
    st->pack_v = b->pack_v;
    st->current_a = b->current_a;
    st->soc_pct = b->est_soc_pct;
    st->online = true;
    st->sample_ms = now_ms;
    bmsgw_system_aggregate(s, now_ms, STALE_MS);
}

static unsigned rnd(uint64_t *rng, unsigned n)
{
    return (unsigned)(battery_rand_uniform(rng) * n) % n;
}

static void random_string(struct bmsgw_system *s, unsigned i, uint64_t *rng, int64_t now_ms)
{
    struct bmsgw_string *st = &s->strings[i];
    unsigned base = 2600 + rnd(rng, 1100);
    double sum = 0;
    for (unsigned c = 0; c < st->cell_count; c++) {
        uint16_t mv = (uint16_t)(base + rnd(rng, 4) * rnd(rng, 60));
        if (rnd(rng, 50) == 0)
            mv = (uint16_t)(2400 + rnd(rng, 1500));
        s->cell_mv[st->cell_first + c] = mv;
        sum += mv;
    }
    for (unsigned t = 0; t < st->sensor_count; t++)
        s->sensor_dc[st->sensor_first + t] =
            rnd(rng, 6) == 0 ? BMSGW_TEMP_ABSENT : (int16_t)((int)rnd(rng, 900) - 300);
    st->pack_v = sum / 1000.0;
    st->current_a = (double)rnd(rng, 400) - 200.0;
    st->soc_pct = rnd(rng, 101);
    st->soh_pct = 90 + rnd(rng, 11);
    st->capacity_ah = 50 + rnd(rng, 200);
    st->state = rnd(rng, 15) == 0 ? BMSGW_BMS_FAULT : BMSGW_BMS_IDLE;
    st->online = rnd(rng, 8) != 0;
    st->sample_ms = now_ms - (rnd(rng, 10) == 0 ? 5000 : 0);
    st->settings_valid = rnd(rng, 2) == 0;
    st->settings_reg[315 - 300] = (uint16_t)(3400 + rnd(rng, 400));
    st->settings_reg[316 - 300] = (uint16_t)(2500 + rnd(rng, 400));
    st->settings_reg[317 - 300] = (uint16_t)(50 + rnd(rng, 300));
    st->settings_reg[318 - 300] = (uint16_t)(20 + rnd(rng, 200));
    st->settings_reg[319 - 300] = (uint16_t)(40 + rnd(rng, 40));
    st->settings_reg[320 - 300] = (uint16_t)(int16_t)((int)rnd(rng, 20) - 10);
}

void sysgen_random(struct bmsgw_system *s, uint64_t *rng, int64_t now_ms)
{
    unsigned strings = 1 + rnd(rng, 4), cells = 4 + rnd(rng, 13), sensors = rnd(rng, 3);
    memset(s, 0, sizeof(*s));
    layout(s, strings, cells, sensors);
    for (unsigned i = 0; i < strings; i++)
        random_string(s, i, rng, now_ms);
    bmsgw_system_aggregate(s, now_ms, STALE_MS);
}
