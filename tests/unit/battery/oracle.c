/* SPDX-License-Identifier: MIT */
/* oracle.c — the safety invariants of spec/victron-can.md, from the spec (tests only). */
#include "oracle.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/tinybms.h"

#define EPS         1e-6
#define PRINT_MAX   3  /* failures printed per check (ORACLE_VERBOSE=1: all) */
#define FAULT_NEW_S 60 /* spec invariant 7 */

static const char *const check_names[OC_COUNT] = {
    [OC_CVL_LE_V] = "1-cvl-le-v",
    [OC_CVL_POSITIVE] = "1-cvl-positive",
    [OC_372_CHARGE] = "1-372-blocking-charge",
    [OC_372_DISCHARGE] = "1-372-blocking-discharge",
    [OC_OV_CCL] = "2-ov-ccl",
    [OC_UV_DCL] = "3-uv-dcl",
    [OC_CVL_SLEW] = "2-cvl-slew",
    [OC_CVL_SLEW_BLOCK] = "2-cvl-slew-after-block",
    [OC_CCL_RAMP] = "2-ccl-ramp",
    [OC_DCL_RAMP] = "2-dcl-ramp",
    [OC_CCL_HOLD] = "2-ccl-hold",
    [OC_DCL_HOLD] = "2-dcl-hold",
    [OC_HOLD_STALE] = "2-hold-after-stale",
    [OC_BLOCK_CVL] = "2-block-cvl",
    [OC_BLOCK_ZERO] = "stale-block-zero",
    [OC_BLOCK_ALARM] = "stale-block-alarm",
    [OC_STALE_MODE] = "stale-mode",
    [OC_FRESH_SENDS] = "fresh-sends",
    [OC_REFUSED] = "3-refused",
    [OC_REFUSED_ENTRY] = "3-refused-entry",
    [OC_NO_SENSOR] = "4-no-sensor-factor",
    [OC_NO_TEMP] = "4-no-temp",
    [OC_LOWTEMP_CCL] = "4-lowtemp-ccl",
    [OC_OVERHEAT] = "4-overheat",
    [OC_CVL_OV] = "6-cvl-ov-margin",
    [OC_CVL_MAX] = "6-cvl-max",
    [OC_DVL_ROUND] = "6-dvl-round-up",
    [OC_FAULT_CCL] = "7-fault-ccl",
    [OC_FAULT_DCL] = "7-fault-dcl",
    [OC_FAULT_ALARM] = "7-fault-alarm",
    [OC_OPERATOR] = "1-operator-block",
    [OC_ALARM_HV] = "8-alarm-high-voltage",
    [OC_ALARM_LV] = "8-alarm-low-voltage",
    [OC_ALARM_HT] = "8-alarm-high-temp",
    [OC_ALARM_LTC] = "8-alarm-low-temp-charge",
    [OC_ALARM_GENERAL] = "8-alarm-general",
    [OC_ALARM_FIELDS] = "8-alarm-fields",
    [OC_CCL_TABLE] = "r4-ccl-table",
    [OC_DCL_TABLE] = "r4-dcl-table",
    [OC_SATURATE_351] = "9-saturate-351",
    [OC_COUNTS_372] = "9-counts-372",
    [OC_SATURATE_356] = "9-saturate-356",
    [OC_PARTIAL_STALE] = "1-partial-stale",
};

static unsigned fails[OC_COUNT];

const char *oracle_check_name(enum oracle_check c)
{
    return c < OC_COUNT ? check_names[c] : "?";
}

/* ---- decoding (spec frame table, little-endian) ------------------------------------------ */

static unsigned u16_at(const uint8_t *d)
{
    return (unsigned)d[0] | (unsigned)d[1] << 8;
}

static int s16_at(const uint8_t *d)
{
    return (int)(int16_t)(uint16_t)u16_at(d);
}

void oracle_decode_351(const uint8_t d[8], struct oracle_351 *o)
{
    o->cvl_raw = u16_at(d);
    o->ccl_raw = s16_at(d + 2);
    o->dcl_raw = s16_at(d + 4);
    o->dvl_raw = u16_at(d + 6);
    o->cvl_v = o->cvl_raw / 10.0;
    o->ccl_a = o->ccl_raw / 10.0;
    o->dcl_a = o->dcl_raw / 10.0;
    o->dvl_v = o->dvl_raw / 10.0;
}

/* The spec's 0x35A table: field k of byte b, alarms in bytes 0-3, warnings in 4-7. */
static const uint8_t field_pos[BMSGW_ALARM_COUNT][2] = {
    [BMSGW_ALARM_GENERAL] = { 0, 0 },
    [BMSGW_ALARM_HIGH_VOLTAGE] = { 0, 1 },
    [BMSGW_ALARM_LOW_VOLTAGE] = { 0, 2 },
    [BMSGW_ALARM_HIGH_TEMP] = { 0, 3 },
    [BMSGW_ALARM_LOW_TEMP] = { 1, 0 },
    [BMSGW_ALARM_HIGH_TEMP_CHARGE] = { 1, 1 },
    [BMSGW_ALARM_LOW_TEMP_CHARGE] = { 1, 2 },
    [BMSGW_ALARM_HIGH_DISCHARGE_CURRENT] = { 1, 3 },
    [BMSGW_ALARM_HIGH_CHARGE_CURRENT] = { 2, 0 },
    [BMSGW_ALARM_CONTACTOR] = { 2, 1 },
    [BMSGW_ALARM_SHORT_CIRCUIT] = { 2, 2 },
    [BMSGW_ALARM_BMS_INTERNAL] = { 2, 3 },
    [BMSGW_ALARM_CELL_IMBALANCE] = { 3, 0 },
};

void oracle_decode_35a(const uint8_t d[8], struct oracle_35a *o)
{
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        unsigned b = field_pos[i][0], k = field_pos[i][1];
        o->alarm[i] = (uint8_t)((d[b] >> (2 * k)) & 3);
        o->warning[i] = (uint8_t)((d[b + 4] >> (2 * k)) & 3);
    }
}

void oracle_decode_372(const uint8_t d[8], struct oracle_372 *o)
{
    o->online = u16_at(d);
    o->block_charge = u16_at(d + 2);
    o->block_discharge = u16_at(d + 4);
    o->offline = u16_at(d + 6);
}

void oracle_decode_356(const uint8_t d[8], struct oracle_356 *o)
{
    o->voltage_raw = s16_at(d);
    o->current_raw = s16_at(d + 2);
    o->temp_raw = s16_at(d + 4);
}

/* ---- thresholds in force ----------------------------------------------------------------- */

/* Register, documented range (spec/tinybms.md), signed, and whether higher is less safe. */
static const struct {
    unsigned reg;
    int lo, hi;
    bool is_signed, higher_less_safe;
} regs[BMSGW_THRESHOLD_COUNT] = {
    [BMSGW_THRESHOLD_OVER_VOLTAGE] = { 315, 1200, 4500, false, true },
    [BMSGW_THRESHOLD_UNDER_VOLTAGE] = { 316, 800, 3500, false, false },
    [BMSGW_THRESHOLD_DISCHARGE_CURRENT] = { 317, 1, 750, false, true },
    [BMSGW_THRESHOLD_CHARGE_CURRENT] = { 318, 1, 750, false, true },
    [BMSGW_THRESHOLD_OVER_HEAT] = { 319, 20, 90, true, true },
    [BMSGW_THRESHOLD_CHARGE_LOW_TEMP] = { 320, -40, 10, true, false },
};

void oracle_thresholds(const struct bmsgw_config *cfg, const struct bmsgw_string *st,
                       struct oracle_thresholds *t)
{
    const struct cfg_alarms *a = &cfg->alarms;
    double in_force[BMSGW_THRESHOLD_COUNT] = {
        a->cell_high_mv,     a->cell_low_mv, a->discharge_current_a,
        a->charge_current_a, a->temp_high_c, a->charge_temp_low_c,
    };
    memset(t, 0, sizeof(*t));
    for (unsigned w = 0; w < BMSGW_THRESHOLD_COUNT; w++) {
        uint16_t raw = st->settings_reg[regs[w].reg - BMSGW_SETTINGS_FIRST];
        int v = regs[w].is_signed ? (int)(int16_t)raw : (int)raw;
        t->cfg[w] = in_force[w];
        t->reg[w] = v;
        if (!a->thresholds_from_bms || !st->settings_valid || v < regs[w].lo || v > regs[w].hi)
            continue;
        bool less_safe = regs[w].higher_less_safe ? v > in_force[w] : v < in_force[w];
        if (less_safe) {
            t->refused |= (uint8_t)(1u << w);
        } else {
            t->stricter |= v != in_force[w];
            in_force[w] = v;
        }
    }
    t->ov_mv = (int)in_force[BMSGW_THRESHOLD_OVER_VOLTAGE];
    t->uv_mv = (int)in_force[BMSGW_THRESHOLD_UNDER_VOLTAGE];
    t->overheat_dc = (int)in_force[BMSGW_THRESHOLD_OVER_HEAT] * 10;
    t->lowchg_dc = (int)in_force[BMSGW_THRESHOLD_CHARGE_LOW_TEMP] * 10;
}

/* ---- what the sample requires ------------------------------------------------------------ */

/* Piecewise-linear, flat beyond the ends (spec "Charge limits" 4); 1 for an empty table. */
static double table_factor(const struct cfg_table *t, double x)
{
    int n = t->n_x < t->n_f ? t->n_x : t->n_f;
    if (n <= 0)
        return 1.0;
    if (x <= t->x[0])
        return t->f[0];
    for (int i = 1; i < n; i++)
        if (x <= t->x[i])
            return t->f[i - 1] +
                   (t->f[i] - t->f[i - 1]) * (x - t->x[i - 1]) / (double)(t->x[i] - t->x[i - 1]);
    return t->f[n - 1];
}

static bool fault_event(unsigned id)
{
    return (id >= 0x02 && id <= 0x07) || (id >= 0x0A && id <= 0x0D);
}

static bool is_fresh(const struct bmsgw_string *st, int64_t now, int stale_ms)
{
    return st->online && st->sample_ms > 0 && now - st->sample_ms <= stale_ms;
}

static void expect_temps(const struct bmsgw_config *cfg, const struct bmsgw_system *sys,
                         const struct bmsgw_string *st, const struct oracle_thresholds *t,
                         struct oracle_expect *e)
{
    unsigned connected = 0;
    for (unsigned k = 0; k < st->sensor_count; k++) {
        int dc = sys->sensor_dc[st->sensor_first + k];
        if (dc == BMSGW_TEMP_ABSENT)
            continue;
        connected++;
        e->n_temp++;
        e->tmin_dc = dc < e->tmin_dc ? dc : e->tmin_dc;
        e->tmax_dc = dc > e->tmax_dc ? dc : e->tmax_dc;
        e->overheat |= dc >= t->overheat_dc;
        e->lowchg |= dc <= t->lowchg_dc;
        double fc = table_factor(&cfg->limits.ccl_temp, dc / 10.0);
        double fd = table_factor(&cfg->limits.dcl_temp, dc / 10.0);
        e->ccl_f = fc < e->ccl_f ? fc : e->ccl_f;
        e->dcl_f = fd < e->dcl_f ? fd : e->dcl_f;
    }
    if (connected) {
        e->ccl_w += 1.0;
    } else if (st->mosfet_temp_dc != BMSGW_TEMP_ABSENT) {
        e->ccl_w += cfg->limits.no_sensor_charge_factor;
        e->n_mosfet++;
        e->lowchg |= st->mosfet_temp_dc <= t->lowchg_dc;
    } else {
        e->notemp = true;
    }
}

static void expect_fault(const struct bmsgw_string *st, struct oracle_expect *e)
{
    if (st->state == BMSGW_BMS_FAULT)
        e->fault = true;
    if (st->event_count == 0)
        return;
    const struct bmsgw_bms_event *ev = &st->events[0];
    uint32_t age = (st->lifetime_s - ev->timestamp_s) & 0xFFFFFFu;
    if (fault_event(ev->id) && age < FAULT_NEW_S) {
        e->fault = true;
        e->fault_dis |= ev->id == 0x02 || ev->id == 0x05;
    }
}

static void expect_string(const struct bmsgw_config *cfg, const struct bmsgw_system *sys,
                          unsigned i, struct oracle_expect *e)
{
    const struct bmsgw_string *st = &sys->strings[i];
    struct oracle_thresholds t;
    oracle_thresholds(cfg, st, &t);
    e->refused[i] = t.refused;
    memcpy(e->reg[i], t.reg, sizeof(t.reg));
    e->refused_all += (unsigned)__builtin_popcount(t.refused);
    e->n_fresh++;
    e->refused_fresh += (unsigned)__builtin_popcount(t.refused);
    e->reg_stricter |= t.stricter;
    if (st->pack_v > 0 && (e->v == 0 || st->pack_v < e->v))
        e->v = st->pack_v;
    e->cells = e->cells == 0 || st->cell_count < e->cells ? st->cell_count : e->cells;
    e->ov_mv = e->ov_mv == 0 || t.ov_mv < e->ov_mv ? t.ov_mv : e->ov_mv;
    e->current_a += st->current_a;
    e->pack_sum_v += st->pack_v;
    bool was[] = { e->ov, e->uv, e->overheat, e->lowchg, e->notemp, e->fault, e->fault_dis };
    e->ov = e->uv = e->overheat = e->lowchg = e->notemp = e->fault = e->fault_dis = false;
    unsigned hi = 0, lo = UINT16_MAX;
    for (unsigned c = 0; c < st->cell_count; c++) {
        unsigned mv = sys->cell_mv[st->cell_first + c];
        if (mv == 0)
            continue; /* not read */
        hi = mv > hi ? mv : hi;
        lo = mv < lo ? mv : lo;
    }
    if (hi) {
        e->ov |= (int)hi >= t.ov_mv;
        e->uv |= (int)lo <= t.uv_mv;
        double fc = table_factor(&cfg->limits.ccl_cell, hi);
        double fd = table_factor(&cfg->limits.dcl_cell, lo);
        e->ccl_f = fc < e->ccl_f ? fc : e->ccl_f;
        e->dcl_f = fd < e->dcl_f ? fd : e->dcl_f;
    }
    expect_temps(cfg, sys, st, &t, e);
    expect_fault(st, e);
    e->n_block_charge += e->ov || e->lowchg || e->overheat || e->notemp || e->fault;
    e->n_block_discharge += e->uv || e->overheat || e->fault_dis;
    e->ov |= was[0];
    e->uv |= was[1];
    e->overheat |= was[2];
    e->lowchg |= was[3];
    e->notemp |= was[4];
    e->fault |= was[5];
    e->fault_dis |= was[6];
}

void oracle_expect(const struct bmsgw_config *cfg, const struct bmsgw_system *sys, int64_t now,
                   struct oracle_expect *e)
{
    memset(e, 0, sizeof(*e));
    e->ccl_f = e->dcl_f = 1.0;
    e->tmin_dc = INT16_MAX;
    e->tmax_dc = INT16_MIN;
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        if (is_fresh(st, now, cfg->bms.stale_after_ms)) {
            expect_string(cfg, sys, i, e);
        } else {
            struct oracle_thresholds t;
            oracle_thresholds(cfg, st, &t);
            e->refused[i] = t.refused;
            memcpy(e->reg[i], t.reg, sizeof(t.reg));
            e->refused_all += (unsigned)__builtin_popcount(t.refused);
            e->n_online_stale += st->online;
        }
    }
}

/* ---- reporting --------------------------------------------------------------------------- */

static void print_frames(const struct oracle_ctx *x)
{
    const struct oracle_frames *fr = x->fr;
    fprintf(stderr, "    mode %d; fresh strings %u (online stale %u), V %.3f, N %u, OV %d mV\n",
            fr->mode, x->e->n_fresh, x->e->n_online_stale, x->e->v, x->e->cells, x->e->ov_mv);
    if (fr->sent351)
        fprintf(stderr, "    0x351 CVL %.1f V CCL %.1f A DCL %.1f A DVL %.1f V\n", x->f351->cvl_v,
                x->f351->ccl_a, x->f351->dcl_a, x->f351->dvl_v);
    if (x->r->have_prev)
        fprintf(stderr, "    previous 0x351 (at %lld ms) CVL %.1f V CCL %.1f A DCL %.1f A\n",
                (long long)(x->r->prev_ms), x->r->prev.cvl_v, x->r->prev.ccl_a, x->r->prev.dcl_a);
    if (fr->sent35a) {
        fprintf(stderr, "    0x35A alarms");
        for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
            fprintf(stderr, " %u", x->f35a->alarm[i]);
        fprintf(stderr, "\n");
    }
    if (fr->sent372)
        fprintf(stderr, "    0x372 online %u blocking charge %u discharge %u offline %u\n",
                x->f372->online, x->f372->block_charge, x->f372->block_discharge, x->f372->offline);
}

void oracle_fail(const struct oracle_ctx *x, enum oracle_check c, const char *fmt, ...)
{
    fails[c]++;
    if (fails[c] > PRINT_MAX && !getenv("ORACLE_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ORACLE %s: seed %llu step %u: ", check_names[c],
            (unsigned long long)x->r->seed, x->r->step);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    print_frames(x);
}

unsigned oracle_failures(enum oracle_check c)
{
    return fails[c];
}

void oracle_print_summary(void)
{
    for (unsigned c = 0; c < OC_COUNT; c++)
        if (fails[c])
            fprintf(stderr, "ORACLE summary: %-26s %u failures\n", check_names[c], fails[c]);
}

void oracle_reset(void)
{
    memset(fails, 0, sizeof(fails));
}

void oracle_run_init(struct oracle_run *r, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    r->seed = seed;
    r->ccl_cause_ms = r->dcl_cause_ms = r->stale_cause_ms = INT64_MIN;
}
