/* SPDX-License-Identifier: MIT */
/* limits.h — the charge-limit controller: CVL/CCL/DCL/DVL with reasons (pure, stateful). */
#ifndef BMSGW_LIMITS_H
#define BMSGW_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"

/*
 * spec/victron-can.md "Charge limits" and "Safety invariants". V = the lowest pack voltage of
 * the fresh strings; N = their fewest series cells (CVL), the most for DVL; cell-level inputs
 * are the extremes over the fresh strings; current limits scale with the number of fresh
 * strings. The cut-offs in force are each string's, the stricter of the configuration and the
 * BMS's own over/under-voltage, over-heat and charge low-temperature cut-offs (bmsgw_string.
 * cutoff, alarms.h); one less safe than the configuration is not used and is listed in
 * bmsgw_limits.refused.
 *
 * Phases: bulk (CVL = N x cell_charge_mv) until the mean cell reaches cell_charge_mv -
 * LIMITS_ABSORPTION_MARGIN_MV; absorption (same CVL) until every cell stayed within
 * float_spread_mv for float_after_s (the timer pauses while the voltage dips and restarts when
 * the spread widens); float (target N x cell_float_mv); back to bulk when SOC < rebulk_soc_pct,
 * to absorption when the spread reaches rebulk_spread_mv.
 *
 * CVL target: the phase's value, lowered by the cell guard (a cell above cell_charge_mv:
 * min over strings of sum(min(cell, cell_charge_mv)) + 10 mV), bounded to [N x cell_min_mv,
 * min(N x (over-voltage cutoff - 50 mV), max_cvl_v)] (the upper bound wins a conflict). The
 * output follows the target down at once and up at most cvl_slew_mv_per_s (elapsed time capped
 * at LIMITS_MAX_STEP_MS). Whenever the CCL output is 0 (rounded down to 0.1 A) — a hard limit,
 * a factor reaching 0, the operator, the hold after a block or the start of a ramp — CVL is at
 * most V rounded down to 0.1 V on the same step, whatever the floor says; it is never 0 while
 * valid.
 *
 * CCL = max_charge_current_a x fresh strings x min(factor(highest cell), factor(every connected
 * battery sensor), no_sensor_charge_factor if a string has no battery sensor); DCL likewise with
 * the lowest cell. Hard limits, per string: CCL = 0 when a cell >= its over-voltage cutoff, a
 * battery sensor <= its charge low-temperature cutoff (the BMS internal sensor when the string
 * has none), no temperature at all, a sensor >= the over-heat cutoff (DCL = 0 too), a BMS fault
 * (alarms_string_fault: DCL = 0 too for discharge-side faults), a table factor of 0, or charge
 * blocked by the operator; DCL = 0 when a cell <= its under-voltage cutoff or discharge is
 * blocked. A limit that was 0 stays 0 for recover_hold_s after its cause cleared, and any rise
 * (start-up included) is ramped at ccl_ramp_a_per_s; decreases are immediate. 0x372 counts the
 * strings that block; a limit held at 0 without a string's own cause counts every fresh one.
 *
 * Without a fresh string the output is invalid: phase blocked, CCL = DCL = 0, CVL = the last
 * known pack voltage rounded down (can_out.h decides what the bus gets), DVL as before.
 */

#define LIMITS_ABSORPTION_MARGIN_MV 20
#define LIMITS_GUARD_MARGIN_MV      10
#define LIMITS_OV_MARGIN_MV         CFG_OV_MARGIN_MV
#define LIMITS_MAX_STEP_MS          2000

/* Operator blocks as the controller sees them (control.h). */
struct limits_blocks {
    bool charge;
    bool discharge;
    const char *charge_by; /* may be NULL */
    const char *discharge_by;
    /* Clamps in force (control.h): the limit becomes min(its value, clamp_a). */
    bool charge_clamped, discharge_clamped;
    double charge_clamp_a, discharge_clamp_a;
    int charge_clamp_left_s, discharge_clamp_left_s;
    const char *clamp_by;
};

/* Controller state carried from one computation to the next. */
struct limits_state {
    bool started;  /* a valid output was produced before */
    uint8_t phase; /* enum bmsgw_charge_phase: bulk, absorption or float */
    int64_t last_ms;
    int64_t float_timer_ms;
    double cvl_v;
    double ccl_a;
    double dcl_a;
    int64_t ccl_zero_ms; /* last time the CCL target was 0, 0 = never */
    int64_t dcl_zero_ms;
    double last_pack_v; /* newest pack voltage seen while fresh */
    double last_dvl_v;
};

void limits_init(struct limits_state *st);

/* Piecewise-linear factor of table t at x (flat beyond the ends); 1 for an empty table. */
double limits_table_factor(const struct cfg_table *t, double x);

/*
 * One step at now_ms over sys (aggregated, with the same stale_after_ms). alarms_cfg gives the
 * per-string cut-offs; blocks may be NULL. Writes *out (every field, reasons included).
 */
void limits_compute(const struct cfg_limits *cfg, const struct cfg_alarms *alarms_cfg,
                    const struct bmsgw_system *sys, const struct limits_blocks *blocks,
                    int64_t now_ms, int stale_after_ms, struct limits_state *st,
                    struct bmsgw_limits *out);

#endif
