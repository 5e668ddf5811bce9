/* SPDX-License-Identifier: MIT */
/* test-tinybms-decode.c — golden live blocks, every plausibility edge, publishing into a system,
 * the event log and new-event detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/tinybms.h"

/* A 16S pack as read from registers 0..55: cells 3300.0..3315.0 mV, 52.96 V, -12.5 A
 * (discharging), SOC 87.654321 %, SOH 98 %, sensor 2 unplugged, cells 1 and 16 want balancing,
 * cell 16 is balancing. */
static const uint16_t golden16[TINYBMS_LIVE_COUNT] = {
    33000,         33010,         33020,         33030,
    33040,         33050,         33060,         33070, /* 0..7 */
    33080,         33090,         33100,         33110,
    33120,         33130,         33140,         33150,         /* 8..15 */
    [32] = 0x2345, [33] = 0x0001,                               /* lifetime 74565 s */
    [34] = 7200,   [35] = 0,                                    /* time left */
    [36] = 0xD70A, [37] = 0x4253,                               /* 52.96 V, CDAB */
    [38] = 0x0000, [39] = 0xC148,                               /* -12.5 A */
    [40] = 3300,   [41] = 3315,   [42] = 215,    [43] = 0x8000, /* 21.5 degC, unplugged */
    [44] = 0,      [45] = 49000,                                /* SOH 98 % */
    [46] = 0x7FB1, [47] = 0x0539,                               /* SOC 87.654321 % */
    [48] = 301,                                                 /* MOSFET 30.1 degC */
    [50] = 0x93,   [51] = 0x8001, [52] = 0x8000, [53] = 16,
};

static void test_golden_16s(void **state)
{
    (void)state;
    struct tinybms_live l;
    char why[128];
    assert_int_equal(tinybms_decode_live(golden16, &l, why, sizeof(why)), 0);
    assert_int_equal(l.cell_count, 16);
    assert_int_equal(l.cell_mv[0], 3300);
    assert_int_equal(l.cell_mv[15], 3315);
    assert_true(fabs(l.pack_v - 52.96) < 1e-5);
    assert_true(fabs(l.current_a + 12.5) < 1e-9);
    assert_true(fabs(l.soc_pct - 87.654321) < 1e-9);
    assert_true(fabs(l.soh_pct - 98.0) < 1e-9);
    assert_int_equal(l.sensor_dc[0], 215);
    assert_int_equal(l.sensor_dc[1], BMSGW_TEMP_ABSENT);
    assert_int_equal(l.mosfet_temp_dc, 301);
    assert_int_equal(l.status, TINYBMS_STATUS_DISCHARGING);
    assert_int_equal(l.balance_needed, 0x8001);
    assert_int_equal(l.balancing, 0x8000);
    assert_int_equal(l.lifetime_s, 74565);
    assert_int_equal(l.time_left_s, 7200);
    assert_int_equal(l.bms_min_cell_mv, 3300);
    assert_int_equal(l.bms_max_cell_mv, 3315);
}

static void test_top_registers_hold_fewer_cells(void **state)
{
    (void)state;
    uint16_t r[TINYBMS_LIVE_COUNT];
    memcpy(r, golden16, sizeof(r));
    r[0] = r[1] = 0; /* a 14S pack reads 0 in registers 0..1 */
    r[53] = 14;
    r[36] = 0xCCCD; /* 46.2 V */
    r[37] = 0x4238;
    r[51] = 0xFFFF; /* bits above the cell count are not cells */
    struct tinybms_live l;
    assert_int_equal(tinybms_decode_live(r, &l, NULL, 0), 0);
    assert_int_equal(l.cell_count, 14);
    assert_int_equal(l.cell_mv[0], 3302); /* register 2 is cell 1 */
    assert_int_equal(l.cell_mv[13], 3315);
    assert_int_equal(l.cell_mv[14], 0);
    assert_int_equal(l.balance_needed, 0x3FFF);
}

struct reject_case {
    const char *what;
    unsigned reg;
    uint16_t value;
    unsigned reg2; /* 0 = none */
    uint16_t value2;
    const char *why;
};

static const struct reject_case reject_cases[] = {
    { "no cells", 53, 0, 0, 0, "the BMS reports 0 detected cells" },
    { "17 cells", 53, 17, 0, 0, "the BMS reports 17 detected cells (at most 16)" },
    { "cell at 0 mV", 7, 0, 0, 0, "cell 8 at 0 mV is implausible (500..5000 mV)" },
    { "cell at 6.5 V", 15, 65535, 0, 0, "cell 16 at 6554 mV is implausible (500..5000 mV)" },
    { "NaN pack voltage", 36, 0x0000, 37, 0x7FC0,
      "pack_voltage_v is not a number (NaN or infinite)" },
    { "infinite current", 38, 0x0000, 39, 0x7F80,
      "pack_current_a is not a number (NaN or infinite)" },
    { "current beyond 1000 A", 38, 0x0000, 39, 0x44FA, "pack_current_a 2e+03 is out of range" },
    { "word order ABCD", 36, 0x4253, 37, 0xD70A, "pack_voltage_v" },
    { "pack far from the cells", 36, 0x0000, 37, 0x4220, "differs from the sum of the 16 cells" },
    /* finding 7 of the safety review: 15 cells reported on the 16S pack of 52.96 V */
    { "one cell unseen", 53, 15, 0, 0,
      "pack voltage 52.96 V differs from the sum of the 15 cells 49.62 V by more than half a "
      "cell (1.65 V)" },
    { "SOC above 100 %", 46, 0xE101, 47, 0x05F5, "SOC 100.00 % is above 100 %" },
    { "SOH above 100 %", 45, 50001, 0, 0, "SOH 100.00 % is above 100 %" },
    { "sensor too hot", 42, 1600, 0, 0, "external temperature 1 160.0 degC is out of range" },
    { "MOSFET too cold", 48, (uint16_t)-500, 0, 0, "internal temperature -50.0 degC" },
    { "NaN speed", 54, 0x0001, 55, 0x7F80, "speed_kmh is not a number" },
};

static void test_implausible_samples_are_rejected(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
        const struct reject_case *c = &reject_cases[i];
        uint16_t r[TINYBMS_LIVE_COUNT];
        memcpy(r, golden16, sizeof(r));
        r[c->reg] = c->value;
        if (c->reg2)
            r[c->reg2] = c->value2;
        struct tinybms_live l;
        char why[160];
        int rc = tinybms_decode_live(r, &l, why, sizeof(why));
        if (rc != -EDOM)
            fail_msg("%s: accepted", c->what);
        if (!strstr(why, c->why))
            fail_msg("%s: reason '%s' lacks '%s'", c->what, why, c->why);
    }
}

/* spec/victron-can.md "Safety invariants" 5: the count the string must have */
static void test_cell_count_checked(void **state)
{
    (void)state;
    struct tinybms_live l;
    struct bms_sample s;
    char why[160];
    assert_int_equal(tinybms_decode_live(golden16, &l, why, sizeof(why)), 0);
    tinybms_sample(&l, &s);
    assert_int_equal(bms_sample_check_cells(&s, 0, "any", why, sizeof(why)), 0);
    assert_int_equal(bms_sample_check_cells(&s, 16, "bms.ports[0].cells", why, sizeof(why)), 0);
    assert_int_equal(bms_sample_check_cells(&s, 15, "bms.ports[0].cells", why, sizeof(why)), -EDOM);
    assert_string_equal(why, "the BMS reports 16 series cells, the string has 15 "
                             "(bms.ports[0].cells)");
}

static void test_both_sensors_unplugged_is_fine(void **state)
{
    (void)state;
    uint16_t r[TINYBMS_LIVE_COUNT];
    memcpy(r, golden16, sizeof(r));
    r[42] = 0x8000;
    struct tinybms_live l;
    assert_int_equal(tinybms_decode_live(r, &l, NULL, 0), 0);
    assert_int_equal(l.sensor_dc[0], BMSGW_TEMP_ABSENT);
    assert_int_equal(l.sensor_dc[1], BMSGW_TEMP_ABSENT);
}

static void test_apply_into_second_string(void **state)
{
    (void)state;
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    struct tinybms_live l;
    uint16_t r[TINYBMS_LIVE_COUNT];
    memcpy(r, golden16, sizeof(r));
    r[0] = r[1] = 0;
    r[53] = 14;
    r[36] = 0xCCCD;
    r[37] = 0x4238;
    r[10] = 32000;  /* cell 9 lowest */
    r[51] = 0x2001; /* cells 1 and 14 */
    r[52] = 0x2000; /* cell 14 */
    assert_int_equal(tinybms_decode_live(r, &l, NULL, 0), 0);
    sys->string_count = 2;
    for (int i = 0; i < 16; i++)
        sys->cell_mv[16 + i] = 9999; /* stale content is overwritten */
    tinybms_live_apply(&l, sys, 1, 12345);
    const struct bmsgw_string *st = &sys->strings[1];
    assert_int_equal(st->cell_first, 16);
    assert_int_equal(st->cell_count, 14);
    assert_int_equal(st->sensor_first, 2);
    assert_int_equal(st->sensor_count, 2);
    assert_int_equal(sys->cell_count, 32);
    assert_int_equal(sys->sensor_count, 4);
    assert_int_equal(sys->cell_mv[16], 3302);
    assert_int_equal(sys->cell_mv[16 + 13], 3315);
    assert_int_equal(sys->cell_mv[16 + 14], 0);
    assert_int_equal(sys->cell_mv[16 + 15], 0);
    assert_int_equal(sys->cell_flags[16], BMSGW_CELL_BALANCE_NEEDED);
    assert_int_equal(sys->cell_flags[16 + 13], BMSGW_CELL_BALANCE_NEEDED | BMSGW_CELL_BALANCING);
    assert_int_equal(sys->cell_flags[16 + 14], 0);
    assert_int_equal(sys->sensor_dc[2], 215);
    assert_int_equal(sys->sensor_dc[3], BMSGW_TEMP_ABSENT);
    assert_int_equal(st->min_cell_mv, 3200);
    assert_int_equal(st->min_cell_no, 9);
    assert_int_equal(st->max_cell_mv, 3315);
    assert_int_equal(st->max_cell_no, 14);
    assert_true(st->online);
    assert_int_equal(st->sample_ms, 12345);
    assert_true(st->current_a < 0);
    assert_int_equal(st->mosfet_temp_dc, 301);
    assert_int_equal(sys->strings[0].cell_count, 0); /* the other string is untouched */
    free(sys);
}

static void test_settings_apply(void **state)
{
    (void)state;
    uint16_t s[BMSGW_SETTINGS_COUNT] = { 0 };
    s[306 - 300] = 28000;
    struct bmsgw_string st;
    memset(&st, 0, sizeof(st));
    tinybms_settings_apply(s, &st, 77);
    assert_true(st.settings_valid);
    assert_int_equal(st.settings_ms, 77);
    assert_true(fabs(st.capacity_ah - 280.0) < 1e-9);
    assert_int_equal(st.settings_reg[6], 28000);
}

static void put_event(uint16_t *regs, unsigned slot, uint32_t ts, uint8_t id)
{
    regs[2 * slot] = (uint16_t)(ts & 0xFFFF);
    regs[2 * slot + 1] = (uint16_t)(id << 8 | (ts >> 16 & 0xFF));
}

static void test_events_decode(void **state)
{
    (void)state;
    uint16_t regs[TINYBMS_EVENTS_REGS] = { 0 };
    struct bmsgw_bms_event ev[BMSGW_EVENTS_MAX];
    assert_int_equal(tinybms_decode_events(regs, ev), 0);
    put_event(regs, 0, 0x123456, 0x61);
    put_event(regs, 1, 0x123500, 0x03);
    put_event(regs, 2, 0xFFFF, 0xFF); /* empty slot */
    put_event(regs, 48, 0x10, 0x62);
    assert_int_equal(tinybms_decode_events(regs, ev), 3);
    assert_int_equal(ev[0].timestamp_s, 0x123500); /* newest first */
    assert_int_equal(ev[0].id, 0x03);
    assert_int_equal(ev[1].timestamp_s, 0x123456);
    assert_int_equal(ev[1].id, 0x61);
    assert_int_equal(ev[2].timestamp_s, 0x10);
    /* entries with the same timestamp keep the order of the log */
    memset(regs, 0, sizeof(regs));
    put_event(regs, 0, 7, 0x03);
    put_event(regs, 1, 7, 0x61);
    put_event(regs, 2, 9, 0x62);
    assert_int_equal(tinybms_decode_events(regs, ev), 3);
    assert_int_equal(ev[0].id, 0x62);
    assert_int_equal(ev[1].id, 0x03);
    assert_int_equal(ev[2].id, 0x61);
}

static void test_new_events(void **state)
{
    (void)state;
    const struct bmsgw_bms_event prev[] = { { 100, 0x62 }, { 50, 0x61 } };
    const struct bmsgw_bms_event cur[] = {
        { 120, 0x03 }, { 120, 0x64 }, { 100, 0x62 }, { 50, 0x61 }
    };
    struct bmsgw_bms_event fresh[8];
    /* the first read after start is the baseline: nothing is new */
    assert_int_equal(bms_events_new(NULL, 0, false, cur, 4, fresh), 0);
    /* two new events, oldest first */
    assert_int_equal(bms_events_new(prev, 2, true, cur, 4, fresh), 2);
    assert_int_equal(fresh[0].id, 0x64);
    assert_int_equal(fresh[1].id, 0x03);
    /* an unchanged log has nothing new */
    assert_int_equal(bms_events_new(cur, 4, true, cur, 4, fresh), 0);
    /* an old entry that was pushed out and comes back (shifted log) is not new */
    const struct bmsgw_bms_event shifted[] = { { 120, 0x03 }, { 30, 0x05 } };
    assert_int_equal(bms_events_new(prev, 2, true, shifted, 2, fresh), 1);
    assert_int_equal(fresh[0].id, 0x03);
    /* after the log was cleared every entry is new */
    assert_int_equal(bms_events_new(NULL, 0, true, cur, 2, fresh), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_16s),
        cmocka_unit_test(test_top_registers_hold_fewer_cells),
        cmocka_unit_test(test_implausible_samples_are_rejected),
        cmocka_unit_test(test_cell_count_checked),
        cmocka_unit_test(test_both_sensors_unplugged_is_fine),
        cmocka_unit_test(test_apply_into_second_string),
        cmocka_unit_test(test_settings_apply),
        cmocka_unit_test(test_events_decode),
        cmocka_unit_test(test_new_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
