/* SPDX-License-Identifier: MIT */
/* oracle-gen.c — configurations, sequences and extreme systems for the safety oracle. */
#include "oracle-gen.h"

#include <stdio.h>
#include <string.h>

/* ---- configurations ---------------------------------------------------------------------- */

void gen_config(struct rig *g, bool extreme)
{
    struct bmsgw_config *c = &g->cfg;
    uint64_t *r = &g->rng;
    config_defaults(c);
    c->limits.chemistry = range(r, 0, CFG_CHEM_COUNT - 1);
    c->limits.preset_explicit = 0;
    config_apply_presets(c);
    c->limits.max_cvl_v = chance(r, 0.25) ? range(r, 10, 70) : 0;
    c->limits.cvl_slew_mv_per_s = chance(r, 0.1) ? range(r, 1, 10000) : range(r, 1, 200);
    c->limits.recover_hold_s = range(r, 0, 40);
    c->limits.ccl_ramp_a_per_s = chance(r, 0.2) ? range(r, 1, 1000) : range(r, 1, 100) / 10.0;
    c->limits.max_charge_current_a =
        extreme || chance(r, 0.05) ? range(r, 0, 10000) : range(r, 10, 200);
    c->limits.max_discharge_current_a =
        extreme || chance(r, 0.05) ? range(r, 0, 10000) : range(r, 10, 300);
    c->limits.no_sensor_charge_factor = range(r, 0, 10) / 10.0;
    c->alarms.thresholds_from_bms = chance(r, 0.6);
    c->can.on_stale = chance(r, 0.5) ? CFG_STALE_BLOCK : CFG_STALE_SILENCE;
    c->bms.stale_after_ms = range(r, 1000, 5000);
    struct cfg_alarms saved = c->alarms;
    if (chance(r, 0.5)) {
        c->alarms.temp_high_c = range(r, 45, 70);
        c->alarms.temp_high_warning_c = c->alarms.temp_high_c - 5;
        c->alarms.charge_temp_low_c = range(r, -10, 5);
        c->alarms.charge_temp_warning_c = c->alarms.charge_temp_low_c + 3;
    }
    struct cfg_error err;
    if (config_validate(c, &err) != 0)
        c->alarms = saved;
    g->comp.cfg = *c;
}

/* Settings registers 315-320 on both sides of the configuration (sometimes out of range). */
void gen_settings(struct rig *g, struct bmsgw_string *st)
{
    uint64_t *r = &g->rng;
    const struct cfg_alarms *a = &g->cfg.alarms;
    uint16_t *reg = st->settings_reg;
    st->settings_valid = chance(r, 0.7);
    int wide = chance(r, 0.2) ? 3 : 1;
    reg[15] = (uint16_t)clampi(a->cell_high_mv + range(r, -100 * wide, 150 * wide), 1200, 4500);
    reg[16] = (uint16_t)clampi(a->cell_low_mv + range(r, -150 * wide, 100 * wide), 800, 3500);
    reg[17] = (uint16_t)range(r, 1, 750);
    reg[18] = (uint16_t)range(r, 1, 750);
    reg[19] = (uint16_t)(int16_t)clampi(a->temp_high_c + range(r, -20, 20), 20, 90);
    reg[20] = (uint16_t)(int16_t)clampi(a->charge_temp_low_c + range(r, -10, 10), -40, 10);
    if (chance(r, 0.05)) {
        int k = range(r, 15, 20); /* one call per statement: a fixed order on every compiler */
        reg[k] = (uint16_t)next(r);
    }
}

/* ---- sequences --------------------------------------------------------------------------- */

void gen_layout(struct bmsgw_system *s, unsigned strings, unsigned cells, unsigned sensors)
{
    memset(s, 0, sizeof(*s));
    s->string_count = (uint16_t)strings;
    s->cell_count = (uint16_t)(strings * cells);
    s->sensor_count = (uint16_t)(strings * sensors);
    for (unsigned i = 0; i < strings; i++) {
        struct bmsgw_string *st = &s->strings[i];
        snprintf(st->name, sizeof(st->name), "S%u", i + 1);
        st->cell_first = (uint16_t)(i * cells);
        st->cell_count = (uint16_t)cells;
        st->sensor_first = (uint16_t)(i * sensors);
        st->sensor_count = (uint16_t)sensors;
        st->online = true;
        st->link.state = BMSGW_LINK_UP;
        st->soc_pct = 50;
        st->soh_pct = 100;
        st->capacity_ah = 100;
        st->state = BMSGW_BMS_IDLE;
        st->mosfet_temp_dc = 250;
    }
}

/* A cell level near a threshold: where the rules change. */
static int target_mv(struct rig *g, const struct bmsgw_string *st0)
{
    uint64_t *r = &g->rng;
    const struct bmsgw_config *c = &g->cfg;
    const struct cfg_table *t = &c->limits.ccl_cell;
    switch (range(r, 0, 7)) {
    case 0:
        return c->alarms.cell_high_mv + range(r, -20, 20);
    case 1:
        return st0->settings_reg[15] + range(r, -20, 20);
    case 2:
        return c->alarms.cell_low_mv + range(r, -20, 20);
    case 3:
        return st0->settings_reg[16] + range(r, -20, 20);
    case 4:
        return c->limits.cell_charge_mv + range(r, -30, 30);
    case 5:
        return t->n_x ? t->x[t->n_x - 1] + range(r, -10, 10) : c->limits.cell_float_mv;
    case 6:
        return c->limits.dcl_cell.n_x ? c->limits.dcl_cell.x[0] + range(r, -10, 10) : 3000;
    default:
        return range(r, c->alarms.cell_low_mv - 300, c->alarms.cell_high_mv + 300);
    }
}

static int target_dc(struct rig *g, const struct bmsgw_string *st0)
{
    uint64_t *r = &g->rng;
    const struct cfg_alarms *a = &g->cfg.alarms;
    switch (range(r, 0, 4)) {
    case 0:
        return a->charge_temp_low_c * 10 + range(r, -15, 15);
    case 1:
        return (int16_t)st0->settings_reg[20] * 10 + range(r, -15, 15);
    case 2:
        return a->temp_high_c * 10 + range(r, -15, 15);
    case 3:
        return (int16_t)st0->settings_reg[19] * 10 + range(r, -15, 15);
    default:
        return range(r, -400, 850);
    }
}

void gen_seq_init(struct rig *g, struct seq *q, int64_t now)
{
    uint64_t *r = &g->rng;
    q->strings =
        chance(r, 0.04) ? (unsigned)range(r, 9, BMSGW_MAX_STRINGS) : (unsigned)range(r, 1, 8);
    q->cells = (unsigned)range(r, 4, 16);
    q->sensors = (unsigned)range(r, 0, 2);
    q->start = now;
    q->freeze_all = 0;
    gen_layout(g->sys, q->strings, q->cells, q->sensors);
    for (unsigned i = 0; i < q->strings; i++) {
        gen_settings(g, &g->sys->strings[i]);
        q->frozen[i] = false;
        q->lifetime0[i] = (uint32_t)range(r, 1000, 1000000);
    }
    q->base_mv = range(r, g->cfg.alarms.cell_low_mv + 100, g->cfg.limits.cell_charge_mv);
    q->temp_dc = range(r, 50, 350);
}

static void seq_event(struct rig *g, struct bmsgw_string *st)
{
    static const uint8_t ids[] = { 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0B,
                                   0x0C, 0x0D, 0x31, 0x37, 0x61, 0x62, 0x75, 0x79 };
    uint64_t *r = &g->rng;
    memmove(&st->events[1], &st->events[0], sizeof(st->events[0]) * (BMSGW_EVENTS_MAX - 1));
    st->events[0].id = ids[range(r, 0, (int)sizeof(ids) - 1)];
    st->events[0].timestamp_s = (st->lifetime_s - (uint32_t)range(r, 0, 120)) & 0xFFFFFFu;
    if (st->event_count < BMSGW_EVENTS_MAX)
        st->event_count++;
    st->event_seq++;
}

static void seq_cells(struct rig *g, struct seq *q, unsigned i)
{
    uint64_t *r = &g->rng;
    struct bmsgw_system *s = g->sys;
    struct bmsgw_string *st = &s->strings[i];
    double sum = 0;
    for (unsigned c = 0; c < st->cell_count; c++) {
        int mv = clampi(q->base_mv + range(r, -8, 8), 500, 5000);
        s->cell_mv[st->cell_first + c] = (uint16_t)mv;
    }
    if (chance(r, 0.05)) {
        unsigned c = (unsigned)range(r, 0, (int)st->cell_count - 1);
        int d = chance(r, 0.5) ? range(r, 20, 300) : -range(r, 20, 300);
        s->cell_mv[st->cell_first + c] = (uint16_t)clampi(q->base_mv + d, 500, 5000);
    }
    for (unsigned c = 0; c < st->cell_count; c++)
        sum += s->cell_mv[st->cell_first + c];
    st->pack_v = sum / 1000.0;
}

static void seq_temps(struct rig *g, struct seq *q, unsigned i)
{
    uint64_t *r = &g->rng;
    struct bmsgw_system *s = g->sys;
    struct bmsgw_string *st = &s->strings[i];
    for (unsigned k = 0; k < st->sensor_count; k++) {
        int16_t *dc = &s->sensor_dc[st->sensor_first + k];
        bool absent = *dc == BMSGW_TEMP_ABSENT;
        if (absent ? !chance(r, 0.3) : chance(r, 0.02))
            *dc = BMSGW_TEMP_ABSENT;
        else
            *dc = (int16_t)clampi(q->temp_dc + range(r, -10, 10), -400, 850);
    }
    bool absent = st->mosfet_temp_dc == BMSGW_TEMP_ABSENT;
    if (absent ? !chance(r, 0.3) : chance(r, 0.01))
        st->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    else
        st->mosfet_temp_dc = (int16_t)clampi(q->temp_dc + range(r, 0, 80), -400, 850);
}

void gen_seq_string(struct rig *g, struct seq *q, unsigned i, int64_t now)
{
    uint64_t *r = &g->rng;
    struct bmsgw_string *st = &g->sys->strings[i];
    st->lifetime_s = q->lifetime0[i] + (uint32_t)((now - q->start) / 1000);
    if (q->frozen[i] ? chance(r, 0.3) : chance(r, 0.01))
        q->frozen[i] = !q->frozen[i];
    if (q->frozen[i] && st->online && now - st->sample_ms > g->cfg.bms.stale_after_ms + 2000 &&
        chance(r, 0.5))
        st->online = false; /* the link gives up on a silent BMS */
    if (st->online ? chance(r, 0.005) : chance(r, 0.2))
        st->online = !st->online;
    if (q->frozen[i] || q->freeze_all > 0 || !st->online)
        return; /* no sample: the timestamp is not touched */
    seq_cells(g, q, i);
    seq_temps(g, q, i);
    st->current_a = clampi((int)st->current_a + range(r, -30, 30), -1000, 1000);
    if (chance(r, 0.01))
        st->current_a = chance(r, 0.5) ? 1000 : -1000;
    if (st->state == BMSGW_BMS_FAULT ? chance(r, 0.2) : chance(r, 0.003))
        st->state = st->state == BMSGW_BMS_FAULT ? BMSGW_BMS_IDLE : BMSGW_BMS_FAULT;
    if (chance(r, 0.003))
        seq_event(g, st);
    if (chance(r, 0.005))
        st->settings_valid = !st->settings_valid;
    st->sample_ms = now;
}

void gen_seq_step(struct rig *g, struct seq *q, int64_t now)
{
    uint64_t *r = &g->rng;
    int home = g->cfg.limits.cell_charge_mv - 120; /* drifts back to an ordinary charge */
    q->base_mv += range(r, -15, 15) + (home - q->base_mv) / 10;
    if (chance(r, 0.04))
        q->base_mv = target_mv(g, &g->sys->strings[range(r, 0, (int)q->strings - 1)]);
    q->base_mv = clampi(q->base_mv, 800, 4600);
    q->temp_dc += range(r, -20, 20) + (250 - q->temp_dc) / 10;
    if (chance(r, 0.04))
        q->temp_dc = target_dc(g, &g->sys->strings[range(r, 0, (int)q->strings - 1)]);
    q->temp_dc = clampi(q->temp_dc, -400, 850);
    if (q->freeze_all > 0)
        q->freeze_all--;
    else if (chance(r, 0.03))
        q->freeze_all = range(r, 1, 6);
    for (unsigned d = CONTROL_CHARGE; d <= CONTROL_DISCHARGE; d++) {
        bool on = control_blocked(g->ctl, d);
        if (on ? chance(r, 0.2) : chance(r, 0.01))
            control_set_block(g->ctl, d, !on, "oracle", now);
    }
    for (unsigned i = 0; i < q->strings; i++)
        gen_seq_string(g, q, i, now);
}

void gen_extreme_string(struct rig *g, unsigned i, int64_t now)
{
    uint64_t *r = &g->rng;
    struct bmsgw_system *s = g->sys;
    struct bmsgw_string *st = &s->strings[i];
    int level = range(r, 0, 5000);
    double sum = 0;
    for (unsigned c = 0; c < st->cell_count; c++) {
        int mv = chance(r, 0.5) ? level : range(r, 0, 5000);
        s->cell_mv[st->cell_first + c] = (uint16_t)mv;
        sum += mv;
    }
    for (unsigned k = 0; k < st->sensor_count; k++)
        s->sensor_dc[st->sensor_first + k] =
            chance(r, 0.2) ? BMSGW_TEMP_ABSENT : (int16_t)range(r, -400, 850);
    st->mosfet_temp_dc = chance(r, 0.3) ? BMSGW_TEMP_ABSENT : (int16_t)range(r, -400, 850);
    st->pack_v = sum / 1000.0;
    st->current_a = chance(r, 0.3) ? (chance(r, 0.5) ? 1000 : -1000) : range(r, -1000, 1000);
    st->soc_pct = range(r, 0, 100);
    st->capacity_ah = range(r, 0, 1000);
    st->state = chance(r, 0.1) ? BMSGW_BMS_FAULT : BMSGW_BMS_CHARGING;
    st->online = chance(r, 0.9);
    st->sample_ms = chance(r, 0.1) ? now - range(r, 0, 10000) : now;
    st->lifetime_s = (uint32_t)range(r, 0, 0xFFFFFF);
    if (chance(r, 0.2))
        seq_event(g, st);
    gen_settings(g, st);
}
