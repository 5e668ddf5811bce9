/* SPDX-License-Identifier: MIT */
/* test-alarms.c — thresholds from config and BMS registers, every condition, hysteresis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "bmsgw/alarms.h"
#include "bmsgw/tinybms.h"
#include "sysgen.h"

#define NOW   100000
#define STALE 3000

static struct bmsgw_config cfg;

static int setup(void **state)
{
    (void)state;
    config_defaults(&cfg);
    return 0;
}

static void eval(struct bmsgw_system *s, struct alarms_state *st, struct bmsgw_alarms *out)
{
    sysgen_touch(s, NOW);
    alarms_evaluate(&cfg.alarms, s, NOW, STALE, st, out);
}

static uint8_t level_of(struct bmsgw_system *s, struct alarms_state *st, enum bmsgw_alarm_id id)
{
    struct bmsgw_alarms a;
    eval(s, st, &a);
    return a.a[id].level;
}

static void test_thresholds_from_config(void **state)
{
    (void)state;
    struct alarm_thresholds t;
    alarm_thresholds_resolve(&cfg.alarms, NULL, &t);
    assert_false(t.from_bms);
    assert_int_equal(t.cell_high_mv, 3650);
    assert_int_equal(t.cell_high_warning_mv, 3600);
    assert_int_equal(t.cell_low_mv, 2500);
    assert_int_equal(t.cell_low_warning_mv, 2600);
    assert_int_equal(t.temp_high_dc, 600);
    assert_int_equal(t.temp_high_warning_dc, 550);
    assert_int_equal(t.temp_low_dc, -200);
    assert_int_equal(t.temp_low_warning_dc, -100);
    assert_int_equal(t.charge_temp_low_dc, 0);
    assert_int_equal(t.charge_temp_low_warning_dc, 50);
    assert_true(t.charge_current_a == 100.0 && t.charge_current_warning_a == 80.0);
    assert_true(t.discharge_current_a == 200.0 && t.discharge_current_warning_a == 160.0);
    assert_int_equal(t.imbalance_mv, 80);
    assert_int_equal(t.imbalance_warning_mv, 40);
}

static void set_regs(struct bmsgw_string *st, int ov, int uv, int dis, int chg, int heat, int cold)
{
    st->settings_valid = true;
    st->settings_reg[15] = (uint16_t)ov;
    st->settings_reg[16] = (uint16_t)uv;
    st->settings_reg[17] = (uint16_t)dis;
    st->settings_reg[18] = (uint16_t)chg;
    st->settings_reg[19] = (uint16_t)(int16_t)heat;
    st->settings_reg[20] = (uint16_t)(int16_t)cold;
    tinybms_cutoffs(st->settings_reg, st); /* what the TinyBMS driver makes of them */
}

/* An event as the TinyBMS driver delivers it (code, severity, what it stops, name). */
static struct bmsgw_bms_event tiny_event(uint32_t timestamp_s, uint8_t id)
{
    struct bmsgw_bms_event e = { .timestamp_s = timestamp_s, .id = id };
    tinybms_event_describe(&e);
    return e;
}

static void test_thresholds_from_registers(void **state)
{
    (void)state;
    struct bmsgw_string st = { 0 };
    struct alarm_thresholds t;
    set_regs(&st, 3550, 2800, 150, 60, 55, -5);
    alarm_thresholds_resolve(&cfg.alarms, &st, &t);
    assert_true(t.from_bms);
    assert_int_equal(t.cell_high_mv, 3550);
    assert_int_equal(t.cell_high_warning_mv, 3500); /* cutoff - 50 mV */
    assert_int_equal(t.cell_low_mv, 2800);
    assert_int_equal(t.cell_low_warning_mv, 2900); /* cutoff + 100 mV */
    assert_true(t.discharge_current_a == 150.0 && t.discharge_current_warning_a == 120.0);
    assert_true(t.charge_current_a == 60.0 && t.charge_current_warning_a == 48.0);
    assert_int_equal(t.temp_high_dc, 550);
    assert_int_equal(t.temp_high_warning_dc, 500); /* 5 degC below */
    /* -5 degC is less safe than the configured 0 degC: refused, the configuration holds */
    assert_int_equal(t.charge_temp_low_dc, 0);
    assert_int_equal(t.refused, 1u << BMSGW_THRESHOLD_CHARGE_LOW_TEMP);
    assert_true(t.refused_bms[BMSGW_THRESHOLD_CHARGE_LOW_TEMP] == -5.0);
    assert_true(t.refused_cfg[BMSGW_THRESHOLD_CHARGE_LOW_TEMP] == 0.0);
    set_regs(&st, 3550, 2800, 150, 60, 55, 5); /* a stricter cold cutoff is taken */
    alarm_thresholds_resolve(&cfg.alarms, &st, &t);
    assert_int_equal(t.charge_temp_low_dc, 50);
    assert_int_equal(t.refused, 0);

    /* Not read yet, or switched off: the configured values. */
    st.settings_valid = false;
    tinybms_cutoffs(st.settings_reg, &st);
    alarm_thresholds_resolve(&cfg.alarms, &st, &t);
    assert_int_equal(t.cell_high_mv, 3650);
    st.settings_valid = true;
    tinybms_cutoffs(st.settings_reg, &st);
    cfg.alarms.thresholds_from_bms = false;
    alarm_thresholds_resolve(&cfg.alarms, &st, &t);
    assert_int_equal(t.cell_high_mv, 3650);
    assert_false(t.from_bms);
    cfg.alarms.thresholds_from_bms = true;
}

static void test_implausible_register_keeps_config(void **state)
{
    (void)state;
    struct bmsgw_string st = { 0 };
    struct alarm_thresholds t;
    set_regs(&st, 0, 9999, 0, 800, 200, -100); /* all outside the documented ranges */
    alarm_thresholds_resolve(&cfg.alarms, &st, &t);
    assert_false(t.from_bms);
    assert_int_equal(t.cell_high_mv, 3650);
    assert_int_equal(t.cell_low_mv, 2500);
    assert_true(t.charge_current_a == 100.0 && t.discharge_current_a == 200.0);
    assert_int_equal(t.temp_high_dc, 600);
    assert_int_equal(t.charge_temp_low_dc, 0);
}

static void test_all_ok_and_unsupported(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    struct bmsgw_alarms a;
    alarms_init(&st);
    eval(s, &st, &a);
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        uint8_t expect = i == BMSGW_ALARM_CONTACTOR || i == BMSGW_ALARM_SHORT_CIRCUIT
                             ? BMSGW_LEVEL_UNSUPPORTED
                             : BMSGW_LEVEL_OK;
        assert_int_equal(a.a[i].level, expect);
    }
    assert_false(alarms_any(&a, BMSGW_LEVEL_WARNING));
    free(s);
}

static void test_voltage_conditions(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    alarms_init(&st);
    sysgen_cell(s, 0, 7, 3600);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_VOLTAGE), BMSGW_LEVEL_WARNING);
    sysgen_cell(s, 0, 7, 3650);
    struct bmsgw_alarms a;
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].string, 0);
    assert_true(a.a[BMSGW_ALARM_HIGH_VOLTAGE].value == 3650);
    assert_int_equal(a.a[BMSGW_ALARM_LOW_VOLTAGE].level, BMSGW_LEVEL_OK); /* not swapped */
    assert_int_equal(a.a[BMSGW_ALARM_GENERAL].level, BMSGW_LEVEL_ALARM);
    /* 3650 - 3300 = 350 mV spread */
    assert_int_equal(a.a[BMSGW_ALARM_CELL_IMBALANCE].level, BMSGW_LEVEL_ALARM);

    alarms_init(&st);
    sysgen_cell(s, 0, 7, 3300);
    sysgen_cell(s, 0, 3, 2600);
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_LOW_VOLTAGE].level, BMSGW_LEVEL_WARNING);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_OK);
    sysgen_cell(s, 0, 3, 2500);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_VOLTAGE), BMSGW_LEVEL_ALARM);
    free(s);
}

static void test_imbalance(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    alarms_init(&st);
    sysgen_cell(s, 0, 2, 3339);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_CELL_IMBALANCE), BMSGW_LEVEL_OK);
    sysgen_cell(s, 0, 2, 3340);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_CELL_IMBALANCE), BMSGW_LEVEL_WARNING);
    sysgen_cell(s, 0, 2, 3380);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_CELL_IMBALANCE), BMSGW_LEVEL_ALARM);
    free(s);
}

static void test_temperature_conditions(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    alarms_init(&st);
    s->sensor_dc[1] = 550;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_TEMP), BMSGW_LEVEL_WARNING);
    s->sensor_dc[1] = 600;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_TEMP), BMSGW_LEVEL_ALARM);
    /* the alarm blocks charging: shown whether or not current flows (invariant 8) */
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_TEMP_CHARGE), BMSGW_LEVEL_ALARM);
    s->strings[0].current_a = 10;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_TEMP_CHARGE), BMSGW_LEVEL_ALARM);
    /* its warning only while charging */
    alarms_init(&st);
    s->sensor_dc[1] = 560;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_TEMP_CHARGE), BMSGW_LEVEL_WARNING);
    s->strings[0].current_a = 0;
    alarms_init(&st);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_TEMP_CHARGE), BMSGW_LEVEL_OK);

    alarms_init(&st);
    s->strings[0].current_a = 10;
    s->sensor_dc[1] = 250;
    s->sensor_dc[0] = 30; /* 3.0 degC: within 5 degC of the 0 degC charge cutoff */
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP_CHARGE), BMSGW_LEVEL_WARNING);
    s->sensor_dc[0] = 0;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP_CHARGE), BMSGW_LEVEL_ALARM);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP), BMSGW_LEVEL_OK);
    /* discharging at the cutoff: still the alarm, it blocks charging (invariant 8) */
    s->strings[0].current_a = -10;
    alarms_init(&st);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP_CHARGE), BMSGW_LEVEL_ALARM);
    s->sensor_dc[0] = 30; /* its warning only while charging */
    alarms_init(&st);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP_CHARGE), BMSGW_LEVEL_OK);
    s->sensor_dc[0] = -100;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP), BMSGW_LEVEL_WARNING);
    s->sensor_dc[0] = -200;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP), BMSGW_LEVEL_ALARM);
    free(s);
}

static void test_absent_sensors_ignored(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, BMSGW_TEMP_ABSENT, NOW);
    struct alarms_state st;
    struct bmsgw_alarms a;
    alarms_init(&st);
    s->strings[0].current_a = 20;
    eval(s, &st, &a);
    /* -32768 is not -3276.8 degC: no low-temperature alarm, the conditions are not monitored */
    assert_int_equal(a.a[BMSGW_ALARM_LOW_TEMP].level, BMSGW_LEVEL_UNSUPPORTED);
    assert_int_equal(a.a[BMSGW_ALARM_LOW_TEMP_CHARGE].level, BMSGW_LEVEL_UNSUPPORTED);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_TEMP].level, BMSGW_LEVEL_UNSUPPORTED);
    assert_int_equal(a.a[BMSGW_ALARM_GENERAL].level, BMSGW_LEVEL_OK);
    s->sensor_dc[1] = 220; /* one sensor plugged */
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_LOW_TEMP].level, BMSGW_LEVEL_OK);
    assert_true(a.a[BMSGW_ALARM_LOW_TEMP].value == 220);
    free(s);
}

static void test_currents(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    alarms_init(&st);
    s->strings[0].current_a = 80;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_CHARGE_CURRENT), BMSGW_LEVEL_WARNING);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_DISCHARGE_CURRENT), BMSGW_LEVEL_OK);
    s->strings[0].current_a = 100;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_CHARGE_CURRENT), BMSGW_LEVEL_ALARM);
    s->strings[0].current_a = -160;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_CHARGE_CURRENT), BMSGW_LEVEL_OK);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_DISCHARGE_CURRENT), BMSGW_LEVEL_WARNING);
    s->strings[0].current_a = -200;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_DISCHARGE_CURRENT), BMSGW_LEVEL_ALARM);
    free(s);
}

static void test_bms_fault(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    alarms_init(&st);
    s->strings[0].state = BMSGW_BMS_FAULT;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_BMS_INTERNAL), BMSGW_LEVEL_ALARM);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_GENERAL), BMSGW_LEVEL_ALARM);
    s->strings[0].state = BMSGW_BMS_CHARGING;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_BMS_INTERNAL), BMSGW_LEVEL_OK);

    /* the newest event: an over-voltage cutoff (fault) 10 s ago on the BMS clock */
    struct bmsgw_string *str = &s->strings[0];
    str->lifetime_s = 0x01000010; /* beyond 24 bits: timestamps wrap */
    str->event_count = 2;
    str->events[0] = tiny_event(0x000006, 0x03);
    str->events[1] = tiny_event(0x000001, 0x61);
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_BMS_INTERNAL), BMSGW_LEVEL_ALARM);
    str->lifetime_s = 0x01000006 + ALARMS_EVENT_ACTIVE_S + 1; /* too old */
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_BMS_INTERNAL), BMSGW_LEVEL_OK);
    str->lifetime_s = 0x01000010;
    str->events[0] = tiny_event(0x000006, 0x37); /* low-temperature charging cutoff: a warning */
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_BMS_INTERNAL), BMSGW_LEVEL_WARNING);
    str->events[0] = tiny_event(0x000006, 0x79); /* recovered from over-voltage: information */
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_BMS_INTERNAL), BMSGW_LEVEL_OK);
    free(s);
}

/* Which side a fault stops (spec "Safety invariants" 7): the event says, else both. */
static void test_fault_sides(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct bmsgw_string *str = &s->strings[0];
    unsigned id;
    str->state = BMSGW_BMS_FAULT;
    assert_int_equal(alarms_string_fault(str, &id), 2); /* no event: both */
    assert_int_equal(id, 0);
    str->lifetime_s = 1000;
    str->event_count = 1;
    static const struct {
        uint8_t id;
        int side;
    } cases[] = { { 0x03, 1 }, { 0x06, 1 }, { 0x07, 1 }, { 0x0B, 1 }, { 0x02, 2 },
                  { 0x04, 2 }, { 0x05, 2 }, { 0x0A, 2 }, { 0x0C, 2 }, { 0x0D, 2 } };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        str->events[0] = tiny_event(990, cases[i].id);
        str->state = BMSGW_BMS_FAULT;
        assert_int_equal(alarms_string_fault(str, &id), cases[i].side);
        assert_int_equal(id, cases[i].id);
        str->state = BMSGW_BMS_IDLE; /* the event alone, 10 s old */
        assert_int_equal(alarms_string_fault(str, &id), cases[i].side);
    }
    str->events[0] = tiny_event(990, 0x76); /* recovered */
    assert_int_equal(alarms_string_fault(str, &id), 0);
    free(s);
}

/* A value hovering around a threshold does not flap; it clears only past the hysteresis. */
static void test_hysteresis(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    alarms_init(&st);
    static const struct {
        uint16_t mv;
        uint8_t level;
    } seq[] = {
        { 3599, BMSGW_LEVEL_OK },      { 3600, BMSGW_LEVEL_WARNING }, { 3599, BMSGW_LEVEL_WARNING },
        { 3600, BMSGW_LEVEL_WARNING }, { 3581, BMSGW_LEVEL_WARNING }, { 3580, BMSGW_LEVEL_OK },
        { 3599, BMSGW_LEVEL_OK },      { 3650, BMSGW_LEVEL_ALARM },   { 3649, BMSGW_LEVEL_ALARM },
        { 3631, BMSGW_LEVEL_ALARM },   { 3630, BMSGW_LEVEL_WARNING }, { 3649, BMSGW_LEVEL_WARNING },
        { 3580, BMSGW_LEVEL_OK },
    };
    for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        sysgen_cell(s, 0, 1, seq[i].mv);
        uint8_t got = level_of(s, &st, BMSGW_ALARM_HIGH_VOLTAGE);
        if (got != seq[i].level)
            fail_msg("step %u: %u mV gave level %u, expected %u", i, seq[i].mv, got, seq[i].level);
    }
    /* temperatures use hysteresis_dc (2.0 degC) */
    alarms_init(&st);
    s->sensor_dc[0] = -200;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP), BMSGW_LEVEL_ALARM);
    s->sensor_dc[0] = -181;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP), BMSGW_LEVEL_ALARM);
    s->sensor_dc[0] = -180;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_LOW_TEMP), BMSGW_LEVEL_WARNING);
    /* currents: 5 % of the threshold */
    s->strings[0].current_a = 100;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_CHARGE_CURRENT), BMSGW_LEVEL_ALARM);
    s->strings[0].current_a = 95.5;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_CHARGE_CURRENT), BMSGW_LEVEL_ALARM);
    s->strings[0].current_a = 95;
    assert_int_equal(level_of(s, &st, BMSGW_ALARM_HIGH_CHARGE_CURRENT), BMSGW_LEVEL_WARNING);
    free(s);
}

static void test_worst_string_wins(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(3, 8, 1, 3300, 250, NOW);
    struct alarms_state st;
    struct bmsgw_alarms a;
    alarms_init(&st);
    sysgen_cell(s, 1, 4, 3610);
    sysgen_cell(s, 2, 5, 3620);
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_WARNING);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].string, 2); /* same level: the higher value */
    /* each string against its own registers: string 1 trips at 3600 */
    set_regs(&s->strings[1], 3600, 2500, 200, 100, 60, 0);
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].string, 1);
    assert_true(a.a[BMSGW_ALARM_HIGH_VOLTAGE].threshold == 3600);
    /* an offline string does not count */
    s->strings[1].online = false;
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_WARNING);
    free(s);
}

static void test_no_fresh_string_keeps_levels(void **state)
{
    (void)state;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, NOW);
    struct alarms_state st;
    struct bmsgw_alarms a;
    alarms_init(&st);
    sysgen_cell(s, 0, 1, 3700);
    eval(s, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);
    int64_t since = a.a[BMSGW_ALARM_HIGH_VOLTAGE].since_ms;
    assert_true(since == NOW);
    /* 10 s later the sample is stale */
    alarms_evaluate(&cfg.alarms, s, NOW + 10000, STALE, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);
    assert_true(a.a[BMSGW_ALARM_HIGH_VOLTAGE].since_ms == since);
    /* nothing ever seen: unsupported */
    alarms_init(&st);
    alarms_evaluate(&cfg.alarms, s, NOW + 10000, STALE, &st, &a);
    assert_int_equal(a.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_UNSUPPORTED);
    assert_int_equal(a.a[BMSGW_ALARM_GENERAL].level, BMSGW_LEVEL_UNSUPPORTED);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_thresholds_from_config, setup),
        cmocka_unit_test_setup(test_thresholds_from_registers, setup),
        cmocka_unit_test_setup(test_implausible_register_keeps_config, setup),
        cmocka_unit_test_setup(test_all_ok_and_unsupported, setup),
        cmocka_unit_test_setup(test_voltage_conditions, setup),
        cmocka_unit_test_setup(test_imbalance, setup),
        cmocka_unit_test_setup(test_temperature_conditions, setup),
        cmocka_unit_test_setup(test_absent_sensors_ignored, setup),
        cmocka_unit_test_setup(test_currents, setup),
        cmocka_unit_test_setup(test_bms_fault, setup),
        cmocka_unit_test_setup(test_fault_sides, setup),
        cmocka_unit_test_setup(test_hysteresis, setup),
        cmocka_unit_test_setup(test_worst_string_wins, setup),
        cmocka_unit_test_setup(test_no_fresh_string_keeps_levels, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
