/* SPDX-License-Identifier: MIT */
/* limits.c — the charge-limit controller (pure; state passed in and out). */
#include "bmsgw/limits.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/alarms.h"

#define NEVER INT64_MIN

/* What one step needs from the system, gathered over the fresh strings. */
struct view {
    unsigned n_fresh;
    unsigned n_series;     /* the fewest series cells of a fresh string (CVL) */
    unsigned n_series_max; /* the most (DVL: rounded toward safe) */
    double pack_v;         /* V: the lowest fresh pack voltage */
    double soc_pct;
    double avg_mv;
    uint16_t min_mv, max_mv;
    struct bmsgw_pos min_pos, max_pos;
    double guard_v; /* 0 = no cell above cell_charge_mv */
    double cap_v;   /* N x (over-voltage cutoff in force - margin), lowest over the strings */
    unsigned n_temps;
    double ccl_temp_f, dcl_temp_f;
    int16_t ccl_temp_dc, dcl_temp_dc; /* the sensor that set each factor */
    double ccl_sensor_f;              /* no_sensor_charge_factor when a string has no sensor */
    uint8_t temp_source;              /* enum bmsgw_temp_source, the worst */
    unsigned block_chg, block_dis;    /* strings whose state blocks */
    char chg_why[64], dis_why[64];    /* the first hard-limit reason, "" = none */
    struct bmsgw_limits *out;         /* refused settings are recorded there */
};

void limits_init(struct limits_state *st)
{
    memset(st, 0, sizeof(*st));
    st->phase = BMSGW_PHASE_BULK;
    st->ccl_zero_ms = st->dcl_zero_ms = NEVER;
}

double limits_table_factor(const struct cfg_table *t, double x)
{
    int n = t->n_x < t->n_f ? t->n_x : t->n_f;
    if (n <= 0)
        return 1.0;
    if (x <= t->x[0])
        return t->f[0];
    for (int i = 1; i < n; i++) {
        if (x <= t->x[i]) {
            double span = t->x[i] - t->x[i - 1];
            return t->f[i - 1] + (t->f[i] - t->f[i - 1]) * (x - t->x[i - 1]) / span;
        }
    }
    return t->f[n - 1];
}

static double floor_tenth(double v)
{
    return floor(v * 10.0 + 1e-6) / 10.0;
}

/* The first reason of a block (later ones are counted, not worded). */
#define WHY(buf, ...)                                                                              \
    do {                                                                                           \
        if (!(buf)[0])                                                                             \
            snprintf((buf), sizeof(buf), __VA_ARGS__);                                             \
    } while (0)

/* Cells of string si: guard sum, extremes, and the voltage hard limits. */
static void view_cells(const struct cfg_limits *cfg, const struct alarm_thresholds *t,
                       const struct bmsgw_system *sys, unsigned si, struct view *v,
                       bool *blocks_chg, bool *blocks_dis)
{
    const struct bmsgw_string *st = &sys->strings[si];
    double guard_mv = LIMITS_GUARD_MARGIN_MV;
    unsigned n = 0;
    uint16_t lo = 0, hi = 0, lo_no = 0, hi_no = 0;
    for (unsigned c = 0; c < st->cell_count && st->cell_first + c < BMSGW_MAX_CELLS; c++) {
        uint16_t mv = sys->cell_mv[st->cell_first + c];
        if (mv == 0)
            continue;
        guard_mv += mv < cfg->cell_charge_mv ? mv : cfg->cell_charge_mv;
        if (n == 0 || mv < lo)
            lo = mv, lo_no = (uint16_t)(c + 1);
        if (n == 0 || mv > hi)
            hi = mv, hi_no = (uint16_t)(c + 1);
        n++;
    }
    if (n == 0)
        return;
    if (hi > cfg->cell_charge_mv && (v->guard_v == 0 || guard_mv / 1000.0 < v->guard_v))
        v->guard_v = guard_mv / 1000.0;
    if (hi >= t->cell_high_mv) {
        *blocks_chg = true;
        WHY(v->chg_why, "cell %.3f V >= cutoff %.3f V (S%u C%u)", hi / 1000.0,
            t->cell_high_mv / 1000.0, si + 1, hi_no);
    }
    if (lo <= t->cell_low_mv) {
        *blocks_dis = true;
        WHY(v->dis_why, "cell %.3f V <= cutoff %.3f V (S%u C%u)", lo / 1000.0,
            t->cell_low_mv / 1000.0, si + 1, lo_no);
    }
    /* a string whose own cell factor is 0 blocks charging too (counted in 0x372) */
    if (limits_table_factor(&cfg->ccl_cell, hi) <= 0)
        *blocks_chg = true;
    if (limits_table_factor(&cfg->dcl_cell, lo) <= 0)
        *blocks_dis = true;
}

/* One battery sensor of string si: factors, the charge cutoff and the over-heat cutoff. */
static void view_sensor(const struct cfg_limits *cfg, const struct alarm_thresholds *t, int16_t dc,
                        unsigned si, unsigned k, struct view *v, bool *blocks_chg, bool *blocks_dis)
{
    double fc = limits_table_factor(&cfg->ccl_temp, dc / 10.0);
    double fd = limits_table_factor(&cfg->dcl_temp, dc / 10.0);
    if (v->n_temps == 0 || fc < v->ccl_temp_f)
        v->ccl_temp_f = fc, v->ccl_temp_dc = dc;
    if (v->n_temps == 0 || fd < v->dcl_temp_f)
        v->dcl_temp_f = fd, v->dcl_temp_dc = dc;
    v->n_temps++;
    if (fc <= 0)
        *blocks_chg = true;
    if (fd <= 0)
        *blocks_dis = true;
    if (dc <= t->charge_temp_low_dc) {
        *blocks_chg = true;
        WHY(v->chg_why, "temperature %.1f C <= charge cutoff %d C (S%u T%u)", dc / 10.0,
            t->charge_temp_low_dc / 10, si + 1, k + 1);
    }
    if (dc >= t->temp_high_dc) {
        *blocks_chg = *blocks_dis = true;
        WHY(v->chg_why, "temperature %.1f C >= over-heat cutoff %d C (S%u T%u)", dc / 10.0,
            t->temp_high_dc / 10, si + 1, k + 1);
        WHY(v->dis_why, "temperature %.1f C >= over-heat cutoff %d C (S%u T%u)", dc / 10.0,
            t->temp_high_dc / 10, si + 1, k + 1);
    }
}

/* Sensors of string si; without a battery sensor the BMS internal one guards the charge cutoff
 * and charging is derated; with no temperature at all the string does not charge. */
static void view_temps(const struct cfg_limits *cfg, const struct alarm_thresholds *t,
                       const struct bmsgw_system *sys, unsigned si, struct view *v,
                       bool *blocks_chg, bool *blocks_dis)
{
    const struct bmsgw_string *st = &sys->strings[si];
    unsigned seen = 0;
    for (unsigned k = 0; k < st->sensor_count && st->sensor_first + k < BMSGW_MAX_SENSORS; k++) {
        int16_t dc = sys->sensor_dc[st->sensor_first + k];
        if (dc == BMSGW_TEMP_ABSENT)
            continue;
        view_sensor(cfg, t, dc, si, k, v, blocks_chg, blocks_dis);
        seen++;
    }
    if (seen)
        return;
    if (cfg->no_sensor_charge_factor < v->ccl_sensor_f)
        v->ccl_sensor_f = cfg->no_sensor_charge_factor;
    if (st->mosfet_temp_dc == BMSGW_TEMP_ABSENT) {
        v->temp_source = BMSGW_TEMP_SOURCE_NONE;
        *blocks_chg = true;
        WHY(v->chg_why, "no temperature on S%u (no sensor, no BMS internal)", si + 1);
        return;
    }
    if (v->temp_source < BMSGW_TEMP_SOURCE_INTERNAL)
        v->temp_source = BMSGW_TEMP_SOURCE_INTERNAL;
    if (st->mosfet_temp_dc <= t->charge_temp_low_dc) {
        *blocks_chg = true;
        WHY(v->chg_why, "BMS internal %.1f C <= charge cutoff %d C (S%u, no sensor)",
            st->mosfet_temp_dc / 10.0, t->charge_temp_low_dc / 10, si + 1);
    }
}

/* Settings of string si refused as less safe than the configuration. */
static void view_refused(const struct alarm_thresholds *t, unsigned si, struct bmsgw_limits *out)
{
    for (unsigned w = 0; w < BMSGW_THRESHOLD_COUNT; w++) {
        if (!(t->refused & (1u << w)))
            continue;
        if (out->refused_count < BMSGW_REFUSED_MAX)
            out->refused[out->refused_count] =
                (struct bmsgw_refused){ .string = (int16_t)si,
                                        .what = (uint8_t)w,
                                        .bms = t->refused_bms[w],
                                        .config = t->refused_cfg[w] };
        out->refused_count++;
    }
}

static void view_fault(const struct bmsgw_string *st, struct view *v, bool *chg, bool *dis)
{
    unsigned id;
    int fault = alarms_string_fault(st, &id);
    if (!fault)
        return;
    *chg = true;
    if (id)
        WHY(v->chg_why, "BMS fault event 0x%02X (%s)", id, st->name);
    else
        WHY(v->chg_why, "BMS fault (%s)", st->name);
    if (fault < 2)
        return;
    *dis = true;
    if (id)
        WHY(v->dis_why, "BMS fault event 0x%02X (%s)", id, st->name);
    else
        WHY(v->dis_why, "BMS fault (%s)", st->name);
}

static void view_string(const struct cfg_limits *cfg, const struct cfg_alarms *acfg,
                        const struct bmsgw_system *sys, unsigned si, struct view *v)
{
    const struct bmsgw_string *st = &sys->strings[si];
    struct alarm_thresholds t;
    bool chg = false, dis = false;

    alarm_thresholds_resolve(acfg, st, &t);
    view_refused(&t, si, v->out);
    v->n_fresh++;
    if (st->cell_count && (v->n_series == 0 || st->cell_count < v->n_series))
        v->n_series = st->cell_count;
    if (st->cell_count > v->n_series_max)
        v->n_series_max = st->cell_count;
    double cap = st->cell_count * (t.cell_high_mv - LIMITS_OV_MARGIN_MV) / 1000.0;
    if (st->cell_count && (v->cap_v == 0 || cap < v->cap_v))
        v->cap_v = cap;
    if (st->pack_v > 0 && (v->pack_v == 0 || st->pack_v < v->pack_v))
        v->pack_v = st->pack_v;
    view_cells(cfg, &t, sys, si, v, &chg, &dis);
    view_temps(cfg, &t, sys, si, v, &chg, &dis);
    view_fault(st, v, &chg, &dis);
    v->block_chg += chg;
    v->block_dis += dis;
}

static void view_gather(const struct cfg_limits *cfg, const struct cfg_alarms *acfg,
                        const struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms,
                        struct view *v, struct bmsgw_limits *out)
{
    memset(v, 0, sizeof(*v));
    v->out = out;
    v->ccl_temp_f = v->dcl_temp_f = v->ccl_sensor_f = 1.0;
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;
    for (unsigned i = 0; i < n; i++)
        if (bmsgw_string_is_fresh(&sys->strings[i], now_ms, stale_after_ms))
            view_string(cfg, acfg, sys, i, v);
    v->soc_pct = sys->agg.soc_pct;
    v->avg_mv = sys->agg.avg_cell_mv;
    v->min_mv = sys->agg.min_cell_mv;
    v->max_mv = sys->agg.max_cell_mv;
    v->min_pos = sys->agg.min_cell;
    v->max_pos = sys->agg.max_cell;
}

static void phase_step(const struct cfg_limits *cfg, const struct view *v, int64_t dt_ms,
                       struct limits_state *st)
{
    double spread = (double)v->max_mv - v->min_mv;
    bool at_charge_v = v->avg_mv >= cfg->cell_charge_mv - LIMITS_ABSORPTION_MARGIN_MV;
    switch (st->phase) {
    case BMSGW_PHASE_ABSORPTION:
        if (spread > cfg->float_spread_mv)
            st->float_timer_ms = 0;
        else if (at_charge_v)
            st->float_timer_ms += dt_ms;
        if (st->float_timer_ms >= (int64_t)cfg->float_after_s * 1000)
            st->phase = BMSGW_PHASE_FLOAT;
        break;
    case BMSGW_PHASE_FLOAT:
        if (v->soc_pct < cfg->rebulk_soc_pct) {
            st->phase = BMSGW_PHASE_BULK;
        } else if (spread >= cfg->rebulk_spread_mv) {
            st->phase = BMSGW_PHASE_ABSORPTION;
            st->float_timer_ms = 0;
        }
        break;
    default:
        st->phase = BMSGW_PHASE_BULK;
        if (at_charge_v) {
            st->phase = BMSGW_PHASE_ABSORPTION;
            st->float_timer_ms = 0;
        }
        break;
    }
}

/* A current limit after the hard limit: hold after a zero, ramp any rise. */
static double smooth_current(double target, double prev, int64_t *zero_ms, int64_t now_ms,
                             int64_t dt_ms, const struct cfg_limits *cfg, int *hold_left_s)
{
    int64_t hold_ms = (int64_t)cfg->recover_hold_s * 1000;
    *hold_left_s = 0;
    if (target <= 0) {
        *zero_ms = now_ms;
        return 0;
    }
    if (*zero_ms != NEVER && *zero_ms > now_ms - hold_ms) {
        *hold_left_s = (int)((*zero_ms + hold_ms - now_ms + 999) / 1000);
        return 0;
    }
    if (target > prev) {
        double up = prev + cfg->ccl_ramp_a_per_s * (double)dt_ms / 1000.0;
        return up < target ? up : target;
    }
    return target;
}

/* Reason of the CVL output. target is the unclamped target, bound describes a clamp. */
static void cvl_reason(const struct cfg_limits *cfg, const struct view *v,
                       const struct limits_state *st, double target, bool guard,
                       const char *blocked, const char *bound, char *buf, size_t size)
{
    int n = 0;
    double shown = floor_tenth(st->cvl_v); /* what the CAN limit frame carries */
    if (blocked)
        n = snprintf(buf, size, "CVL %.1f V — held at pack voltage, %s", shown, blocked);
    else if (bound)
        n = snprintf(buf, size, "CVL %.1f V — %s", shown, bound);
    else if (guard)
        n = snprintf(buf, size, "CVL %.1f V — cell guard, max cell %.3f V (S%d C%u)", shown,
                     v->max_mv / 1000.0, v->max_pos.string + 1, v->max_pos.no);
    else if (st->phase == BMSGW_PHASE_ABSORPTION && cfg->float_after_s > 0)
        n = snprintf(buf, size, "CVL %.1f V — absorption, %u x %.3f V, float timer %lld/%d s",
                     shown, v->n_series, cfg->cell_charge_mv / 1000.0,
                     (long long)(st->float_timer_ms / 1000), cfg->float_after_s);
    else
        n = snprintf(buf, size, "CVL %.1f V — %s, %u x %.3f V", shown,
                     bmsgw_charge_phase_name(st->phase), v->n_series,
                     (st->phase == BMSGW_PHASE_FLOAT ? cfg->cell_float_mv : cfg->cell_charge_mv) /
                         1000.0);
    if (!blocked && n > 0 && (size_t)n < size && fabs(target - st->cvl_v) >= 0.05)
        snprintf(buf + n, size - (size_t)n, " (to %.1f V)", target);
}

/*
 * CVL: the phase's value (or the cell guard) bounded to [N x cell_min_mv, min(cap, max_cvl_v)]
 * (the upper bound wins a conflict); the output follows that target down at once and up at most
 * cvl_slew_mv_per_s, and is at most V (rounded down) whenever charging is blocked (blocked = its
 * reason, NULL when not), whatever the floor says.
 */
static void compute_cvl(const struct cfg_limits *cfg, const struct view *v, const char *blocked,
                        int64_t dt_ms, struct limits_state *st, struct bmsgw_limits *out)
{
    unsigned n = v->n_series;
    double target =
        n * (st->phase == BMSGW_PHASE_FLOAT ? cfg->cell_float_mv : cfg->cell_charge_mv) / 1000.0;
    bool guard = v->guard_v > 0 && v->guard_v < target;
    if (guard)
        target = v->guard_v;
    double lo = n * cfg->cell_min_mv / 1000.0, hi = v->cap_v;
    const char *bound = NULL;
    if (cfg->max_cvl_v > 0 && cfg->max_cvl_v < hi)
        hi = cfg->max_cvl_v;
    if (target < lo) {
        bound = "raised to the cell_min_mv floor";
        target = lo;
    }
    if (target > hi) { /* the upper bound wins a conflict */
        bound = hi == v->cap_v ? "capped below the over-voltage cutoff" : "capped at max_cvl_v";
        target = hi;
    }
    double cvl = target;
    if (st->started && target > st->cvl_v) {
        double up = st->cvl_v + cfg->cvl_slew_mv_per_s * (double)dt_ms / 1e6;
        cvl = up < target ? up : target;
    }
    double at_pack = floor_tenth(v->pack_v) > 0.1 ? floor_tenth(v->pack_v) : 0.1; /* CVL > 0 */
    if (blocked && v->pack_v > 0 && cvl > at_pack)
        cvl = at_pack;
    else
        blocked = NULL; /* already at or below the pack voltage */
    st->cvl_v = cvl;
    out->cvl_v = cvl;
    cvl_reason(cfg, v, st, target, guard, blocked, bound, out->cvl_reason, sizeof(out->cvl_reason));
}

/* One current limit (CCL or DCL): its inputs and the reason it is what it is. */
struct current_in {
    const char *name;      /* "CCL" / "DCL" */
    const char *cell_word; /* "max cell" / "min cell" */
    double max_a;          /* per string */
    const struct cfg_table *cell_table;
    uint16_t cell_mv;
    double temp_f;
    int16_t temp_dc;
    double sensor_f;      /* CCL of a string without a battery sensor, else 1 */
    const char *hard_why; /* "" = no hard limit */
    bool op_block;
    const char *op_by;
    double clamp_a; /* < 0 = none */
    int clamp_left_s;
    const char *clamp_by;
};

static void current_reason(const struct current_in *in, const struct view *v, double val,
                           double target, double f, int by, char *buf, size_t size)
{
    char detail[64];
    if (f >= 1.0)
        snprintf(detail, sizeof(detail), "%u x %.1f A", v->n_fresh, in->max_a);
    else if (by == 0)
        snprintf(detail, sizeof(detail), "%s %.3f V", in->cell_word, in->cell_mv / 1000.0);
    else if (by == 1)
        snprintf(detail, sizeof(detail), "temperature %.1f C", in->temp_dc / 10.0);
    else
        snprintf(detail, sizeof(detail), "no battery temperature sensor (BMS internal only)");
    int n = snprintf(buf, size,
                     f >= 0.1 || f == 0 ? "%s %.1f A (%.0f%%) — %s%s" : "%s %.1f A (%.1f%%) — %s%s",
                     in->name, floor_tenth(val), f * 100.0, detail,
                     v->n_temps || by == 2 ? "" : ", no temperature sensor");
    if (n > 0 && (size_t)n < size && val < target - 0.05)
        snprintf(buf + n, size - (size_t)n, " (ramping to %.1f A)", target);
}

static double compute_current(const struct cfg_limits *cfg, const struct current_in *in,
                              const struct view *v, double *prev, int64_t *zero_ms, int64_t now_ms,
                              int64_t dt_ms, char *reason, size_t size)
{
    double f = limits_table_factor(in->cell_table, in->cell_mv);
    int by = 0; /* what set the factor: 0 cell, 1 temperature, 2 no sensor */
    if (in->temp_f < f)
        f = in->temp_f, by = 1;
    if (in->sensor_f < f)
        f = in->sensor_f, by = 2;
    double target = in->max_a * v->n_fresh * f;
    char why[80] = "";
    if (in->op_block)
        snprintf(why, sizeof(why), "blocked by %s",
                 in->op_by && in->op_by[0] ? in->op_by : "the operator");
    else if (in->hard_why[0])
        snprintf(why, sizeof(why), "%s", in->hard_why);
    if (why[0])
        target = 0;
    bool clamped = !why[0] && in->clamp_a >= 0 && target > in->clamp_a;
    if (clamped)
        target = in->clamp_a;
    int hold_s;
    double val = smooth_current(target, *prev, zero_ms, now_ms, dt_ms, cfg, &hold_s);
    *prev = val;
    if (why[0])
        snprintf(reason, size, "%s 0 A — %s", in->name, why);
    else if (clamped && !hold_s && val >= target - 0.05)
        snprintf(reason, size, "%s %.1f A — clamped by %s, %d s left", in->name, floor_tenth(val),
                 in->clamp_by && in->clamp_by[0] ? in->clamp_by : "a command", in->clamp_left_s);
    else if (hold_s)
        snprintf(reason, size, "%s 0 A — recovering, %d s hold left", in->name, hold_s);
    else
        current_reason(in, v, val, target, f, by, reason, size);
    return val;
}

static void limits_invalid(int64_t now_ms, struct limits_state *st, struct bmsgw_limits *out)
{
    if (st->started) {
        st->ccl_zero_ms = st->dcl_zero_ms = now_ms;
        if (st->last_pack_v > 0 && st->last_pack_v < st->cvl_v)
            st->cvl_v = floor_tenth(st->last_pack_v);
    }
    st->ccl_a = st->dcl_a = 0;
    out->valid = false;
    out->phase = BMSGW_PHASE_BLOCKED;
    out->cvl_v = st->last_pack_v > 0 ? floor_tenth(st->last_pack_v) : 0;
    out->dvl_v = st->last_dvl_v;
    snprintf(out->dvl_reason, sizeof(out->dvl_reason), "DVL %.1f V — no fresh BMS data, as before",
             ceil(out->dvl_v * 10.0 - 1e-6) / 10.0);
    if (st->last_pack_v > 0)
        snprintf(out->cvl_reason, sizeof(out->cvl_reason),
                 "CVL %.1f V — no fresh BMS data, last pack voltage", out->cvl_v);
    else
        snprintf(out->cvl_reason, sizeof(out->cvl_reason), "CVL unknown — no fresh BMS data");
    snprintf(out->ccl_reason, sizeof(out->ccl_reason), "CCL 0 A — no fresh BMS data");
    snprintf(out->dcl_reason, sizeof(out->dcl_reason), "DCL 0 A — no fresh BMS data");
}

/* CCL and DCL of this step (into out); returns the reason charging is stopped, or NULL. */
static const char *compute_currents(const struct cfg_limits *cfg, const struct view *v,
                                    const struct limits_blocks *blocks, int64_t now_ms,
                                    int64_t dt_ms, struct limits_state *st,
                                    struct bmsgw_limits *out)
{
    bool op_chg = blocks && blocks->charge, op_dis = blocks && blocks->discharge;
    struct current_in ccl = {
        .name = "CCL",
        .cell_word = "max cell",
        .max_a = cfg->max_charge_current_a,
        .cell_table = &cfg->ccl_cell,
        .cell_mv = v->max_mv,
        .temp_f = v->ccl_temp_f,
        .temp_dc = v->ccl_temp_dc,
        .sensor_f = v->ccl_sensor_f,
        .hard_why = v->chg_why,
        .op_block = op_chg,
        .op_by = blocks ? blocks->charge_by : NULL,
        .clamp_a = blocks && blocks->charge_clamped ? blocks->charge_clamp_a : -1,
        .clamp_left_s = blocks ? blocks->charge_clamp_left_s : 0,
        .clamp_by = blocks ? blocks->clamp_by : NULL,
    };
    struct current_in dcl = {
        .name = "DCL",
        .cell_word = "min cell",
        .max_a = cfg->max_discharge_current_a,
        .cell_table = &cfg->dcl_cell,
        .cell_mv = v->min_mv,
        .temp_f = v->dcl_temp_f,
        .temp_dc = v->dcl_temp_dc,
        .sensor_f = 1.0,
        .hard_why = v->dis_why,
        .op_block = op_dis,
        .op_by = blocks ? blocks->discharge_by : NULL,
        .clamp_a = blocks && blocks->discharge_clamped ? blocks->discharge_clamp_a : -1,
        .clamp_left_s = blocks ? blocks->discharge_clamp_left_s : 0,
        .clamp_by = blocks ? blocks->clamp_by : NULL,
    };
    out->ccl_a = compute_current(cfg, &ccl, v, &st->ccl_a, &st->ccl_zero_ms, now_ms, dt_ms,
                                 out->ccl_reason, sizeof(out->ccl_reason));
    out->dcl_a = compute_current(cfg, &dcl, v, &st->dcl_a, &st->dcl_zero_ms, now_ms, dt_ms,
                                 out->dcl_reason, sizeof(out->dcl_reason));
    /* 0x372: the strings that block; a limit held at 0 (hold, ramp start) blocks them all */
    bool chg_zero = floor_tenth(out->ccl_a) <= 0, dis_zero = floor_tenth(out->dcl_a) <= 0;
    out->strings_blocking_charge =
        (uint16_t)(op_chg || (chg_zero && v->block_chg == 0) ? v->n_fresh : v->block_chg);
    out->strings_blocking_discharge =
        (uint16_t)(op_dis || (dis_zero && v->block_dis == 0) ? v->n_fresh : v->block_dis);
    if (!chg_zero)
        return NULL;
    if (op_chg)
        return "charge blocked by the operator";
    if (v->chg_why[0])
        return "charge blocked";
    if (strstr(out->ccl_reason, "recovering"))
        return "CCL held at 0 after a block";
    if (strstr(out->ccl_reason, "clamped"))
        return "CCL clamped to 0 by a command";
    return "CCL ramping up from 0";
}

void limits_compute(const struct cfg_limits *cfg, const struct cfg_alarms *alarms_cfg,
                    const struct bmsgw_system *sys, const struct limits_blocks *blocks,
                    int64_t now_ms, int stale_after_ms, struct limits_state *st,
                    struct bmsgw_limits *out)
{
    struct view v;
    memset(out, 0, sizeof(*out));
    view_gather(cfg, alarms_cfg, sys, now_ms, stale_after_ms, &v, out);
    out->computed_ms = now_ms;
    out->temp_source = v.temp_source;
    int64_t dt_ms = st->started ? now_ms - st->last_ms : 0;
    dt_ms = dt_ms < 0 ? 0 : dt_ms > LIMITS_MAX_STEP_MS ? LIMITS_MAX_STEP_MS : dt_ms;
    st->last_ms = now_ms;
    if (v.n_fresh == 0 || v.n_series == 0 || v.max_mv == 0) {
        limits_invalid(now_ms, st, out);
        return;
    }
    phase_step(cfg, &v, dt_ms, st);
    st->last_pack_v = v.pack_v;
    const char *stopped = compute_currents(cfg, &v, blocks, now_ms, dt_ms, st, out);
    compute_cvl(cfg, &v, stopped, dt_ms, st, out);
    out->dvl_v = st->last_dvl_v = v.n_series_max * cfg->cell_discharge_min_mv / 1000.0;
    snprintf(out->dvl_reason, sizeof(out->dvl_reason), "DVL %.1f V — %u x %.3f V",
             ceil(out->dvl_v * 10.0 - 1e-6) / 10.0, v.n_series_max,
             cfg->cell_discharge_min_mv / 1000.0);
    out->phase = stopped ? BMSGW_PHASE_BLOCKED : st->phase;
    out->valid = true;
    st->started = true;
}
