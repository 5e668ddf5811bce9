/* SPDX-License-Identifier: MIT */
/* test-victron.c — golden bytes of every Victron frame, the table, the decoder, the DBC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/can_proto.h"
#include "bmsgw/victron.h"
#include "sysgen.h"

#define NOW 100000
#define DBC SOURCE_DIR "/docs/victron-bms.dbc"

struct fx {
    struct bmsgw_config cfg;
    struct bmsgw_system *sys;
    struct bmsgw_limits limits;
    struct bmsgw_alarms alarms;
    struct can_proto_input in;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    config_defaults(&f->cfg);
    f->sys = sysgen_new(1, 16, 2, 3300, 250, NOW);
    f->limits = (struct bmsgw_limits){
        .valid = true, .cvl_v = 55.2, .ccl_a = 50.0, .dcl_a = 100.0, .dvl_v = 46.4
    };
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        f->alarms.a[i].level = BMSGW_LEVEL_OK;
    f->alarms.a[BMSGW_ALARM_CONTACTOR].level = BMSGW_LEVEL_UNSUPPORTED;
    f->alarms.a[BMSGW_ALARM_SHORT_CIRCUIT].level = BMSGW_LEVEL_UNSUPPORTED;
    f->in = (struct can_proto_input){ .sys = f->sys,
                                      .limits = &f->limits,
                                      .alarms = &f->alarms,
                                      .can = &f->cfg.can,
                                      .fw_major = 2,
                                      .fw_minor = 5 };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    free(f->sys);
    free(f);
    return 0;
}

static void expect_frame(struct fx *f, enum victron_frame_idx fr, const uint8_t want[8],
                         const char *what)
{
    uint8_t got[8];
    int rc = victron_encode(fr, &f->in, got);
    if (rc != 8)
        fail_msg("%s: 0x%03X encode returned %d", what, victron_frames[fr].id, rc);
    if (memcmp(got, want, 8) != 0)
        fail_msg("%s: 0x%03X = %02X %02X %02X %02X %02X %02X %02X %02X, want %02X %02X %02X %02X "
                 "%02X %02X %02X %02X",
                 what, victron_frames[fr].id, got[0], got[1], got[2], got[3], got[4], got[5],
                 got[6], got[7], want[0], want[1], want[2], want[3], want[4], want[5], want[6],
                 want[7]);
}

#define EXPECT(fr, what, ...)                                                                      \
    do {                                                                                           \
        const uint8_t w_[8] = { __VA_ARGS__ };                                                     \
        expect_frame(f, fr, w_, what);                                                             \
    } while (0)

static void reaggregate(struct fx *f)
{
    bmsgw_system_aggregate(f->sys, NOW, 3000);
}

static void test_table(void **state)
{
    struct fx *f = *state;
    static const uint16_t ids[VICTRON_FRAME_COUNT] = {
        0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, 0x370, 0x371, 0x372, 0x373,
        0x374, 0x375, 0x376, 0x377, 0x378, 0x379, 0x380, 0x381, 0x382,
    };
    for (unsigned i = 0; i < VICTRON_FRAME_COUNT; i++) {
        const struct can_proto_frame *fr = &victron_frames[i];
        assert_int_equal(fr->id, ids[i]);
        assert_int_equal(fr->dlc, 8);
        assert_true(fr->id <= 0x7FF); /* 11-bit standard IDs only */
        assert_ptr_equal(victron_frame_by_id(fr->id), fr);
        if (fr->period_ms != f->cfg.can.period_ms[i])
            fail_msg("0x%03X: table period %u, config default %d", fr->id, fr->period_ms,
                     f->cfg.can.period_ms[i]);
        uint64_t used = 0;
        for (unsigned s = 0; s < fr->n_signals; s++) {
            const struct can_signal *sg = &fr->signals[s];
            assert_true(sg->start_bit + sg->bits <= 64);
            uint64_t m = (sg->bits == 64 ? UINT64_MAX : ((UINT64_C(1) << sg->bits) - 1))
                         << sg->start_bit;
            if (used & m)
                fail_msg("0x%03X: signal %s overlaps another", fr->id, sg->name);
            used |= m;
        }
    }
    /* each model alarm has its 0x35A field (the protocol's mapping): the signal at that field is
     * named after the alarm, at the spec's bit position; every field is mapped once */
    unsigned mapped = 0;
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        char name[64];
        int k = can_proto_victron.alarm_fields[i];
        assert_in_range(k, 0, 15);
        assert_false(mapped & (1u << k));
        mapped |= 1u << k;
        snprintf(name, sizeof(name), "alarm_%s", bmsgw_alarm_name(i));
        assert_string_equal(victron_frames[VICTRON_35A].signals[k].name, name);
        assert_int_equal(victron_frames[VICTRON_35A].signals[k].start_bit, 2 * k);
        snprintf(name, sizeof(name), "warning_%s", bmsgw_alarm_name(i));
        assert_string_equal(victron_frames[VICTRON_35A].signals[16 + k].name, name);
        assert_int_equal(victron_frames[VICTRON_35A].signals[16 + k].start_bit, 32 + 2 * k);
    }
    assert_int_equal(mapped, (1u << BMSGW_ALARM_COUNT) - 1);
    assert_null(victron_frame_by_id(0x123));
    assert_non_null(victron_frame_by_id(0x305));
}

static void test_351_limits(void **state)
{
    struct fx *f = *state;
    EXPECT(VICTRON_351, "55.2 V, 50 A, 100 A, 46.4 V", 0x28, 0x02, 0xF4, 0x01, 0xE8, 0x03, 0xD0,
           0x01);
    f->limits.ccl_a = -5; /* magnitudes only */
    f->limits.dcl_a = 5000;
    EXPECT(VICTRON_351, "CCL clamped at 0, DCL at s16 max", 0x28, 0x02, 0x00, 0x00, 0xFF, 0x7F,
           0xD0, 0x01);
    f->limits.ccl_a = 12.38; /* rounded toward safe: CVL, CCL, DCL down, DVL up */
    f->limits.cvl_v = 53.96;
    f->limits.dcl_a = 99.99;
    f->limits.dvl_v = 46.01;
    EXPECT(VICTRON_351, "rounding down (CVL 53.9, CCL 12.3, DCL 99.9), up (DVL 46.1)", 0x1B, 0x02,
           0x7B, 0x00, 0xE7, 0x03, 0xCD, 0x01);
    f->limits.cvl_v = 54.9; /* exactly on a step: not one below it */
    f->limits.ccl_a = 0.1;
    f->limits.dcl_a = 0.04;
    f->limits.dvl_v = 46.4;
    EXPECT(VICTRON_351, "on a step: 54.9 V, 0.1 A, 0.04 A -> 0, 46.4 V", 0x25, 0x02, 0x01, 0x00,
           0x00, 0x00, 0xD0, 0x01);
    uint8_t d[8];
    f->limits.cvl_v = 0;
    assert_int_equal(victron_encode(VICTRON_351, &f->in, d), -EINVAL); /* never CVL = 0 */
    f->limits.cvl_v = -1;
    assert_int_equal(victron_encode(VICTRON_351, &f->in, d), -EINVAL);
    f->limits.cvl_v = 55.2;
    f->limits.ccl_a = 0.0 / 0.0;
    assert_int_equal(victron_encode(VICTRON_351, &f->in, d), -EINVAL);
}

static void test_355_soc_floor(void **state)
{
    struct fx *f = *state;
    f->sys->strings[0].soc_pct = 87.456;
    f->sys->strings[0].soh_pct = 99.6;
    reaggregate(f);
    EXPECT(VICTRON_355, "87.46 %", 0x57, 0x00, 0x64, 0x00, 0x2A, 0x22, 0x00, 0x00);
    f->sys->strings[0].soc_pct = 99.99;
    reaggregate(f);
    EXPECT(VICTRON_355, "99.99 % is 99 in bytes 0-1", 0x63, 0x00, 0x64, 0x00, 0x0F, 0x27, 0x00,
           0x00);
    f->sys->strings[0].soc_pct = 100;
    reaggregate(f);
    EXPECT(VICTRON_355, "100 %", 0x64, 0x00, 0x64, 0x00, 0x10, 0x27, 0x00, 0x00);
    f->sys->strings[0].soc_pct = 0.004;
    reaggregate(f);
    EXPECT(VICTRON_355, "0 %", 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00);
}

static void test_356_signed(void **state)
{
    struct fx *f = *state;
    f->sys->strings[0].current_a = -12.3;
    f->sys->sensor_dc[1] = -55;
    reaggregate(f); /* mean of 25.0 and -5.5 = 9.75 -> 9.8 degC */
    EXPECT(VICTRON_356, "52.8 V, -12.3 A, 9.8 C", 0xA0, 0x14, 0x85, 0xFF, 0x62, 0x00, 0x00, 0x00);
    f->sys->strings[0].current_a = 30.5;
    f->sys->strings[0].pack_v = 400;
    f->sys->sensor_dc[0] = f->sys->sensor_dc[1] = -123;
    reaggregate(f);
    EXPECT(VICTRON_356, "clamped voltage, + current, negative temperature", 0xFF, 0x7F, 0x31, 0x01,
           0x85, 0xFF, 0x00, 0x00);
    /* no battery sensor: the BMS internal sensor, never -3276.8 degC */
    f->sys->sensor_dc[0] = f->sys->sensor_dc[1] = BMSGW_TEMP_ABSENT;
    f->sys->strings[0].mosfet_temp_dc = 312;
    f->sys->strings[0].pack_v = 52.8;
    reaggregate(f);
    EXPECT(VICTRON_356, "internal sensor", 0xA0, 0x14, 0x31, 0x01, 0x38, 0x01, 0x00, 0x00);
    f->sys->strings[0].mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    EXPECT(VICTRON_356, "no sensor at all", 0xA0, 0x14, 0x31, 0x01, 0x00, 0x00, 0x00, 0x00);
}

static void test_35a_all_ok(void **state)
{
    struct fx *f = *state;
    /* every monitored field 2, contactor and short circuit 0 (not supported), reserved 0 */
    EXPECT(VICTRON_35A, "all ok", 0xAA, 0xAA, 0x82, 0x02, 0xAA, 0xAA, 0x82, 0x02);
}

static void test_35a_voltage_not_swapped(void **state)
{
    struct fx *f = *state;
    f->alarms.a[BMSGW_ALARM_GENERAL].level = BMSGW_LEVEL_ALARM;
    f->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level = BMSGW_LEVEL_ALARM;
    EXPECT(VICTRON_35A, "high voltage alarm: bits 2-3", 0xA5, 0xAA, 0x82, 0x02, 0xA5, 0xAA, 0x82,
           0x02);
    f->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level = BMSGW_LEVEL_OK;
    f->alarms.a[BMSGW_ALARM_LOW_VOLTAGE].level = BMSGW_LEVEL_ALARM;
    EXPECT(VICTRON_35A, "low voltage alarm: bits 4-5", 0x99, 0xAA, 0x82, 0x02, 0x99, 0xAA, 0x82,
           0x02);
    f->alarms.a[BMSGW_ALARM_GENERAL].level = BMSGW_LEVEL_WARNING;
    f->alarms.a[BMSGW_ALARM_LOW_VOLTAGE].level = BMSGW_LEVEL_WARNING;
    EXPECT(VICTRON_35A, "low voltage warning only", 0xAA, 0xAA, 0x82, 0x02, 0x99, 0xAA, 0x82, 0x02);
    f->alarms.a[BMSGW_ALARM_LOW_VOLTAGE].level = BMSGW_LEVEL_OK;
    f->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level = BMSGW_LEVEL_WARNING;
    EXPECT(VICTRON_35A, "high voltage warning only", 0xAA, 0xAA, 0x82, 0x02, 0xA5, 0xAA, 0x82,
           0x02);
}

static void set_field(uint8_t *b, unsigned byte, unsigned shift, uint8_t v)
{
    b[byte] = (uint8_t)((b[byte] & ~(3u << shift)) | (unsigned)v << shift);
}

/* Each alarm alone (with the general alarm) at its own byte and bits, as 1, never 2. */
static void test_35a_each_field(void **state)
{
    struct fx *f = *state;
    static const struct {
        enum bmsgw_alarm_id id;
        unsigned byte, shift;
    } map[] = {
        { BMSGW_ALARM_HIGH_VOLTAGE, 0, 2 },
        { BMSGW_ALARM_LOW_VOLTAGE, 0, 4 },
        { BMSGW_ALARM_HIGH_TEMP, 0, 6 },
        { BMSGW_ALARM_LOW_TEMP, 1, 0 },
        { BMSGW_ALARM_HIGH_TEMP_CHARGE, 1, 2 },
        { BMSGW_ALARM_LOW_TEMP_CHARGE, 1, 4 },
        { BMSGW_ALARM_HIGH_DISCHARGE_CURRENT, 1, 6 },
        { BMSGW_ALARM_HIGH_CHARGE_CURRENT, 2, 0 },
        { BMSGW_ALARM_CONTACTOR, 2, 2 },
        { BMSGW_ALARM_SHORT_CIRCUIT, 2, 4 },
        { BMSGW_ALARM_BMS_INTERNAL, 2, 6 },
        { BMSGW_ALARM_CELL_IMBALANCE, 3, 0 },
    };
    for (unsigned k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
        for (unsigned lvl = BMSGW_LEVEL_WARNING; lvl <= BMSGW_LEVEL_ALARM; lvl++) {
            uint8_t want[8] = { 0xAA, 0xAA, 0x82, 0x02, 0xAA, 0xAA, 0x82, 0x02 };
            uint8_t alarm_field = lvl == BMSGW_LEVEL_ALARM ? 1 : 2;
            set_field(want, 0, 0, alarm_field); /* general */
            set_field(want, map[k].byte, map[k].shift, alarm_field);
            set_field(want, 4, 0, 1);
            set_field(want, 4 + map[k].byte, map[k].shift, 1);
            uint8_t saved = f->alarms.a[map[k].id].level;
            f->alarms.a[map[k].id].level = (uint8_t)lvl;
            f->alarms.a[BMSGW_ALARM_GENERAL].level = (uint8_t)lvl;
            char what[64];
            snprintf(what, sizeof(what), "%s %s", bmsgw_alarm_name(map[k].id),
                     bmsgw_alarm_level_name(lvl));
            expect_frame(f, VICTRON_35A, want, what);
            f->alarms.a[map[k].id].level = saved;
            f->alarms.a[BMSGW_ALARM_GENERAL].level = BMSGW_LEVEL_OK;
        }
    }
}

static void test_ascii_frames(void **state)
{
    struct fx *f = *state;
    EXPECT(VICTRON_35E, "TinyBMS", 'T', 'i', 'n', 'y', 'B', 'M', 'S', 0);
    EXPECT(VICTRON_370, "name 1-8", 'T', 'i', 'n', 'y', 'B', 'M', 'S', ' ');
    EXPECT(VICTRON_371, "name 9-16", 'L', 'F', 'P', 0, 0, 0, 0, 0);
    EXPECT(VICTRON_382, "family", 'L', 'F', 'P', 0, 0, 0, 0, 0);
    EXPECT(VICTRON_380, "empty serial", 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT(VICTRON_381, "empty serial", 0, 0, 0, 0, 0, 0, 0, 0);
    snprintf(f->cfg.can.serial, sizeof(f->cfg.can.serial), "GW-2024-000123");
    EXPECT(VICTRON_380, "serial 1-8", 'G', 'W', '-', '2', '0', '2', '4', '-');
    EXPECT(VICTRON_381, "serial 9-16", '0', '0', '0', '1', '2', '3', 0, 0);
    snprintf(f->cfg.can.manufacturer, sizeof(f->cfg.can.manufacturer), "Ab\x01\xC3\xA9xyz");
    EXPECT(VICTRON_35E, "non-ASCII replaced", 'A', 'b', '?', '?', '?', 'x', 'y', 'z');
    snprintf(f->cfg.can.battery_name, sizeof(f->cfg.can.battery_name), "0123456789abcdef");
    EXPECT(VICTRON_370, "16 characters", '0', '1', '2', '3', '4', '5', '6', '7');
    EXPECT(VICTRON_371, "16 characters", '8', '9', 'a', 'b', 'c', 'd', 'e', 'f');
}

static void test_35f_372_379(void **state)
{
    struct fx *f = *state;
    struct bmsgw_system *s = sysgen_new(2, 16, 2, 3300, 250, NOW);
    free(f->sys);
    f->in.sys = s;
    f->sys = s;
    s->strings[1].capacity_ah = 280;
    s->strings[1].sample_ms = NOW - 10000; /* stale: offline */
    reaggregate(f);
    f->cfg.can.model_id = 0x1234;
    f->cfg.can.hardware_version = 7;
    EXPECT(VICTRON_35F, "FW major first, online capacity", 0x34, 0x12, 0x02, 0x05, 0x64, 0x00, 0x07,
           0x00);
    EXPECT(VICTRON_379, "installed capacity of every string", 0x7C, 0x01, 0, 0, 0, 0, 0, 0);
    f->limits.strings_blocking_charge = 1;
    EXPECT(VICTRON_372, "1 online, 1 blocking charge, 1 offline", 0x01, 0x00, 0x01, 0x00, 0x00,
           0x00, 0x01, 0x00);
    s->strings[0].capacity_ah = 70000;
    reaggregate(f);
    EXPECT(VICTRON_379, "u16 clamp", 0xFF, 0xFF, 0, 0, 0, 0, 0, 0);
}

static void test_373_to_377_extremes(void **state)
{
    struct fx *f = *state;
    sysgen_cell(f->sys, 0, 3, 3280);
    sysgen_cell(f->sys, 0, 12, 3345);
    f->sys->sensor_dc[1] = -55;
    reaggregate(f);
    /* 3280 mV, 3345 mV, -5.5 C = 267.65 -> 268 K, 25.0 C = 298.15 -> 298 K */
    EXPECT(VICTRON_373, "Kelvin", 0xD0, 0x0C, 0x11, 0x0D, 0x0C, 0x01, 0x2A, 0x01);
    EXPECT(VICTRON_374, "min cell", 'S', '1', 'C', '0', '3', 0, 0, 0);
    EXPECT(VICTRON_375, "max cell", 'S', '1', 'C', '1', '2', 0, 0, 0);
    EXPECT(VICTRON_376, "min sensor", 'S', '1', 'T', '0', '2', 0, 0, 0);
    EXPECT(VICTRON_377, "max sensor", 'S', '1', 'T', '0', '1', 0, 0, 0);
    f->sys->sensor_dc[0] = 243; /* 24.3 C = 297.45 K -> 297 */
    f->sys->sensor_dc[1] = 244; /* 24.4 C = 297.55 K -> 298 */
    reaggregate(f);
    EXPECT(VICTRON_373, "Kelvin rounding", 0xD0, 0x0C, 0x11, 0x0D, 0x29, 0x01, 0x2A, 0x01);
    f->sys->sensor_dc[0] = f->sys->sensor_dc[1] = BMSGW_TEMP_ABSENT;
    f->sys->strings[0].mosfet_temp_dc = 300;
    reaggregate(f);
    EXPECT(VICTRON_376, "internal sensor", 'S', '1', 'B', 'M', 'S', 0, 0, 0);
}

static void test_378_energy(void **state)
{
    struct fx *f = *state;
    f->sys->strings[0].charged_wh = 123456;
    f->sys->strings[0].discharged_wh = 99;
    reaggregate(f);
    EXPECT(VICTRON_378, "100 Wh units, floored", 0xD2, 0x04, 0, 0, 0, 0, 0, 0);
    f->sys->strings[0].charged_wh = (4294967296.0 + 7) * 100 + 50;
    f->sys->strings[0].discharged_wh = 4294967295.0 * 100;
    reaggregate(f);
    EXPECT(VICTRON_378, "roll-over at 2^32", 0x07, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF);
    f->sys->strings[0].charged_wh = 1.0 / 0.0;
    f->sys->strings[0].discharged_wh = -5;
    reaggregate(f);
    EXPECT(VICTRON_378, "infinite or negative", 0, 0, 0, 0, 0, 0, 0, 0);
}

static void test_decode_json(void **state)
{
    struct fx *f = *state;
    uint8_t d[8];
    assert_int_equal(victron_encode(VICTRON_351, &f->in, d), 8);
    json_t *o = victron_decode_json(0x351, d, 8);
    assert_non_null(o);
    assert_true(json_real_value(json_object_get(o, "cvl_v")) == 55.2);
    assert_true(json_real_value(json_object_get(o, "ccl_a")) == 50.0);
    assert_true(json_real_value(json_object_get(o, "dvl_v")) == 46.4);
    json_decref(o);

    f->alarms.a[BMSGW_ALARM_LOW_VOLTAGE].level = BMSGW_LEVEL_ALARM;
    victron_encode(VICTRON_35A, &f->in, d);
    o = victron_decode_json(0x35A, d, 8);
    assert_string_equal(json_string_value(json_object_get(o, "alarm_low_voltage")), "active");
    assert_string_equal(json_string_value(json_object_get(o, "alarm_high_voltage")), "ok");
    assert_string_equal(json_string_value(json_object_get(o, "alarm_contactor")), "n/a");
    json_decref(o);

    victron_encode(VICTRON_35E, &f->in, d);
    o = victron_decode_json(0x35E, d, 8);
    assert_string_equal(json_string_value(json_object_get(o, "manufacturer")), "TinyBMS");
    json_decref(o);

    const uint8_t neg[8] = { 0xA0, 0x14, 0x85, 0xFF, 0x62, 0x00, 0, 0 };
    o = victron_decode_json(0x356, neg, 8);
    assert_true(json_real_value(json_object_get(o, "current_a")) == -12.3);
    assert_true(json_real_value(json_object_get(o, "temperature_c")) == 9.8);
    json_decref(o);

    const uint8_t k[8] = { 0xD0, 0x0C, 0x11, 0x0D, 0x0C, 0x01, 0x2A, 0x01 };
    o = victron_decode_json(0x373, k, 8);
    assert_true(json_real_value(json_object_get(o, "min_temperature_c")) == -5.15);
    assert_true(json_real_value(json_object_get(o, "max_cell_v")) == 3.345);
    json_decref(o);

    o = victron_decode_json(0x351, d, 3);
    assert_string_equal(json_string_value(json_object_get(o, "error")), "DLC 3, expected 8");
    json_decref(o);
    assert_null(victron_decode_json(0x123, d, 8));
}

static void test_inverter_frames(void **state)
{
    (void)state;
    const uint8_t vic[8] = { 0, 0, 0, 0, 'V', 'I', 'C', 0 };
    const uint8_t other[8] = { 0, 0, 0, 0, 'S', 'M', 'A', 0 };
    assert_true(victron_is_vic(vic, 8));
    assert_false(victron_is_vic(other, 8));
    assert_false(victron_is_vic(vic, 6));
    json_t *o = victron_decode_json(0x307, vic, 8);
    assert_string_equal(json_string_value(json_object_get(o, "identification")), "VIC");
    json_decref(o);
    o = victron_decode_json(0x305, vic, 2); /* any payload */
    assert_non_null(o);
    assert_null(json_object_get(o, "error"));
    json_decref(o);
}

static char *dbc_text(size_t *len)
{
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    victron_write_dbc(m);
    fclose(m);
    return buf;
}

static void test_dbc_is_generated(void **state)
{
    (void)state;
    size_t len;
    char *gen = dbc_text(&len);
    FILE *fp = fopen(DBC, "r");
    if (!fp)
        fail_msg("%s missing: run ninja -C build docs", DBC);
    char *file = calloc(1, len + 2);
    size_t n = fread(file, 1, len + 1, fp);
    fclose(fp);
    if (n != len || memcmp(gen, file, len) != 0)
        fail_msg("docs/victron-bms.dbc is not the generated one: run ninja -C build docs");
    assert_non_null(strstr(gen, "BO_ 858 alarms_warnings: 8 BMSGW"));
    assert_non_null(strstr(gen, " SG_ ccl_a : 16|16@1- (0.1,0)"));
    assert_non_null(strstr(gen, " SG_ min_temperature_c : 32|16@1+ (1,-273.15)"));
    assert_non_null(strstr(gen, "VAL_ 858 alarm_high_voltage 0 \"n/a\" 1 \"active\" 2 \"ok\""));
    free(file);
    free(gen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_351_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_355_soc_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_356_signed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_35a_all_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_35a_voltage_not_swapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_35a_each_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ascii_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_35f_372_379, setup, teardown),
        cmocka_unit_test_setup_teardown(test_373_to_377_extremes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_378_energy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inverter_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbc_is_generated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
