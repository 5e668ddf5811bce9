/* SPDX-License-Identifier: MIT */
/* test-limits.c — the charge-limit controller: rules, hard limits, smoothing, invariants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/alarms.h"
#include "bmsgw/limits.h"
#include "sysgen.h"

#define STALE 3000
#define BASE  100000 /* test times are relative to this (a sample at 0 ms means "never") */

static struct bmsgw_config cfg;

static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg);
    return 0;
}

#define near(a, b) (fabs((a) - (b)) < 1e-6)

static void step(struct bmsgw_system *s, struct limits_state *st, int64_t now,
                 const struct limits_blocks *b, struct bmsgw_limits *out)
{
    sysgen_touch(s, BASE + now);
    sysgen_driver(s);
    limits_compute(&cfg.limits, &cfg.alarms, s, b, BASE + now, STALE, st, out);
}

/* Steps of 1 s from t0 (inclusive) to t1 (exclusive); returns t1. */
static int64_t run(struct bmsgw_system *s, struct limits_state *st, int64_t t0, int64_t t1,
                   const struct limits_blocks *b, struct bmsgw_limits *out)
{
    for (int64_t t = t0; t < t1; t += 1000)
        step(s, st, t, b, out);
    return t1;
}

static void test_table_factor(void **state)
{
    (void)state;
    const struct cfg_table *t = &cfg.limits.ccl_cell; /* 3375/3400/3425/3450/3500 */
    assert_true(near(limits_table_factor(t, 3300), 1.0));
    assert_true(near(limits_table_factor(t, 3400), 0.25));
    assert_true(near(limits_table_factor(t, 3412.5), 0.15));
    assert_true(near(limits_table_factor(t, 3475), 0.0025));
    assert_true(near(limits_table_factor(t, 3500), 0.0));
    assert_true(near(limits_table_factor(t, 3700), 0.0));
    assert_true(near(limits_table_factor(&cfg.limits.ccl_temp, 7.5), 0.75));
    assert_true(near(limits_table_factor(&cfg.limits.dcl_temp, -5), 0.125));
    struct cfg_table empty = { 0 };
    assert_true(near(limits_table_factor(&empty, 10), 1.0));
}

static void test_bulk_defaults(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    step(s, &st, 0, NULL, &out);
    assert_true(out.valid);
    assert_true(near(out.dvl_v, 46.4)); /* 16 x 2.900 V */
    assert_true(near(out.ccl_a, 0.0));  /* ramps from 0 at 5 A/s */
    assert_non_null(strstr(out.ccl_reason, "ramping to 50.0 A"));
    /* CCL 0 means "stop charging": CVL at the pack voltage, the string counted as blocking */
    assert_true(near(out.cvl_v, 52.8));
    assert_non_null(strstr(out.cvl_reason, "held at pack voltage"));
    assert_int_equal(out.strings_blocking_charge, 1);
    step(s, &st, 1000, NULL, &out); /* then up at 50 mV/s */
    assert_int_equal(out.phase, BMSGW_PHASE_BULK);
    assert_true(near(out.ccl_a, 5.0));
    assert_true(near(out.cvl_v, 52.85));
    assert_string_equal(out.cvl_reason, "CVL 52.8 V — bulk, 16 x 3.450 V (to 55.2 V)");
    assert_int_equal(out.strings_blocking_charge, 0);
    run(s, &st, 2000, 60000, NULL, &out);
    assert_true(near(out.cvl_v, 55.2)); /* 16 x 3.450 V */
    assert_true(near(out.ccl_a, 50.0));
    assert_true(near(out.dcl_a, 100.0));
    assert_string_equal(out.ccl_reason, "CCL 50.0 A (100%) — 1 x 50.0 A");
    assert_string_equal(out.cvl_reason, "CVL 55.2 V — bulk, 16 x 3.450 V");
    assert_int_equal(out.strings_blocking_charge, 0);
    free(s);
}

static void test_ccl_tapers_by_cell_and_temperature(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    run(s, &st, 0, 20000, NULL, &out);
    sysgen_cell(s, 0, 5, 3400);
    step(s, &st, 20000, NULL, &out);
    assert_true(near(out.ccl_a, 12.5)); /* 25 %: decreases are immediate */
    assert_string_equal(out.ccl_reason, "CCL 12.5 A (25%) — max cell 3.400 V");
    sysgen_cell(s, 0, 5, 3300);
    s->sensor_dc[1] = 450; /* 45 degC -> 0.5 */
    run(s, &st, 21000, 40000, NULL, &out);
    assert_true(near(out.ccl_a, 25.0));
    assert_string_equal(out.ccl_reason, "CCL 25.0 A (50%) — temperature 45.0 C");
    assert_true(near(out.dcl_a, 50.0));
    free(s);
}

static void test_cell_guard(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3440, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.cvl_v, 55.2));
    sysgen_cell(s, 0, 7, 3460);
    step(s, &st, 60000, NULL, &out);
    /* target 15 x 3.440 + 3.450 + 0.010 = 55.06 V: a decrease, taken at once */
    assert_true(near(out.cvl_v, 55.06));
    assert_string_equal(out.cvl_reason, "CVL 55.0 V — cell guard, max cell 3.460 V (S1 C7)");
    assert_true(out.ccl_a > 0 && out.ccl_a < 0.25); /* the cell table: 0.4 % at 3.46 V */
    assert_int_equal(out.phase, BMSGW_PHASE_ABSORPTION);
    /* above 3.5 V the table gives 0: charging stops, CVL to the pack voltage 55.04 V */
    sysgen_cell(s, 0, 7, 3520);
    step(s, &st, 61000, NULL, &out);
    assert_true(near(out.ccl_a, 0.0));
    assert_true(near(out.cvl_v, 55.0));
    assert_non_null(strstr(out.cvl_reason, "held at pack voltage"));
    assert_int_equal(out.strings_blocking_charge, 1);
    free(s);
}

static void test_hard_limit_over_voltage_hold_and_ramp(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    run(s, &st, 0, 20000, NULL, &out);
    sysgen_cell(s, 0, 7, 3650);
    step(s, &st, 20000, NULL, &out);
    assert_true(near(out.ccl_a, 0.0));
    assert_string_equal(out.ccl_reason, "CCL 0 A — cell 3.650 V >= cutoff 3.650 V (S1 C7)");
    assert_int_equal(out.phase, BMSGW_PHASE_BLOCKED);
    assert_int_equal(out.strings_blocking_charge, 1);
    assert_int_equal(out.strings_blocking_discharge, 0);
    assert_true(near(out.dcl_a, 100.0));
    sysgen_cell(s, 0, 7, 3300);
    step(s, &st, 21000, NULL, &out); /* cause cleared at 21 s; last zero at 20 s */
    assert_true(near(out.ccl_a, 0.0));
    assert_string_equal(out.ccl_reason, "CCL 0 A — recovering, 29 s hold left");
    run(s, &st, 22000, 50000, NULL, &out);
    assert_true(near(out.ccl_a, 0.0));
    step(s, &st, 50000, NULL, &out); /* hold over: ramp from 0 at 5 A/s */
    assert_true(near(out.ccl_a, 5.0));
    step(s, &st, 51000, NULL, &out);
    assert_true(near(out.ccl_a, 10.0));
    free(s);
}

static void test_hard_limits_cold_fault_under_voltage(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    run(s, &st, 0, 30000, NULL, &out);
    s->sensor_dc[0] = 0;
    step(s, &st, 30000, NULL, &out);
    assert_true(near(out.ccl_a, 0.0));
    assert_string_equal(out.ccl_reason, "CCL 0 A — temperature 0.0 C <= charge cutoff 0 C (S1 T1)");
    assert_true(near(out.dcl_a, 25.0)); /* dcl_temp at 0 degC: 0.25 */

    s->sensor_dc[0] = 250;
    s->strings[0].state = BMSGW_BMS_FAULT;
    step(s, &st, 31000, NULL, &out);
    assert_true(near(out.ccl_a, 0.0) && near(out.dcl_a, 0.0));
    assert_string_equal(out.dcl_reason, "DCL 0 A — BMS fault (A)");
    assert_int_equal(out.strings_blocking_discharge, 1);

    s->strings[0].state = BMSGW_BMS_IDLE;
    limits_init(&st);
    sysgen_cell(s, 0, 3, 2500);
    step(s, &st, 40000, NULL, &out);
    step(s, &st, 41000, NULL, &out); /* past the start of the CCL ramp */
    assert_true(near(out.dcl_a, 0.0));
    assert_string_equal(out.dcl_reason, "DCL 0 A — cell 2.500 V <= cutoff 2.500 V (S1 C3)");
    assert_int_equal(out.phase, BMSGW_PHASE_BULK); /* discharge limits do not block charging */
    free(s);
}

static void test_operator_block_lowers_cvl(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    struct limits_blocks b = { .charge = true, .charge_by = "modbus coil 100" };
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.cvl_v, 55.2));
    step(s, &st, 60000, &b, &out);
    assert_true(near(out.ccl_a, 0.0));
    assert_string_equal(out.ccl_reason, "CCL 0 A — blocked by modbus coil 100");
    assert_true(near(out.cvl_v, 52.8)); /* the pack voltage on the same step, no slew down */
    assert_string_equal(out.cvl_reason,
                        "CVL 52.8 V — held at pack voltage, charge blocked by the operator");
    assert_int_equal(out.strings_blocking_charge, 1);
    run(s, &st, 61000, 120000, &b, &out);
    assert_true(near(out.cvl_v, 52.8));
    assert_true(near(out.dcl_a, 100.0));
    b = (struct limits_blocks){ .discharge = true };
    step(s, &st, 120000, &b, &out);
    assert_true(near(out.dcl_a, 0.0));
    assert_string_equal(out.dcl_reason, "DCL 0 A — blocked by the operator");
    free(s);
}

/* A clamp lowers a limit at once and never raises it; CCL clamped to 0 holds CVL at the pack
 * voltage; once the clamp is gone the limit ramps back up. */
static void test_clamp_only_lowers(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    struct limits_blocks b = { .charge_clamped = true,
                               .charge_clamp_a = 20.0,
                               .charge_clamp_left_s = 30,
                               .clamp_by = "mqtt" };
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.ccl_a, 50.0));
    step(s, &st, 60000, &b, &out);
    assert_true(near(out.ccl_a, 20.0));
    assert_string_equal(out.ccl_reason, "CCL 20.0 A — clamped by mqtt, 30 s left");
    assert_true(near(out.dcl_a, 100.0)); /* the other limit is untouched */
    b.charge_clamp_a = 80.0;             /* above the controller's limit: no effect */
    step(s, &st, 61000, &b, &out);
    assert_true(out.ccl_a <= 50.0 + 1e-6); /* ramping back from 20 A, never above 50 A */
    assert_null(strstr(out.ccl_reason, "clamped"));
    b.charge_clamp_a = 0.0;
    step(s, &st, 70000, &b, &out);
    assert_true(near(out.ccl_a, 0.0));
    assert_true(near(out.cvl_v, 52.8)); /* stop charging: CVL at the pack voltage too */
    run(s, &st, 71000, 80000, &b, &out);
    step(s, &st, 80000, NULL, &out); /* expired: held at 0, then ramped, never a jump */
    assert_true(out.ccl_a < 50.0);
    run(s, &st, 81000, 200000, NULL, &out);
    assert_true(near(out.ccl_a, 50.0));
    b = (struct limits_blocks){ .discharge_clamped = true, .discharge_clamp_a = 10.0 };
    step(s, &st, 200000, &b, &out);
    assert_true(near(out.dcl_a, 10.0));
    assert_string_equal(out.dcl_reason, "DCL 10.0 A — clamped by a command, 0 s left");
    free(s);
}

static void test_cvl_bounds(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;

    cfg.limits.max_cvl_v = 54.0;
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.cvl_v, 54.0));
    assert_string_equal(out.cvl_reason, "CVL 54.0 V — capped at max_cvl_v");
    cfg.limits.max_cvl_v = 0;

    /* over-voltage cutoff from register 315: 16 x (3.480 - 0.050) */
    s->strings[0].settings_valid = true;
    s->strings[0].settings_reg[15] = 3480;
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.cvl_v, 54.88));
    /* the reason shows what 0x351 carries: rounded down */
    assert_string_equal(out.cvl_reason, "CVL 54.8 V — capped below the over-voltage cutoff");

    /* a conflict between floor and cap: the cap wins */
    s->strings[0].settings_reg[15] = 2900;
    limits_init(&st);
    step(s, &st, 0, NULL, &out);
    assert_true(near(out.cvl_v, 45.6));
    s->strings[0].settings_valid = false;

    /* the guard cannot pull CVL under the floor (while charging is allowed) */
    for (unsigned c = 1; c <= 16; c++)
        sysgen_cell(s, 0, c, 2900);
    sysgen_cell(s, 0, 1, 3460);
    s->strings[0].pack_v = 47.06;
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.cvl_v, 48.0));
    assert_string_equal(out.cvl_reason, "CVL 48.0 V — raised to the cell_min_mv floor");
    free(s);
}

static void test_multi_string(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(2, 16, 1, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    run(s, &st, 0, 60000, NULL, &out);
    assert_true(near(out.ccl_a, 100.0));
    assert_true(near(out.dcl_a, 200.0));
    assert_string_equal(out.ccl_reason, "CCL 100.0 A (100%) — 2 x 50.0 A");
    sysgen_cell(s, 1, 2, 3400); /* extremes over all strings */
    step(s, &st, 60000, NULL, &out);
    assert_true(near(out.ccl_a, 25.0));
    s->strings[1].online = false;
    sysgen_cell(s, 1, 2, 3300);
    step(s, &st, 61000, NULL, &out);
    assert_true(near(out.ccl_a, 30.0)); /* ramps from 25 toward 50 at 5 A/s */
    assert_true(out.dcl_a <= 100.0);
    run(s, &st, 62000, 80000, NULL, &out);
    assert_true(near(out.ccl_a, 50.0));
    assert_true(near(out.dcl_a, 100.0));
    sysgen_cell(s, 0, 1, 3700);
    step(s, &st, 80000, NULL, &out);
    assert_int_equal(out.strings_blocking_charge, 1);
    free(s);
}

static void test_stale_is_invalid_then_holds(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, 0);
    struct limits_state st;
    struct bmsgw_limits out;
    limits_init(&st);
    /* nothing valid yet */
    s->strings[0].online = false;
    step(s, &st, 0, NULL, &out);
    assert_false(out.valid);
    assert_true(near(out.cvl_v, 0));
    assert_string_equal(out.cvl_reason, "CVL unknown — no fresh BMS data");
    s->strings[0].online = true;
    run(s, &st, 1000, 30000, NULL, &out);
    assert_true(near(out.ccl_a, 50.0)); /* no hold at start-up */
    /* the sample ages past stale_after_ms */
    limits_compute(&cfg.limits, &cfg.alarms, s, NULL, BASE + 29000 + STALE + 1, STALE, &st, &out);
    assert_false(out.valid);
    assert_int_equal(out.phase, BMSGW_PHASE_BLOCKED);
    assert_true(near(out.ccl_a, 0) && near(out.dcl_a, 0));
    assert_true(near(out.cvl_v, 52.8)); /* the last pack voltage */
    assert_string_equal(out.ccl_reason, "CCL 0 A — no fresh BMS data");
    step(s, &st, 40000, NULL, &out);
    assert_true(out.valid);
    assert_true(near(out.ccl_a, 0)); /* held after the gap */
    assert_non_null(strstr(out.ccl_reason, "hold left"));
    free(s);
}

/* ---- a whole charge: bulk -> absorption -> float -> rebulk -------------------------------- */

/* A charger that obeys CCL and CVL (constant current, then constant voltage). */
static double charger_current(const struct battery *b, const struct bmsgw_limits *l, double max_a)
{
    double ocv = 0, r = 0;
    for (unsigned i = 0; i < b->p.cells; i++) {
        ocv += battery_ocv_v(b->p.chemistry, b->cells[i].soc);
        r += b->cells[i].r_ohm;
    }
    double i_cv = (l->cvl_v - ocv) / r;
    double i = l->ccl_a < max_a ? l->ccl_a : max_a;
    i = i_cv < i ? i_cv : i;
    return i > 0 ? i : 0;
}

struct scenario {
    struct battery bat;
    struct bmsgw_system *sys;
    struct limits_state st;
    struct bmsgw_limits out;
    int64_t now;
};

/* Run with current_a (NAN = the charger) until phase is reached; returns the seconds taken. */
static int run_until(struct scenario *sc, double current_a, uint8_t phase, int max_s)
{
    for (int s = 0; s < max_s; s++) {
        double i = isnan(current_a) ? charger_current(&sc->bat, &sc->out, 40.0) : current_a;
        battery_step(&sc->bat, i, 1.0);
        sc->now += 1000;
        sysgen_from_battery(sc->sys, 0, &sc->bat, sc->now);
        limits_compute(&cfg.limits, &cfg.alarms, sc->sys, NULL, sc->now, STALE, &sc->st, &sc->out);
        if (sc->out.phase == phase)
            return s + 1;
    }
    fail_msg("phase %s not reached in %d s (phase %s, %s)", bmsgw_charge_phase_name(phase), max_s,
             bmsgw_charge_phase_name(sc->out.phase), sc->out.cvl_reason);
    return -1;
}

static void test_scenario_whole_charge(void **state)
{
    (void)state;
    struct scenario sc = { .now = 0 };
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_LFP);
    p.capacity_spread = 0.0;
    p.r_spread = 0.0;
    p.soc_spread_pct = 0.2;
    p.soc_pct = 60;
    assert_int_equal(battery_init(&sc.bat, &p), 0);
    sc.sys = sysgen_new(1, p.cells, p.sensors, 3300, 250, 0);
    limits_init(&sc.st);

    run_until(&sc, NAN, BMSGW_PHASE_BULK, 5);
    for (int i = 0; i < 60; i++) /* CVL starts at the pack voltage and slews up */
        run_until(&sc, NAN, BMSGW_PHASE_BULK, 1);
    assert_true(near(sc.out.cvl_v, 55.2));
    run_until(&sc, NAN, BMSGW_PHASE_ABSORPTION, 4 * 3600);
    assert_true(sc.bat.est_soc_pct > 90);
    int absorb_s = run_until(&sc, NAN, BMSGW_PHASE_FLOAT, 4 * 3600);
    assert_true(absorb_s >= cfg.limits.float_after_s);
    /* CVL goes down to 16 x 3.375 V at once: only increases are slewed */
    assert_true(near(sc.out.cvl_v, 54.0));
    assert_string_equal(sc.out.cvl_reason, "CVL 54.0 V — float, 16 x 3.375 V");

    /* a load takes the battery below the re-bulk SOC */
    run_until(&sc, -50.0, BMSGW_PHASE_BULK, 4 * 3600);
    assert_true(sc.bat.est_soc_pct < cfg.limits.rebulk_soc_pct);
    assert_true(sc.bat.est_soc_pct > cfg.limits.rebulk_soc_pct - 1);
    run_until(&sc, NAN, BMSGW_PHASE_ABSORPTION, 4 * 3600);

    /* in float, a cell drifting away sends the controller back to absorption */
    run_until(&sc, NAN, BMSGW_PHASE_FLOAT, 4 * 3600);
    sc.bat.cells[3].forced_mv = battery_cell_mv(&sc.bat, 4) - 85;
    run_until(&sc, NAN, BMSGW_PHASE_ABSORPTION, 5);
    battery_free(&sc.bat);
    free(sc.sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_table_factor, setup),
        cmocka_unit_test_setup(test_bulk_defaults, setup),
        cmocka_unit_test_setup(test_ccl_tapers_by_cell_and_temperature, setup),
        cmocka_unit_test_setup(test_cell_guard, setup),
        cmocka_unit_test_setup(test_hard_limit_over_voltage_hold_and_ramp, setup),
        cmocka_unit_test_setup(test_hard_limits_cold_fault_under_voltage, setup),
        cmocka_unit_test_setup(test_operator_block_lowers_cvl, setup),
        cmocka_unit_test_setup(test_cvl_bounds, setup),
        cmocka_unit_test_setup(test_multi_string, setup),
        cmocka_unit_test_setup(test_clamp_only_lowers, setup),
        cmocka_unit_test_setup(test_stale_is_invalid_then_holds, setup),
        cmocka_unit_test_setup(test_scenario_whole_charge, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
