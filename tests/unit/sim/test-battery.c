/* SPDX-License-Identifier: MIT */
/* test-battery.c — the simulators' physics: curves, charge, heat, spread, balancing, estimate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bmsgw/battery.h"
#include "bmsgw/config.h"

static void test_ocv_monotonic(void **state)
{
    (void)state;
    for (int chem = 0; chem < CFG_CHEM_COUNT; chem++) {
        double prev = 0;
        for (int i = -5; i <= 105; i++) {
            double v = battery_ocv_v(chem, i / 100.0);
            assert_true(v >= prev);
            prev = v;
        }
    }
    assert_true(fabs(battery_ocv_v(CFG_CHEM_LFP, 0.5) - 3.300) < 1e-9);
    assert_true(fabs(battery_ocv_v(CFG_CHEM_NMC, 1.0) - 4.180) < 1e-9);
    assert_true(fabs(battery_ocv_v(CFG_CHEM_LFP, 2.0) - 4.000) < 1e-9); /* clamped */
}

static void test_charge_raises_soc_and_voltage(void **state)
{
    (void)state;
    struct battery b;
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_LFP);
    p.soc_pct = 50;
    assert_int_equal(battery_init(&b, &p), 0);
    double v0 = b.pack_v, soc0 = battery_mean_soc_pct(&b);
    for (int i = 0; i < 600; i++)
        battery_step(&b, 50.0, 1.0); /* 50 A for 10 minutes: 8.3 Ah of 100 */
    double soc1 = battery_mean_soc_pct(&b);
    assert_true(fabs((soc1 - soc0) - 8.33) < 0.4);
    assert_true(b.pack_v > v0);
    assert_true(fabs(b.charged_ah - 8.333) < 0.01);
    assert_true(b.charged_wh > 8.3 * 50 && b.charged_wh < 8.4 * 60);
    assert_true(fabs(b.est_soc_pct - (50 + 8.33)) < 0.5);
    /* under load the terminal voltage is below the rest voltage */
    battery_step(&b, -100.0, 0.001);
    double loaded = b.pack_v;
    battery_step(&b, 0.0, 0.001);
    assert_true(loaded < b.pack_v - 16 * 100 * 0.0004);
    battery_free(&b);
}

static void test_spread_and_determinism(void **state)
{
    (void)state;
    struct battery a, b;
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_NMC);
    p.seed = 42;
    battery_init(&a, &p);
    battery_init(&b, &p);
    unsigned distinct = 0;
    for (unsigned i = 0; i < p.cells; i++) {
        assert_int_equal(battery_cell_mv(&a, i), battery_cell_mv(&b, i));
        if (battery_cell_mv(&a, i) != battery_cell_mv(&a, 0))
            distinct++;
    }
    assert_true(distinct >= 3); /* cells differ realistically */
    battery_free(&a);
    battery_free(&b);
}

static void test_heat_and_relax(void **state)
{
    (void)state;
    struct battery b;
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_LFP);
    battery_init(&b, &p);
    for (int i = 0; i < 3600; i++)
        battery_step(&b, i % 2 ? 150.0 : -150.0, 1.0);
    double hot = b.sensors[0].temp_c;
    assert_true(hot > p.ambient_c + 5.0);
    for (int i = 0; i < 20000; i++)
        battery_step(&b, 0.0, 1.0);
    assert_true(fabs(b.sensors[0].temp_c - p.ambient_c) < 1.0);
    battery_free(&b);
}

static void test_faults(void **state)
{
    (void)state;
    struct battery b;
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_LFP);
    battery_init(&b, &p);
    b.cells[6].forced_mv = 3700;
    battery_step(&b, 0, 1);
    assert_int_equal(battery_cell_mv(&b, 6), 3700);
    assert_int_equal(battery_max_cell(&b), 6);
    b.sensors[1].absent = true;
    assert_int_equal(battery_sensor_dc(&b, 1), INT16_MIN);
    b.sensors[0].forced = true;
    b.sensors[0].forced_c = -12.5;
    assert_int_equal(battery_sensor_dc(&b, 0), -125);
    battery_free(&b);
}

static void test_balancing_and_full_correction(void **state)
{
    (void)state;
    struct battery b;
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_LFP);
    p.soc_pct = 97;
    p.soc_spread_pct = 1.5;
    battery_init(&b, &p);
    b.est_soc_pct = 90; /* the estimate drifted */
    bool balanced = false;
    for (int i = 0; i < 1800 && !balanced; i++) {
        battery_step(&b, 20.0, 1.0);
        for (unsigned c = 0; c < p.cells; c++)
            balanced |= b.cells[c].balancing;
    }
    assert_true(balanced);
    for (int i = 0; i < 600; i++)
        battery_step(&b, 20.0, 1.0);
    assert_true(b.est_soc_pct == 100.0); /* corrected at full */
    battery_free(&b);
}

static void test_set_soc(void **state)
{
    (void)state;
    struct battery b;
    struct battery_params p;
    battery_params_default(&p, CFG_CHEM_LFP);
    battery_init(&b, &p);
    battery_set_soc(&b, 20);
    assert_true(fabs(battery_mean_soc_pct(&b) - 20) < 1e-6);
    assert_true(b.est_soc_pct == 20);
    battery_free(&b);
    assert_int_equal(battery_init(&b, &(struct battery_params){ 0 }), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ocv_monotonic),
        cmocka_unit_test(test_charge_raises_soc_and_voltage),
        cmocka_unit_test(test_spread_and_determinism),
        cmocka_unit_test(test_heat_and_relax),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_balancing_and_full_correction),
        cmocka_unit_test(test_set_soc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
