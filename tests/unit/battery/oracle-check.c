/* SPDX-License-Identifier: MIT */
/* oracle-check.c — one step of the oracle: the invariants on the decoded frames. */
#include "oracle.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EPS 1e-6

/* v rounded down to the 0.1 V of 0x351. */
static double floor_tenth(double v)
{
    return floor(v * 10.0 + EPS) / 10.0;
}

/* Block mode while some strings are fresh: failures of the V/OV rules are reported apart. */
static enum oracle_check partial(const struct oracle_ctx *x, enum oracle_check c)
{
    bool part = x->e->n_fresh > 0 || x->r->v_partial;
    return x->fr->mode == CAN_OUT_BLOCK && part ? OC_PARTIAL_STALE : c;
}

/* Raw value of x at 0.1 resolution clamped to lo..hi, for the saturation check. */
static bool near_raw(int raw, double x, int lo, int hi, int dir)
{
    double r = dir < 0 ? floor(x * 10 + EPS) : ceil(x * 10 - EPS);
    if (!(r == r)) /* NaN: the frame is not sent */
        return false;
    if (r >= hi)
        return raw == hi;
    if (r <= lo)
        return raw == lo;
    return fabs(raw - r) <= 1;
}

static void check_saturation(const struct oracle_ctx *x, const struct bmsgw_limits *lim)
{
    const struct oracle_351 *f = x->f351;
    ORACLE_CHECK(x, OC_SATURATE_351, f->ccl_raw >= 0 && f->dcl_raw >= 0,
                 "CCL/DCL negative on the bus: raw %d / %d", f->ccl_raw, f->dcl_raw);
    ORACLE_CHECK(x, OC_SATURATE_351, near_raw((int)f->cvl_raw, lim->cvl_v, 0, 65535, -1),
                 "CVL raw %u for a decided %.3f V (wrapped or not saturated)", f->cvl_raw,
                 lim->cvl_v);
    ORACLE_CHECK(x, OC_SATURATE_351, near_raw(f->ccl_raw, lim->ccl_a, 0, 32767, -1),
                 "CCL raw %d for a decided %.3f A (wrapped or not saturated)", f->ccl_raw,
                 lim->ccl_a);
    ORACLE_CHECK(x, OC_SATURATE_351, near_raw(f->dcl_raw, lim->dcl_a, 0, 32767, -1),
                 "DCL raw %d for a decided %.3f A (wrapped or not saturated)", f->dcl_raw,
                 lim->dcl_a);
    ORACLE_CHECK(x, OC_SATURATE_351, near_raw((int)f->dvl_raw, lim->dvl_v, 0, 65535, +1),
                 "DVL raw %u for a decided %.3f V (wrapped or not saturated)", f->dvl_raw,
                 lim->dvl_v);
}

/* Hard limits: a condition in the sample forces CCL and/or DCL to 0 on this frame. */
static void check_hard(const struct oracle_ctx *x, const struct control_state *cs)
{
    const struct oracle_expect *e = x->e;
    const struct oracle_351 *f = x->f351;
    bool c0 = f->ccl_raw == 0, d0 = f->dcl_raw == 0;
    ORACLE_CHECK(x, OC_OV_CCL, !e->ov || c0, "a cell >= OV %d mV in force, CCL %.1f A", e->ov_mv,
                 f->ccl_a);
    ORACLE_CHECK(x, OC_UV_DCL, !e->uv || d0, "a cell <= UV in force, DCL %.1f A", f->dcl_a);
    ORACLE_CHECK(x, OC_OVERHEAT, !e->overheat || (c0 && d0),
                 "a battery sensor >= over-heat (max %.1f C), CCL %.1f A DCL %.1f A",
                 e->tmax_dc / 10.0, f->ccl_a, f->dcl_a);
    ORACLE_CHECK(x, OC_LOWTEMP_CCL, !e->lowchg || c0,
                 "a sensor (or the MOSFET without sensors) <= charge cutoff, CCL %.1f A", f->ccl_a);
    ORACLE_CHECK(x, OC_NO_TEMP, !e->notemp || c0,
                 "a fresh string without any temperature, CCL %.1f A", f->ccl_a);
    ORACLE_CHECK(x, OC_FAULT_CCL, !e->fault || c0, "a fault (status or event < 60 s), CCL %.1f A",
                 f->ccl_a);
    ORACLE_CHECK(x, OC_FAULT_DCL, !e->fault_dis || d0, "a discharge-side fault event, DCL %.1f A",
                 f->dcl_a);
    if (cs) {
        ORACLE_CHECK(x, OC_OPERATOR, !cs->charge_blocked || c0, "charge blocked, CCL %.1f A",
                     f->ccl_a);
        ORACLE_CHECK(x, OC_OPERATOR, !cs->discharge_blocked || d0, "discharge blocked, DCL %.1f A",
                     f->dcl_a);
    }
}

/* Upper bounds of CCL/DCL: no-sensor share (4), tables (rule 4), CVL caps (5, 6), DVL (6). */
static void check_bounds(const struct oracle_ctx *x, const struct bmsgw_config *cfg)
{
    const struct oracle_expect *e = x->e;
    const struct oracle_351 *f = x->f351;
    const struct cfg_limits *l = &cfg->limits;
    double share = l->max_charge_current_a * e->ccl_w;
    ORACLE_CHECK(x, OC_NO_SENSOR, f->ccl_a <= share + 0.1 + EPS,
                 "CCL %.1f A above the strings' shares %.3f A (sensorless factor %.2f)", f->ccl_a,
                 share, l->no_sensor_charge_factor);
    double tc = l->max_charge_current_a * e->n_fresh * e->ccl_f;
    double td = l->max_discharge_current_a * e->n_fresh * e->dcl_f;
    ORACLE_CHECK(x, OC_CCL_TABLE, f->ccl_a <= tc + 0.1 + EPS || tc >= 3276.7,
                 "CCL %.1f A above max x strings x factor %.4f = %.3f A", f->ccl_a, e->ccl_f, tc);
    ORACLE_CHECK(x, OC_DCL_TABLE, f->dcl_a <= td + 0.1 + EPS || td >= 3276.7,
                 "DCL %.1f A above max x strings x factor %.4f = %.3f A", f->dcl_a, e->dcl_f, td);
}

static void check_voltage_caps(const struct oracle_ctx *x, const struct bmsgw_config *cfg)
{
    const struct oracle_351 *f = x->f351;
    unsigned n = x->r->last_cells;
    if (n == 0)
        return;
    double cap = n * (x->r->last_ov_mv - CFG_OV_MARGIN_MV) / 1000.0;
    ORACLE_CHECK(x, partial(x, OC_CVL_OV), f->cvl_v <= cap + EPS,
                 "CVL %.1f V above N %u x (OV %d - 50 mV) = %.3f V", f->cvl_v, n, x->r->last_ov_mv,
                 cap);
    if (cfg->limits.max_cvl_v > 0)
        ORACLE_CHECK(x, OC_CVL_MAX, f->cvl_v <= cfg->limits.max_cvl_v + EPS,
                     "CVL %.1f V above max_cvl_v %.3f V", f->cvl_v, cfg->limits.max_cvl_v);
    double dvl = n * cfg->limits.cell_discharge_min_mv / 1000.0;
    ORACLE_CHECK(x, OC_DVL_ROUND, f->dvl_v >= dvl - EPS && f->dvl_v <= dvl + 0.1 + EPS,
                 "DVL %.1f V, unrounded N x cell_discharge_min_mv = %.3f V", f->dvl_v, dvl);
}

/* Changes against the previous 0x351: slew, ramps, holds (2; rule 6). */
static void check_motion(const struct oracle_ctx *x, const struct bmsgw_config *cfg, int64_t now)
{
    const struct oracle_run *r = x->r;
    const struct oracle_351 *f = x->f351;
    int64_t hold = (int64_t)cfg->limits.recover_hold_s * 1000;
    if (r->have_prev) {
        double dt = (double)(now - r->prev_ms);
        double up = cfg->limits.cvl_slew_mv_per_s * dt / 1e6 + 0.1 + EPS;
        double ramp = cfg->limits.ccl_ramp_a_per_s * dt / 1000.0 + 0.1 + EPS;
        bool held = f->ccl_raw == 0 && r->prev.ccl_raw == 0;
        enum oracle_check cs = r->prev_partial ? OC_PARTIAL_STALE
                               : r->prev_block ? OC_CVL_SLEW_BLOCK
                                               : OC_CVL_SLEW;
        ORACLE_CHECK(x, cs, f->cvl_v - r->prev.cvl_v <= up,
                     "CVL rose %.1f -> %.1f V in %.0f ms (slew %d mV/s allows %.3f V)%s",
                     r->prev.cvl_v, f->cvl_v, dt, cfg->limits.cvl_slew_mv_per_s, up,
                     held ? ", charge blocked on both" : "");
        enum oracle_check rc = r->prev_partial ? OC_PARTIAL_STALE : OC_CCL_RAMP;
        enum oracle_check rd = r->prev_partial ? OC_PARTIAL_STALE : OC_DCL_RAMP;
        ORACLE_CHECK(x, rc, f->ccl_a - r->prev.ccl_a <= ramp,
                     "CCL rose %.1f -> %.1f A in %.0f ms (ramp %.1f A/s)", r->prev.ccl_a, f->ccl_a,
                     dt, cfg->limits.ccl_ramp_a_per_s);
        ORACLE_CHECK(x, rd, f->dcl_a - r->prev.dcl_a <= ramp,
                     "DCL rose %.1f -> %.1f A in %.0f ms (ramp %.1f A/s)", r->prev.dcl_a, f->dcl_a,
                     dt, cfg->limits.ccl_ramp_a_per_s);
    }
    if (hold <= 0)
        return;
    ORACLE_CHECK(x, OC_CCL_HOLD,
                 f->ccl_raw <= 0 || r->ccl_cause_ms == INT64_MIN || now - r->ccl_cause_ms >= hold,
                 "CCL %.1f A only %lld ms after a zero cause (hold %d s)", f->ccl_a,
                 (long long)(now - r->ccl_cause_ms), cfg->limits.recover_hold_s);
    ORACLE_CHECK(x, OC_DCL_HOLD,
                 f->dcl_raw <= 0 || r->dcl_cause_ms == INT64_MIN || now - r->dcl_cause_ms >= hold,
                 "DCL %.1f A only %lld ms after a zero cause (hold %d s)", f->dcl_a,
                 (long long)(now - r->dcl_cause_ms), cfg->limits.recover_hold_s);
    ORACLE_CHECK(x, r->stale_partial ? OC_PARTIAL_STALE : OC_HOLD_STALE,
                 (f->ccl_raw <= 0 && f->dcl_raw <= 0) || r->stale_cause_ms == INT64_MIN ||
                     now - r->stale_cause_ms >= hold,
                 "CCL %.1f / DCL %.1f A only %lld ms after a stale block%s (hold %d s)", f->ccl_a,
                 f->dcl_a, (long long)(now - r->stale_cause_ms),
                 r->stale_partial ? " with fresh strings" : "", cfg->limits.recover_hold_s);
}

static void check_351(const struct oracle_ctx *x, const struct bmsgw_config *cfg,
                      const struct control_state *cs, const struct bmsgw_limits *lim, int64_t now)
{
    const struct oracle_351 *f = x->f351;
    const struct oracle_frames *fr = x->fr;
    double v = x->r->last_fresh_v;
    ORACLE_CHECK(x, OC_CVL_POSITIVE, f->cvl_raw > 0, "CVL 0 sent");
    check_saturation(x, lim);
    if (f->ccl_raw <= 0 && v > 0)
        ORACLE_CHECK(x, partial(x, OC_CVL_LE_V), f->cvl_v <= floor_tenth(v) + EPS,
                     "CCL 0 but CVL %.1f V above V %.3f V (floor %.1f)", f->cvl_v, v,
                     floor_tenth(v));
    if (fr->sent372) {
        ORACLE_CHECK(x, OC_372_CHARGE, f->ccl_raw > 0 || x->f372->block_charge >= 1,
                     "CCL 0 but 0x372 counts no string blocking charge");
        ORACLE_CHECK(x, OC_372_DISCHARGE, f->dcl_raw > 0 || x->f372->block_discharge >= 1,
                     "DCL 0 but 0x372 counts no string blocking discharge");
    }
    check_hard(x, cs); /* without a fresh string only the operator part can apply */
    if (x->e->n_fresh > 0)
        check_bounds(x, cfg);
    check_voltage_caps(x, cfg);
    check_motion(x, cfg, now);
    if (fr->mode == CAN_OUT_BLOCK) {
        ORACLE_CHECK(x, OC_BLOCK_ZERO, f->ccl_raw == 0 && f->dcl_raw == 0,
                     "stale block with CCL %.1f A DCL %.1f A", f->ccl_a, f->dcl_a);
        double cap = floor_tenth(v);
        if (x->r->have_prev && x->r->prev.cvl_v < cap)
            cap = x->r->prev.cvl_v;
        ORACLE_CHECK(x, partial(x, OC_BLOCK_CVL), v <= 0 || f->cvl_v <= cap + EPS,
                     "stale block CVL %.1f V above min(last CVL, last fresh V) = %.1f V", f->cvl_v,
                     cap);
    }
}

static void check_35a(const struct oracle_ctx *x)
{
    const struct oracle_expect *e = x->e;
    const uint8_t *a = x->f35a->alarm, *w = x->f35a->warning;
    if (x->fr->mode == CAN_OUT_BLOCK)
        ORACLE_CHECK(x, OC_BLOCK_ALARM, a[BMSGW_ALARM_GENERAL] == 1,
                     "stale block without the general alarm (field %u)", a[BMSGW_ALARM_GENERAL]);
    bool any = false;
    for (unsigned i = 1; i < BMSGW_ALARM_COUNT; i++)
        any |= a[i] == 1;
    ORACLE_CHECK(x, OC_ALARM_GENERAL, !any || a[BMSGW_ALARM_GENERAL] == 1,
                 "an alarm field active but the general alarm field %u", a[BMSGW_ALARM_GENERAL]);
    if (e->n_fresh == 0)
        return;
    ORACLE_CHECK(x, OC_ALARM_HV, !e->ov || a[BMSGW_ALARM_HIGH_VOLTAGE] == 1,
                 "a cell >= OV %d mV, high voltage field %u", e->ov_mv,
                 a[BMSGW_ALARM_HIGH_VOLTAGE]);
    ORACLE_CHECK(x, OC_ALARM_LV, !e->uv || a[BMSGW_ALARM_LOW_VOLTAGE] == 1,
                 "a cell <= UV, low voltage field %u", a[BMSGW_ALARM_LOW_VOLTAGE]);
    ORACLE_CHECK(x, OC_ALARM_HT, !e->overheat || a[BMSGW_ALARM_HIGH_TEMP] == 1,
                 "a sensor >= over-heat, high temperature field %u", a[BMSGW_ALARM_HIGH_TEMP]);
    ORACLE_CHECK(x, OC_ALARM_LTC, !e->lowchg || a[BMSGW_ALARM_LOW_TEMP_CHARGE] == 1,
                 "a sensor <= charge cutoff, low temperature charge field %u",
                 a[BMSGW_ALARM_LOW_TEMP_CHARGE]);
    ORACLE_CHECK(x, OC_FAULT_ALARM, !e->fault || a[BMSGW_ALARM_BMS_INTERNAL] == 1,
                 "a fault, BMS internal field %u", a[BMSGW_ALARM_BMS_INTERNAL]);
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        bool monitored = i != BMSGW_ALARM_CONTACTOR && i != BMSGW_ALARM_SHORT_CIRCUIT;
        if (i == BMSGW_ALARM_HIGH_TEMP || i == BMSGW_ALARM_LOW_TEMP ||
            i == BMSGW_ALARM_HIGH_TEMP_CHARGE)
            monitored = e->n_temp > 0; /* no battery sensor: not measured */
        if (i == BMSGW_ALARM_LOW_TEMP_CHARGE)
            monitored = e->n_temp + e->n_mosfet > 0;
        ORACLE_CHECK(x, OC_ALARM_FIELDS, a[i] != 3 && w[i] != 3 && (!monitored || (a[i] && w[i])),
                     "field %u (%s): alarm %u warning %u", i, bmsgw_alarm_name(i), a[i], w[i]);
    }
}

static void check_372(const struct oracle_ctx *x, const struct bmsgw_system *sys)
{
    const struct oracle_372 *c = x->f372;
    unsigned n = sys->string_count;
    ORACLE_CHECK(x, OC_COUNTS_372,
                 c->online <= n && c->offline <= n && c->block_charge <= n &&
                     c->block_discharge <= n,
                 "a 0x372 count above the %u strings", n);
    if (x->fr->mode == CAN_OUT_NORMAL) {
        ORACLE_CHECK(x, OC_372_CHARGE, c->block_charge >= x->e->n_block_charge,
                     "0x372 blocking charge %u, %u strings block by their own state",
                     c->block_charge, x->e->n_block_charge);
        ORACLE_CHECK(x, OC_372_DISCHARGE, c->block_discharge >= x->e->n_block_discharge,
                     "0x372 blocking discharge %u, %u strings block by their own state",
                     c->block_discharge, x->e->n_block_discharge);
    }
    if (x->fr->mode == CAN_OUT_NORMAL && x->e->n_online_stale == 0)
        ORACLE_CHECK(x, OC_COUNTS_372, c->online == x->e->n_fresh && c->offline == n - c->online,
                     "0x372 online %u offline %u, real %u of %u", c->online, c->offline,
                     x->e->n_fresh, n);
}

static void check_356(const struct oracle_ctx *x, const uint8_t d[8])
{
    const struct oracle_expect *e = x->e;
    struct oracle_356 m;
    oracle_decode_356(d, &m);
    if (e->n_fresh == 0 || e->n_online_stale)
        return;
    double i10 = e->current_a * 10, v100 = e->pack_sum_v / e->n_fresh * 100;
    bool ok_i = i10 >= 32767    ? m.current_raw == 32767
                : i10 <= -32767 ? m.current_raw <= -32767
                                : fabs(m.current_raw - i10) <= 1 + EPS;
    ORACLE_CHECK(x, OC_SATURATE_356, ok_i, "0x356 current raw %d for %.3f A", m.current_raw,
                 e->current_a);
    bool ok_v = v100 >= 32767 ? m.voltage_raw == 32767 : fabs(m.voltage_raw - v100) <= 1 + EPS;
    ORACLE_CHECK(x, OC_SATURATE_356, ok_v, "0x356 voltage raw %d for %.3f V", m.voltage_raw,
                 v100 / 100);
    if (e->n_temp)
        ORACLE_CHECK(x, OC_SATURATE_356,
                     m.temp_raw >= e->tmin_dc - 1 && m.temp_raw <= e->tmax_dc + 1,
                     "0x356 temperature raw %d outside the sensors %d..%d", m.temp_raw, e->tmin_dc,
                     e->tmax_dc);
}

static bool refused_listed(const struct bmsgw_limits *l, unsigned s, unsigned w)
{
    for (unsigned k = 0; k < l->refused_count && k < BMSGW_REFUSED_MAX; k++)
        if (l->refused[k].string == (int)s && l->refused[k].what == w)
            return true;
    return false;
}

static void check_refused(const struct oracle_ctx *x, const struct bmsgw_config *cfg,
                          const struct bmsgw_system *sys, int64_t now)
{
    const struct oracle_expect *e = x->e;
    const struct bmsgw_limits *l = &sys->limits;
    if (e->n_fresh == 0)
        return;
    ORACLE_CHECK(
        x, OC_REFUSED, l->refused_count >= e->refused_fresh && l->refused_count <= e->refused_all,
        "refused_count %u, expected %u..%u", l->refused_count, e->refused_fresh, e->refused_all);
    for (unsigned s = 0; s < sys->string_count && l->refused_count <= BMSGW_REFUSED_MAX; s++) {
        const struct bmsgw_string *st = &sys->strings[s];
        if (!st->online || st->sample_ms <= 0 || now - st->sample_ms > cfg->bms.stale_after_ms)
            continue;
        for (unsigned w = 0; w < BMSGW_THRESHOLD_COUNT; w++)
            if (e->refused[s] & (1u << w))
                ORACLE_CHECK(x, OC_REFUSED, refused_listed(l, s, w),
                             "string %u %s register %.0f less safe than config, not refused", s,
                             bmsgw_threshold_name(w), e->reg[s][w]);
    }
    for (unsigned k = 0; k < l->refused_count && k < BMSGW_REFUSED_MAX; k++) {
        const struct bmsgw_refused *r = &l->refused[k];
        bool ok = r->string >= 0 && r->string < sys->string_count &&
                  r->what < BMSGW_THRESHOLD_COUNT && (e->refused[r->string] & (1u << r->what));
        struct oracle_thresholds t;
        if (ok) {
            oracle_thresholds(cfg, &sys->strings[r->string], &t);
            ok = fabs(r->bms - t.reg[r->what]) < EPS && fabs(r->config - t.cfg[r->what]) < EPS;
        }
        ORACLE_CHECK(x, OC_REFUSED_ENTRY, ok, "refused[%u] string %d what %u bms %.1f config %.1f",
                     k, r->string, r->what, r->bms, r->config);
    }
}

static void check_mode(const struct oracle_ctx *x, const struct bmsgw_config *cfg)
{
    const struct oracle_frames *fr = x->fr;
    const struct oracle_expect *e = x->e;
    bool any = fr->sent351 || fr->sent35a || fr->sent372 || fr->sent356;
    if (e->n_fresh == 0 && cfg->can.on_stale == CFG_STALE_SILENCE)
        ORACLE_CHECK(x, OC_STALE_MODE, fr->mode == CAN_OUT_SILENT && !any,
                     "stale with on_stale silence: mode %d, frames sent %d", fr->mode, any);
    if (e->n_fresh == 0 && cfg->can.on_stale == CFG_STALE_BLOCK && x->r->full_fresh_seen)
        ORACLE_CHECK(x, OC_STALE_MODE, fr->mode == CAN_OUT_BLOCK && fr->sent351,
                     "stale with on_stale block: mode %d, 0x351 sent %d", fr->mode, fr->sent351);
    if (e->n_fresh > 0 && e->n_online_stale == 0 && e->v >= 0.1 + EPS) /* CVL in 0 < CVL <= V */
        ORACLE_CHECK(x, OC_FRESH_SENDS, fr->mode == CAN_OUT_NORMAL && fr->sent351,
                     "fresh data: mode %d, 0x351 sent %d", fr->mode, fr->sent351);
}

static unsigned coverage[ORACLE_COV_COUNT];

static const char *const coverage_names[ORACLE_COV_COUNT] = {
    [ORACLE_COV_STEPS] = "steps",
    [ORACLE_COV_OV] = "cell >= OV",
    [ORACLE_COV_UV] = "cell <= UV",
    [ORACLE_COV_OVERHEAT] = "over-heat",
    [ORACLE_COV_LOWCHG] = "low temp charge",
    [ORACLE_COV_NOSENSOR] = "string without sensor",
    [ORACLE_COV_NOTEMP] = "no temperature",
    [ORACLE_COV_FAULT] = "fault",
    [ORACLE_COV_FAULT_DIS] = "discharge fault",
    [ORACLE_COV_OPERATOR] = "operator block",
    [ORACLE_COV_BLOCK] = "stale block sent",
    [ORACLE_COV_SILENT] = "silent",
    [ORACLE_COV_REFUSED] = "register refused",
    [ORACLE_COV_REG_STRICTER] = "register stricter",
    [ORACLE_COV_CCL0] = "0x351 CCL 0",
    [ORACLE_COV_CCL_POS] = "0x351 CCL > 0",
    [ORACLE_COV_CVL_UP] = "CVL rose",
    [ORACLE_COV_SATURATED] = "a 0x351/0x356 field saturated",
};

unsigned oracle_coverage(enum oracle_coverage c)
{
    return coverage[c];
}

void oracle_coverage_print(void)
{
    for (unsigned c = 0; c < ORACLE_COV_COUNT; c++)
        fprintf(stderr, "ORACLE coverage: %-30s %u\n", coverage_names[c], coverage[c]);
}

static void count_coverage(const struct oracle_run *r, const struct oracle_expect *e,
                           const struct control_state *cs, const struct oracle_frames *fr,
                           const struct oracle_351 *f)
{
    bool fresh = e->n_fresh > 0;
    coverage[ORACLE_COV_STEPS]++;
    coverage[ORACLE_COV_OV] += fresh && e->ov;
    coverage[ORACLE_COV_UV] += fresh && e->uv;
    coverage[ORACLE_COV_OVERHEAT] += fresh && e->overheat;
    coverage[ORACLE_COV_LOWCHG] += fresh && e->lowchg;
    coverage[ORACLE_COV_NOSENSOR] += fresh && e->ccl_w < e->n_fresh;
    coverage[ORACLE_COV_NOTEMP] += fresh && e->notemp;
    coverage[ORACLE_COV_FAULT] += fresh && e->fault;
    coverage[ORACLE_COV_FAULT_DIS] += fresh && e->fault_dis;
    coverage[ORACLE_COV_OPERATOR] += cs && (cs->charge_blocked || cs->discharge_blocked);
    coverage[ORACLE_COV_BLOCK] += fr->mode == CAN_OUT_BLOCK && fr->sent351;
    coverage[ORACLE_COV_SILENT] += fr->mode == CAN_OUT_SILENT;
    coverage[ORACLE_COV_REFUSED] += fresh && e->refused_fresh > 0;
    coverage[ORACLE_COV_REG_STRICTER] += fresh && e->reg_stricter;
    coverage[ORACLE_COV_CCL0] += fr->sent351 && f->ccl_raw == 0;
    coverage[ORACLE_COV_CCL_POS] += fr->sent351 && f->ccl_raw > 0;
    coverage[ORACLE_COV_CVL_UP] += fr->sent351 && r->have_prev && f->cvl_raw > r->prev.cvl_raw;
    coverage[ORACLE_COV_SATURATED] +=
        fr->sent351 && (f->ccl_raw == 32767 || f->dcl_raw == 32767 || f->cvl_raw == 65535);
}

static void update_causes(struct oracle_run *r, const struct oracle_expect *e,
                          const struct control_state *cs, const struct oracle_frames *fr,
                          int64_t now)
{
    bool c = cs && cs->charge_blocked, d = cs && cs->discharge_blocked;
    if (e->n_fresh > 0) {
        c |= e->ov || e->lowchg || e->overheat || e->fault || e->ccl_f <= 0;
        d |= e->uv || e->overheat || e->fault_dis || e->dcl_f <= 0;
    }
    if (c)
        r->ccl_cause_ms = now;
    if (d)
        r->dcl_cause_ms = now;
    if (fr->mode == CAN_OUT_BLOCK && fr->sent351) {
        r->stale_cause_ms = now;
        r->stale_partial = e->n_fresh > 0;
    }
    if (fr->mode == CAN_OUT_NORMAL && fr->sent351 && e->n_online_stale == 0)
        r->full_fresh_seen = true;
}

void oracle_check(struct oracle_run *r, const struct bmsgw_config *cfg,
                  const struct bmsgw_system *sys, const struct control_state *cs,
                  const struct bmsgw_limits *lim, int64_t now_ms, const struct oracle_frames *fr)
{
    static struct oracle_expect e; /* large; the tests are single-threaded */
    struct oracle_351 f351 = { 0 };
    struct oracle_35a f35a = { 0 };
    struct oracle_372 f372 = { 0 };
    oracle_expect(cfg, sys, now_ms, &e);
    if (e.n_fresh > 0 && e.v > 0) {
        r->v_partial = fr->mode != CAN_OUT_NORMAL;
        r->last_fresh_v = e.v;
        r->last_cells = e.cells;
        r->last_ov_mv = e.ov_mv;
    }
    if (fr->sent351)
        oracle_decode_351(fr->d351, &f351);
    if (fr->sent35a)
        oracle_decode_35a(fr->d35a, &f35a);
    if (fr->sent372)
        oracle_decode_372(fr->d372, &f372);
    struct oracle_ctx x = { r, &e, fr, &f351, &f35a, &f372 };
    check_mode(&x, cfg);
    check_refused(&x, cfg, sys, now_ms);
    if (fr->sent351)
        check_351(&x, cfg, cs, lim, now_ms);
    if (fr->sent35a)
        check_35a(&x);
    if (fr->sent372)
        check_372(&x, sys);
    if (fr->sent356)
        check_356(&x, fr->d356);
    count_coverage(r, &e, cs, fr, &f351);
    update_causes(r, &e, cs, fr, now_ms);
    if (fr->sent351) {
        r->have_prev = true;
        r->prev = f351;
        r->prev_ms = now_ms;
        r->prev_block = fr->mode == CAN_OUT_BLOCK;
        r->prev_partial = r->prev_block && (e.n_fresh > 0 || r->v_partial);
    }
    r->step++;
}
