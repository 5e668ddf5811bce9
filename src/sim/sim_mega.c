/* SPDX-License-Identifier: MIT */
/* sim_mega.c — the simulated mega BMS: strings in parallel, published as a battery system. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/battery_stages.h"
#include "bmsgw/config.h"
#include "bmsgw/sim_devices.h"

/* A temperature written as this (or above) releases a forced sensor (raw 0x7FFF x 0.1). */
#define TEMP_RELEASE_C 3276.65

void sim_mega_params_default(struct sim_mega_params *p)
{
    *p = (struct sim_mega_params){
        .strings = 24,
        .cells = MBMAP_MEGA_CELLS,
        .sensors = MBMAP_MEGA_SENSORS,
        .chemistry = CFG_CHEM_LFP,
        .soc_pct = 60,
        .max_current_a = 100,
        .seed = 1,
    };
}

/* Items of string s when n are spread evenly over the strings. */
static unsigned share(unsigned n, unsigned strings, unsigned s)
{
    return n / strings + (s < n % strings ? 1 : 0);
}

/* String and index in it of the global item k (cells or sensors); false beyond the total. */
static bool locate(const struct sim_mega *m, unsigned k, bool sensors, unsigned *s, unsigned *i)
{
    for (unsigned x = 0; x < m->p.strings; x++) {
        unsigned n = share(sensors ? m->p.sensors : m->p.cells, m->p.strings, x);
        if (k < n) {
            *s = x;
            *i = k;
            return true;
        }
        k -= n;
    }
    return false;
}

static void publish_string(struct sim_mega *m, unsigned s, unsigned *cell, unsigned *sensor,
                           int64_t now_ms)
{
    struct bmsgw_system *sys = m->sys;
    struct bmsgw_string *st = &sys->strings[s];
    const struct battery *b = &m->bat[s];
    unsigned lo = battery_min_cell(b), hi = battery_max_cell(b);
    snprintf(st->name, sizeof(st->name), "string %u", s + 1);
    st->online = true;
    st->sample_ms = now_ms;
    st->cell_first = (uint16_t)*cell;
    st->cell_count = (uint16_t)b->p.cells;
    st->sensor_first = (uint16_t)*sensor;
    st->sensor_count = (uint16_t)b->p.sensors;
    st->pack_v = b->pack_v;
    st->current_a = b->current_a;
    st->soc_pct = b->est_soc_pct;
    st->soh_pct = m->soh_pct[s];
    st->capacity_ah = b->p.capacity_ah;
    st->min_cell_mv = battery_cell_mv(b, lo);
    st->max_cell_mv = battery_cell_mv(b, hi);
    st->min_cell_no = (uint16_t)(lo + 1);
    st->max_cell_no = (uint16_t)(hi + 1);
    st->mosfet_temp_dc = (int16_t)lround((b->p.ambient_c + 4) * 10);
    st->state = b->current_a >= MBMAP_IDLE_CURRENT_A    ? BMSGW_BMS_CHARGING
                : b->current_a <= -MBMAP_IDLE_CURRENT_A ? BMSGW_BMS_DISCHARGING
                                                        : BMSGW_BMS_IDLE;
    st->charged_wh = b->charged_wh;
    st->discharged_wh = b->discharged_wh;
    st->link.state = BMSGW_LINK_UP;
    st->link.last_ok_ms = now_ms;
    for (unsigned c = 0; c < b->p.cells; c++, (*cell)++) {
        sys->cell_mv[*cell] = battery_cell_mv(b, c);
        sys->cell_flags[*cell] = b->cells[c].balancing ? BMSGW_CELL_BALANCING : 0;
    }
    for (unsigned t = 0; t < b->p.sensors; t++, (*sensor)++)
        sys->sensor_dc[*sensor] = battery_sensor_dc(b, t);
}

/* Rebuild the published system from the batteries and run the daemon's composer over it. */
static void publish(struct sim_mega *m, int64_t now_ms)
{
    struct bmsgw_system *sys = m->sys;
    unsigned cell = 0, sensor = 0;
    uint64_t gen = sys->generation;
    memset(sys, 0, sizeof(*sys));
    sys->string_count = (uint16_t)m->p.strings;
    for (unsigned s = 0; s < m->p.strings; s++)
        publish_string(m, s, &cell, &sensor, now_ms);
    sys->cell_count = (uint16_t)cell;
    sys->sensor_count = (uint16_t)sensor;
    composer_run(sys, now_ms, &m->composer);
    sys->generation = gen + 1;
    sys->updated_ms = now_ms;
}

static int init_strings(struct sim_mega *m)
{
    const struct sim_mega_params *p = &m->p;
    for (unsigned s = 0; s < p->strings; s++) {
        struct battery_params bp;
        battery_params_default(&bp, p->chemistry);
        bp.cells = share(p->cells, p->strings, s);
        bp.sensors = share(p->sensors, p->strings, s);
        bp.soc_pct = fmin(95, fmax(5, p->soc_pct + 4 * battery_rand_normal(&m->rng)));
        bp.ambient_c = 22 + 1.5 * battery_rand_normal(&m->rng);
        bp.seed = p->seed * 1000 + s + 1;
        int rc = battery_init(&m->bat[s], &bp);
        if (rc)
            return rc;
        m->soh_pct[s] = fmin(100, 96 + 2 * battery_rand_normal(&m->rng));
    }
    return 0;
}

int sim_mega_init(struct sim_mega *m, const struct sim_mega_params *p, int64_t now_ms)
{
    memset(m, 0, sizeof(*m));
    if (p->strings < 1 || p->strings > BMSGW_MAX_STRINGS || p->cells < p->strings ||
        p->cells > MBMAP_MEGA_CELLS || p->sensors > MBMAP_MEGA_SENSORS)
        return -EINVAL;
    m->p = *p;
    m->rng = p->seed ? p->seed : 1;
    m->bat = calloc(p->strings, sizeof(*m->bat));
    m->soh_pct = calloc(p->strings, sizeof(*m->soh_pct));
    m->sys = calloc(1, sizeof(*m->sys));
    m->control = control_new();
    int rc = m->bat && m->soh_pct && m->sys && m->control ? init_strings(m) : -ENOMEM;
    if (rc) {
        sim_mega_free(m);
        return rc;
    }
    composer_init(&m->composer, NULL, m->control);
    rc = battery_stages_register(&m->composer);
    if (rc) {
        sim_mega_free(m);
        return rc;
    }
    publish(m, now_ms);
    return 0;
}

void sim_mega_free(struct sim_mega *m)
{
    for (unsigned s = 0; m->bat && s < m->p.strings; s++)
        battery_free(&m->bat[s]);
    free(m->bat);
    free(m->soh_pct);
    free(m->sys);
    control_free(m->control);
    memset(m, 0, sizeof(*m));
}

void sim_mega_step(struct sim_mega *m, double dt_s, int64_t now_ms)
{
    double limit = m->p.max_current_a * m->p.strings;
    m->walk_a = sim_walk(m->walk_a, limit, 0.02 * limit, dt_s, &m->rng);
    bool no_charge = control_blocked(m->control, CONTROL_CHARGE);
    bool no_discharge = control_blocked(m->control, CONTROL_DISCHARGE);
    for (unsigned s = 0; s < m->p.strings; s++) {
        struct battery *b = &m->bat[s];
        double i = sim_bms_allowed_current(b, m->walk_a / m->p.strings);
        if ((no_charge && i > 0) || (no_discharge && i < 0))
            i = 0;
        battery_step(b, i, dt_s);
    }
    publish(m, now_ms);
}

void sim_mega_source(const struct sim_mega *m, struct mbmap_mega_src *out)
{
    struct control_state cs;
    control_get(m->control, &cs);
    mbmap_mega_from_system(out, m->sys, &cs, false);
}

/* Every write must be possible before any is applied. */
static int check(const struct sim_mega *m, const struct mbmap_write *w)
{
    static const char *const keys[] = { "soc", "charge_enable", "discharge_enable", "ack_alerts" };
    unsigned s, i;
    const char *key = w->field->key;
    if (strcmp(key, "cell_voltage") == 0 || strcmp(key, "temperature") == 0)
        return locate(m, w->item, key[0] == 't', &s, &i) ? 0 : MBMAP_EX_ILLEGAL_ADDRESS;
    for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        if (strcmp(key, keys[k]) == 0)
            return 0;
    return MBMAP_EX_ILLEGAL_ADDRESS;
}

static void inject(struct sim_mega *m, const struct mbmap_write *w, int64_t now_ms)
{
    const char *key = w->field->key;
    unsigned s, i;
    bool on = w->value != 0;
    if (strcmp(key, "cell_voltage") == 0 && locate(m, w->item, false, &s, &i)) {
        m->bat[s].cells[i].forced_mv = (int)lround(w->value); /* 0 releases */
    } else if (strcmp(key, "temperature") == 0 && locate(m, w->item, true, &s, &i)) {
        struct battery_sensor *t = &m->bat[s].sensors[i];
        t->absent = w->absent;
        t->forced = !w->absent && w->value < TEMP_RELEASE_C;
        t->forced_c = w->value;
    } else if (strcmp(key, "soc") == 0) {
        for (unsigned x = 0; x < m->p.strings; x++)
            battery_set_soc(&m->bat[x], w->value);
    } else if (strcmp(key, "charge_enable") == 0) {
        control_set_block(m->control, CONTROL_CHARGE, !on, "modbus coil 100", now_ms);
    } else if (strcmp(key, "discharge_enable") == 0) {
        control_set_block(m->control, CONTROL_DISCHARGE, !on, "modbus coil 101", now_ms);
    } else if (strcmp(key, "ack_alerts") == 0 && on) {
        control_request_ack_all(m->control);
    }
}

int sim_mega_write(struct sim_mega *m, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    for (unsigned k = 0; k < n; k++) {
        int ex = check(m, &w[k]);
        if (ex)
            return ex;
    }
    for (unsigned k = 0; k < n; k++)
        inject(m, &w[k], now_ms);
    publish(m, now_ms);
    return MBMAP_EX_NONE;
}
