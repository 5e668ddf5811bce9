/* SPDX-License-Identifier: MIT */
/*
 * test-safety-findings.c — the ten ways a review found the inverter could be told something
 * unsafe, one test each, checked on the encoded 0x351/0x35A/0x372 bytes: the composer (alarms,
 * limits) on a generated system, then the frame encoders. The finding numbers are those of the
 * review (issue "Battery safety: the limits hold under every fault"). Finding 4 (block mode)
 * lives in test-can-frames.c, where the CAN thread decides it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bmsgw/battery_stages.h"
#include "bmsgw/compose.h"
#include "bmsgw/config.h"
#include "bmsgw/victron.h"
#include "bmsgw/tinybms.h"
#include "sysgen.h"

#define STEP_MS 1000

struct rig {
    struct composer comp;
    struct bmsgw_system *sys;
    int64_t now;
};

static struct rig *rig_new(unsigned strings, unsigned cells, uint16_t mv, int16_t dc)
{
    struct rig *r = calloc(1, sizeof(*r));
    composer_init(&r->comp, NULL, NULL);
    battery_stages_register(&r->comp);
    config_defaults(&r->comp.cfg);
    r->sys = sysgen_new(strings, cells, 2, mv, dc, 0);
    r->now = 100000;
    return r;
}

static void rig_free(struct rig *r)
{
    free(r->sys);
    free(r);
}

/* One committed sample, STEP_MS after the last. */
static void sample(struct rig *r)
{
    r->now += STEP_MS;
    sysgen_touch(r->sys, r->now);
    composer_run(r->sys, r->now, &r->comp);
}

/* A minute of steady samples: the start-up ramps are over. */
static void warm(struct rig *r)
{
    for (int i = 0; i < 60; i++)
        sample(r);
}

static void encode(const struct rig *r, enum victron_frame_idx f, uint8_t d[VICTRON_DLC])
{
    struct can_proto_input in = {
        .sys = r->sys,
        .limits = &r->sys->limits,
        .alarms = &r->sys->alarms,
        .can = &r->comp.cfg.can,
    };
    memset(d, 0, VICTRON_DLC);
    assert_int_equal(victron_encode(f, &in, d), VICTRON_DLC);
}

/* 0x351 as the inverter reads it (spec: 0.1 V / 0.1 A, little endian). */
struct f351 {
    unsigned cvl_dv, ccl_da, dcl_da, dvl_dv;
};

static struct f351 read_351(const struct rig *r)
{
    uint8_t d[VICTRON_DLC];
    encode(r, VICTRON_351, d);
    return (struct f351){ (unsigned)(d[0] | d[1] << 8), (unsigned)(int16_t)(d[2] | d[3] << 8),
                          (unsigned)(int16_t)(d[4] | d[5] << 8), (unsigned)(d[6] | d[7] << 8) };
}

/* Field k (0 = general) of 0x35A: alarms in bytes 0-3, warnings in bytes 4-7, two bits each;
 * 1 = active, 2 = inactive, 0 = not supported. */
static unsigned field_35a(const struct rig *r, unsigned k, bool warning)
{
    uint8_t d[VICTRON_DLC];
    encode(r, VICTRON_35A, d);
    unsigned byte = k / 4 + (warning ? 4 : 0);
    return (d[byte] >> ((k % 4) * 2)) & 3u;
}

/* 0x372: online, blocking charge, blocking discharge, offline. */
static unsigned word_372(const struct rig *r, unsigned i)
{
    uint8_t d[VICTRON_DLC];
    encode(r, VICTRON_372, d);
    return (unsigned)(d[2 * i] | d[2 * i + 1] << 8);
}

#define F_HIGH_VOLTAGE  1
#define F_LOW_TEMP_CHG  6
#define F_BMS_INTERNAL  11
#define TENTHS(v)       ((unsigned)((v)*10.0 + 1e-6))
#define PACK_DV(r, si)  TENTHS((r)->sys->strings[si].pack_v)
#define REG(r, si, reg) ((r)->sys->strings[si].settings_reg[(reg)-BMSGW_SETTINGS_FIRST])

/* 1: a hard limit (cell over-voltage) puts CVL at the pack voltage on the same frame. */
static void test_f1_over_voltage_lowers_cvl_at_once(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, 250);
    warm(r);
    sysgen_cell(r->sys, 0, 7, 3700);
    sample(r);
    struct f351 f = read_351(r);
    assert_int_equal(f.ccl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0)); /* 52.8 V, not 55.15 V */
    assert_int_equal(field_35a(r, F_HIGH_VOLTAGE, false), 1);
    rig_free(r);
}

/* 2a: CCL 0 from a factor table (a cell at 3.52 V, below the 3.65 V cutoff) stops charging
 * too: CVL at the pack voltage, the string counted as blocking charge in 0x372. */
static void test_f2_table_zero_is_a_charge_block(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, 250);
    warm(r);
    sysgen_cell(r->sys, 0, 3, 3520);
    sample(r);
    struct f351 f = read_351(r);
    assert_int_equal(f.ccl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0));
    assert_int_equal(word_372(r, 1), 1);
    rig_free(r);
}

/* 2b: a hard over-temperature limit: a sensor at the over-heat cutoff stops both directions,
 * even where the temperature tables still allow current (48 C: 35 % of CCL, 35 % of DCL). */
static void test_f2_over_heat_stops_both(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, 250);
    r->comp.cfg.alarms.temp_high_c = 48;
    warm(r);
    r->sys->sensor_dc[1] = 480;
    sample(r);
    struct f351 f = read_351(r);
    assert_int_equal(f.ccl_da, 0);
    assert_int_equal(f.dcl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0));
    rig_free(r);
}

/* 3: a register less safe than the configuration is not used: 315 = 4200 mV on LFP (3650),
 * 316 = 800 mV (2500), 320 = -40 C (0 C). */
static void test_f3_less_safe_register_is_not_used(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, 250);
    r->sys->strings[0].settings_valid = true;
    REG(r, 0, 315) = 4200;
    REG(r, 0, 316) = 800;
    REG(r, 0, 320) = (uint16_t)-40;
    warm(r);
    sysgen_cell(r->sys, 0, 7, 3700);
    sample(r);
    struct f351 f = read_351(r);
    assert_int_equal(f.ccl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0));
    assert_int_equal(field_35a(r, F_HIGH_VOLTAGE, false), 1);
    sysgen_cell(r->sys, 0, 7, 2500);
    sample(r);
    assert_int_equal(read_351(r).dcl_da, 0);
    sysgen_cell(r->sys, 0, 7, 3300);
    r->sys->strings[0].current_a = 10;
    r->sys->sensor_dc[0] = -50;
    sample(r);
    assert_int_equal(read_351(r).ccl_da, 0);
    assert_int_equal(field_35a(r, F_LOW_TEMP_CHG, false), 1);
    rig_free(r);
}

/* 5: no battery sensor derates charging; no temperature at all blocks it. */
static void test_f5_unknown_temperature_never_full_current(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, BMSGW_TEMP_ABSENT);
    r->sys->strings[0].mosfet_temp_dc = 250;
    warm(r);
    struct f351 f = read_351(r);
    double most =
        r->comp.cfg.limits.no_sensor_charge_factor * r->comp.cfg.limits.max_charge_current_a;
    assert_true(f.ccl_da > 0);
    assert_true(f.ccl_da <= TENTHS(most)); /* 5.0 A, not 50 A */
    r->sys->strings[0].mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    sample(r);
    f = read_351(r);
    assert_int_equal(f.ccl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0));
    /* the low-temperature cutoff acts on the BMS internal sensor */
    r->sys->strings[0].mosfet_temp_dc = -50;
    sample(r);
    assert_int_equal(read_351(r).ccl_da, 0);
    rig_free(r);
}

/* 6: the CVL floor (cell_min_mv) does not hold CVL above the pack while charging is blocked. */
static void test_f6_floor_does_not_override_a_block(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 2950, 250);
    warm(r);
    r->sys->sensor_dc[0] = 0; /* at the charge cutoff */
    sample(r);
    struct f351 f = read_351(r);
    assert_int_equal(f.ccl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0)); /* 47.2 V, not the 48.0 V floor */
    assert_true(f.cvl_dv > 0);
    rig_free(r);
}

/* 7: strings of 16 and 15 cells: DVL for the 16-cell string (not 15 x 2.9 V = 43.5 V). */
static void test_f7_dvl_covers_the_longest_string(void **state)
{
    (void)state;
    struct rig *r = rig_new(2, 16, 3300, 250);
    r->sys->strings[1].cell_count = 15;
    r->sys->strings[1].pack_v = 15 * 3.3;
    warm(r);
    struct f351 f = read_351(r);
    assert_true(f.dvl_dv >= TENTHS(16 * r->comp.cfg.limits.cell_discharge_min_mv / 1000.0));
    rig_free(r);
}

/* 8: 0x351 rounds toward safe: a cap of 16 x (3.480 - 0.050) = 54.88 V is sent as 54.8 V. */
static void test_f8_cvl_rounds_down(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, 250);
    r->sys->strings[0].settings_valid = true;
    REG(r, 0, 315) = 3480;
    warm(r);
    struct f351 f = read_351(r);
    assert_true(f.ccl_da > 0);
    assert_int_equal(f.cvl_dv, 548);
    rig_free(r);
}

/* 9: a recent fault event (charge over-current, 0x06) stops charging in the limits. */
static void test_f9_fault_event_blocks_charging(void **state)
{
    (void)state;
    struct rig *r = rig_new(1, 16, 3300, 250);
    warm(r);
    struct bmsgw_string *st = &r->sys->strings[0];
    st->lifetime_s = 5000;
    st->events[0] = (struct bmsgw_bms_event){ .timestamp_s = 4990, .id = 0x06 };
    st->event_count = 1;
    sample(r);
    struct f351 f = read_351(r);
    assert_int_equal(field_35a(r, F_BMS_INTERNAL, false), 1);
    assert_int_equal(f.ccl_da, 0);
    assert_true(f.cvl_dv <= PACK_DV(r, 0));
    rig_free(r);
}

/* 10: 64 strings (the maximum): the 0x35A fields are supported, not all 00. */
static void test_f10_no_wrap_at_64_strings(void **state)
{
    (void)state;
    struct rig *r = rig_new(BMSGW_MAX_STRINGS, 16, 3300, 250);
    warm(r);
    assert_int_equal(field_35a(r, 0, false), 2);
    assert_int_equal(field_35a(r, F_HIGH_VOLTAGE, false), 2);
    sysgen_cell(r->sys, BMSGW_MAX_STRINGS - 1, 16, 3700);
    sample(r);
    assert_int_equal(field_35a(r, F_HIGH_VOLTAGE, false), 1);
    assert_int_equal(read_351(r).ccl_da, 0);
    assert_int_equal(word_372(r, 0), BMSGW_MAX_STRINGS);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f1_over_voltage_lowers_cvl_at_once),
        cmocka_unit_test(test_f2_table_zero_is_a_charge_block),
        cmocka_unit_test(test_f2_over_heat_stops_both),
        cmocka_unit_test(test_f3_less_safe_register_is_not_used),
        cmocka_unit_test(test_f5_unknown_temperature_never_full_current),
        cmocka_unit_test(test_f6_floor_does_not_override_a_block),
        cmocka_unit_test(test_f7_dvl_covers_the_longest_string),
        cmocka_unit_test(test_f8_cvl_rounds_down),
        cmocka_unit_test(test_f9_fault_event_blocks_charging),
        cmocka_unit_test(test_f10_no_wrap_at_64_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
