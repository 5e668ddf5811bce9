/* SPDX-License-Identifier: MIT */
/* test-map-tescom.c — the Tescom map against addresses and values worked out from seed 002. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsgw/alarms.h"
#include "bmsgw/config.h"
#include "bmsgw/mbmap_maps.h"
#include "bmsgw/tinybms.h"
#include "fixture-system.h"

struct fix {
    struct bmsgw_system *sys;
    struct mbmap_tescom_src *src;
    struct cfg_alarms cfg;
    struct mbmap_tescom_limits lim;
    struct mbmap_image img;
};

static void set_cells(struct bmsgw_system *sys, struct bmsgw_string *st, const uint16_t *mv)
{
    for (unsigned c = 0; c < st->cell_count; c++)
        sys->cell_mv[st->cell_first + c] = mv[c];
}

/* The seed's example layout: arms with 7, 0, 5 batteries and no fourth arm. */
static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct bmsgw_config cfg;
    f->sys = fix_system_new();
    f->src = calloc(1, sizeof(*f->src));
    struct bmsgw_string *a1 = fix_add_string(f->sys, 7, 2, 0, 0);
    set_cells(f->sys, a1, (const uint16_t[]){ 3650, 3680, 3300, 3300, 3300, 3300, 3300 });
    f->sys->sensor_dc[a1->sensor_first] = 272;
    f->sys->sensor_dc[a1->sensor_first + 1] = 268;
    a1->mosfet_temp_dc = 285;
    a1->soc_pct = 85.0;
    a1->soh_pct = 95.0;
    a1->current_a = 15.5;
    fix_add_string(f->sys, 0, 0, 0, 0);
    struct bmsgw_string *a3 = fix_add_string(f->sys, 5, 2, 0, 250);
    set_cells(f->sys, a3, (const uint16_t[]){ 3300, 3300, 3300, 2590, 2400 });
    a3->soc_pct = 20.0;
    a3->current_a = -250.0;
    fix_aggregate(f->sys);
    config_defaults(&cfg); /* cells 2500..3650 mV, warnings 100/50 mV inside, 100/200 A */
    f->cfg = cfg.alarms;
    struct alarm_thresholds th;
    alarm_thresholds_resolve(&f->cfg, NULL, &th);
    mbmap_tescom_limits_from(&f->lim, &th);
    assert_int_equal(mbmap_image_init(&f->img, &mbmap_tescom, MBMAP_WORDS_ABCD), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbmap_image_deinit(&f->img);
    free(f->src);
    free(f->sys);
    free(f);
    return 0;
}

static void render(struct fix *f, bool stale)
{
    mbmap_tescom_from_system(f->src, f->sys, &f->cfg, stale);
    mbmap_render(&f->img, f->src);
}

static int16_t reg(struct fix *f, unsigned addr)
{
    return (int16_t)img_reg(&f->img, addr);
}

static void test_battery_counts_are_plain_integers(void **state)
{
    struct fix *f = *state;
    render(f, false);
    assert_int_equal(reg(f, 0), 7); /* not 700: the seed's "x100" note loses to its table */
    assert_int_equal(reg(f, 1), 0);
    assert_int_equal(reg(f, 2), 5);
    assert_int_equal(reg(f, 3), 0);
}

static void test_arm_one_live_block(void **state)
{
    struct fix *f = *state;
    render(f, false);
    /* arm 1 starts at 1001, as the seed's examples place it (its formula says 2000) */
    assert_int_equal(reg(f, 1001), 1550); /* 15.5 A */
    assert_int_equal(reg(f, 1002), 0);    /* humidity: no sensor */
    assert_int_equal(reg(f, 1003), 2720); /* module temperature = highest sensor */
    assert_int_equal(reg(f, 1004), 0);    /* ambient: no sensor */
    assert_int_equal(reg(f, 1005), 365);  /* battery 1: 3.65 V */
    assert_int_equal(reg(f, 1006), 8500); /* SOC 85.00 % */
    assert_int_equal(reg(f, 1007), 2850); /* RIMT = BMS internal 28.5 degC */
    assert_int_equal(reg(f, 1008), 9500); /* SOH */
    assert_int_equal(reg(f, 1009), 2720); /* NTC1 */
    assert_int_equal(reg(f, 1010), 2680); /* NTC2 */
    assert_int_equal(reg(f, 1011), 2720); /* NTC3 = pack maximum */
    assert_int_equal(reg(f, 1012), 368);  /* battery 2 voltage */
    assert_int_equal(reg(f, 1047), 330);  /* battery 7 voltage: 1001 + 4 + 6 x 7 */
    assert_int_equal(reg(f, 1053), 2720); /* battery 7 NTC3 */
    assert_int_equal(reg(f, 1054), 0);    /* no battery 8 */
    assert_int_equal(reg(f, 2001), 0);    /* arm 2 has no battery */
}

static void test_formulas_win_over_worked_examples(void **state)
{
    struct fix *f = *state;
    render(f, false);
    /* arm 3 battery 3 is at 3001 + 4 + 2 x 7 = 3019; the seed's example says 3026 */
    assert_int_equal(reg(f, 3019), 330);
    assert_int_equal(reg(f, 3026), 259);  /* 3026 is battery 4 */
    assert_int_equal(reg(f, 3034), 2000); /* arm 3 battery 5 SOC, the seed's formula example */
    assert_int_equal(reg(f, 3001), -25000);
    unsigned g, i, o;
    const struct mbmap_field *fl = mbmap_locate(&mbmap_tescom, MBMAP_REGS, 5856, &g, &i, &o);
    assert_string_equal(fl->key, "alarm_low_voltage_warning"); /* arm 2 battery 2, not 4 */
    assert_int_equal(g, 1);
    assert_int_equal(i, 1);
    fl = mbmap_locate(&mbmap_tescom, MBMAP_REGS, 6705, &g, &i, &o);
    assert_string_equal(fl->key, "alarm_positive_pole_temperature"); /* arm 3 battery 2 */
    assert_int_equal(i, 1);
}

static void test_alarms(void **state)
{
    struct fix *f = *state;
    render(f, false);
    /* arm 1 battery 1 at 3650 mV: high-voltage warning (>= 3600) and alarm (>= 3650) */
    static const int16_t b1[7] = { 0, 0, 1, 1, 0, 0, 0 };
    for (unsigned t = 0; t < 7; t++)
        assert_int_equal(reg(f, 5005 + t), b1[t]);
    assert_int_equal(reg(f, 5001), 0); /* 15.5 A is not high */
    assert_int_equal(reg(f, 5015), 1); /* battery 2 (3680 mV) high-voltage alarm */
    for (unsigned t = 0; t < 7; t++)
        assert_int_equal(reg(f, 5019 + t), 0); /* battery 3 at 3300 mV: nothing */
    /* arm 3 (base 6689): -250 A beyond the 200 A discharge threshold */
    assert_int_equal(reg(f, 6689), 1);
    assert_int_equal(reg(f, 6690), 0); /* humidity: no sensor, no alarm */
    /* battery 4 at 2590 mV: low warning only; battery 5 at 2400 mV: warning and alarm */
    assert_int_equal(reg(f, 6689 + 4 + 21 + 0), 1);
    assert_int_equal(reg(f, 6689 + 4 + 21 + 1), 0);
    assert_int_equal(reg(f, 6721), 1);
    assert_int_equal(reg(f, 6722), 1); /* the seed's formula example address */
    assert_int_equal(reg(f, 7533), 0); /* arm 4 */
}

/* The thresholds are the string's own, as the CAN alarms resolve them (BMS settings first). */
static void test_thresholds_from_the_bms(void **state)
{
    struct fix *f = *state;
    struct bmsgw_string *a3 = &f->sys->strings[2];
    a3->settings_valid = true;
    a3->settings_reg[316 - BMSGW_SETTINGS_FIRST] = 2600; /* under-voltage cut-off */
    tinybms_cutoffs(a3->settings_reg, a3);               /* as the TinyBMS driver reads it */
    render(f, false);
    assert_int_equal(reg(f, 6689 + 4 + 21 + 1), 1); /* battery 4 at 2590 mV: now an alarm */
    assert_int_equal(reg(f, 5006), 0);              /* arm 1 keeps the configured 2500 mV */
    f->cfg.thresholds_from_bms = false;
    render(f, false);
    assert_int_equal(reg(f, 6689 + 4 + 21 + 1), 0);
}

static void test_status_and_stale(void **state)
{
    struct fix *f = *state;
    render(f, false);
    assert_int_equal(reg(f, 9001), 1);
    for (unsigned j = 1; j <= 7; j++)
        assert_int_equal(reg(f, 9001 + j), 1);
    assert_int_equal(reg(f, 9009), 0);
    assert_int_equal(reg(f, 9122), 1); /* arm 2: online with no battery */
    assert_int_equal(reg(f, 9123), 0);
    assert_int_equal(reg(f, 9243), 1);
    assert_int_equal(reg(f, 9248), 1); /* arm 3 battery 5 (seed example) */
    assert_int_equal(reg(f, 9249), 0);
    assert_int_equal(reg(f, 9364), 0); /* no arm 4 */

    render(f, true); /* stale: status says "no data", counts stay */
    assert_int_equal(reg(f, 9001), 0);
    assert_int_equal(reg(f, 9002), 0);
    assert_int_equal(reg(f, 9243), 0);
    assert_int_equal(reg(f, 0), 7);
    assert_int_equal(reg(f, 2), 5);

    f->sys->strings[0].online = false; /* link down: no values at all */
    render(f, false);
    assert_int_equal(reg(f, 9001), 0);
    assert_int_equal(reg(f, 1005), 0);
    assert_int_equal(reg(f, 5008), 0);
}

static void test_simulator_sensors(void **state)
{
    struct fix *f = *state;
    struct mbmap_tescom_src *t = f->src;
    memset(t, 0, sizeof(*t));
    t->arm[0] = (struct mbmap_tescom_arm){
        .count = 1, .ok = true, .humidity_pct = 90, .ambient_temp_c = 56
    };
    t->arm[0].bat[0].present = true;
    t->arm[0].bat[0].value[MBMAP_TESCOM_VOLTAGE] = 3.3;
    t->arm[0].bat[0].value[MBMAP_TESCOM_NTC1] = 61;
    f->lim.pole_sensors = f->lim.env_sensors = true;
    mbmap_tescom_eval_arm(&t->arm[0], &f->lim);
    assert_true(t->arm[0].alarm[MBMAP_TESCOM_ARM_HIGH_HUMIDITY]);
    assert_true(t->arm[0].alarm[MBMAP_TESCOM_ARM_HIGH_AMBIENT]); /* 60 - 5 degC */
    assert_true(t->arm[0].bat[0].alarm[MBMAP_TESCOM_POS_POLE_TEMP_ALARM]);
    assert_false(t->arm[0].bat[0].alarm[MBMAP_TESCOM_NEG_POLE_TEMP_ALARM]);
    f->lim.pole_sensors = f->lim.env_sensors = false;
    mbmap_tescom_eval_arm(&t->arm[0], &f->lim);
    assert_false(t->arm[0].alarm[MBMAP_TESCOM_ARM_HIGH_HUMIDITY]);
    assert_false(t->arm[0].bat[0].alarm[MBMAP_TESCOM_POS_POLE_TEMP_ALARM]);
}

static void test_at_most_120_batteries(void **state)
{
    struct fix *f = *state;
    struct bmsgw_system *sys = fix_system_new();
    fix_add_string(sys, 130, 2, 3000, 200);
    fix_aggregate(sys);
    mbmap_tescom_from_system(f->src, sys, &f->cfg, false);
    mbmap_render(&f->img, f->src);
    assert_int_equal(reg(f, 0), 120);
    assert_int_equal(reg(f, 1001 + 4 + 119 * 7), 312); /* battery 120: 3.120 V */
    assert_int_equal(reg(f, 9121), 1);
    free(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_battery_counts_are_plain_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arm_one_live_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formulas_win_over_worked_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thresholds_from_the_bms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulator_sensors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_at_most_120_batteries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
