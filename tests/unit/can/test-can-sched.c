/* SPDX-License-Identifier: MIT */
/* test-can-sched.c — frame scheduling, urgent sends, error frames, the real link's refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <string.h>

#include "bmsgw/can.h"
#include "bmsgw/config.h"
#include "bmsgw/victron.h"

static void defaults(int period[VICTRON_FRAME_COUNT])
{
    struct bmsgw_config cfg;
    config_defaults(&cfg);
    memcpy(period, cfg.can.period_ms, VICTRON_FRAME_COUNT * sizeof(int)); /* slots = table order */
}

static void test_spread_over_the_shortest_period(void **state)
{
    (void)state;
    int p[VICTRON_FRAME_COUNT];
    struct can_sched s;
    defaults(p);
    can_sched_init(&s, &can_proto_victron, p, 10000);
    for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++) {
        assert_true(s.due_ms[f] == 10000 + (int64_t)f * 1000 / 19);
        assert_int_equal(s.period_ms[f], p[f]);
    }
    /* over 10 s each frame is due period/10 s times, and never two in the same ms */
    unsigned count[VICTRON_FRAME_COUNT] = { 0 };
    for (int64_t t = 10000; t < 20000; t++) {
        unsigned due = 0;
        for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++) {
            if (can_sched_due(&s, f, t)) {
                due++;
                count[f]++;
                can_sched_done(&s, f, t);
            }
        }
        assert_true(due <= 1);
    }
    for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++)
        assert_int_equal(count[f], 10000 / p[f]);
}

static void test_group_never_slower_than_1s(void **state)
{
    (void)state;
    int p[VICTRON_FRAME_COUNT];
    struct can_sched s;
    defaults(p);
    for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++)
        p[f] = 5000;
    can_sched_init(&s, &can_proto_victron, p, 0);
    assert_int_equal(s.period_ms[VICTRON_351], 1000);
    assert_int_equal(s.period_ms[VICTRON_355], 1000);
    assert_int_equal(s.period_ms[VICTRON_356], 1000);
    assert_int_equal(s.period_ms[VICTRON_35A], 1000);
    assert_int_equal(s.period_ms[VICTRON_372], 5000);
}

static void test_cadence_kept_when_late(void **state)
{
    (void)state;
    int p[VICTRON_FRAME_COUNT];
    struct can_sched s;
    defaults(p);
    can_sched_init(&s, &can_proto_victron, p, 0);
    can_sched_done(&s, VICTRON_351, 30); /* 30 ms late */
    assert_true(s.due_ms[VICTRON_351] == 1000);
    can_sched_done(&s, VICTRON_351, 3500); /* stalled: skip, keep the phase */
    assert_true(s.due_ms[VICTRON_351] == 4000);
    assert_int_equal(can_sched_next_ms(&s), s.due_ms[VICTRON_355]);
}

static void test_expedite(void **state)
{
    (void)state;
    int p[VICTRON_FRAME_COUNT];
    struct can_sched s;
    const int64_t T = 10000;
    defaults(p);
    can_sched_init(&s, &can_proto_victron, p, T);
    can_sched_done(&s, VICTRON_351, T);
    can_sched_expedite(&s, VICTRON_351, T + 20); /* 20 ms after the last send: wait */
    assert_true(s.due_ms[VICTRON_351] == T + CAN_SCHED_MIN_GAP_MS);
    can_sched_done(&s, VICTRON_351, T + CAN_SCHED_MIN_GAP_MS);
    assert_true(s.due_ms[VICTRON_351] == T + CAN_SCHED_MIN_GAP_MS + 1000); /* re-anchored */
    can_sched_expedite(&s, VICTRON_351, T + 600);
    assert_true(s.due_ms[VICTRON_351] == T + 600);
    assert_true(can_sched_due(&s, VICTRON_351, T + 600));
    can_sched_expedite(&s, VICTRON_35A, T + 5000); /* already due earlier: unchanged */
    assert_true(s.due_ms[VICTRON_35A] == T + 3 * 1000 / 19);
}

static void test_limits_dropped(void **state)
{
    (void)state;
    const uint8_t base[8] = { 0x28, 0x02, 0xF4, 0x01, 0xE8, 0x03, 0xD0, 0x01 };
    uint8_t d[8];
    memcpy(d, base, 8);
    assert_false(victron_limits_dropped(base, d));
    d[2] = 0xF5; /* CCL up */
    assert_false(victron_limits_dropped(base, d));
    d[2] = 0xF3; /* CCL down */
    assert_true(victron_limits_dropped(base, d));
    memcpy(d, base, 8);
    d[0] = 0x27; /* CVL down */
    assert_true(victron_limits_dropped(base, d));
    memcpy(d, base, 8);
    d[4] = 0x00; /* DCL 1000 -> 768 */
    assert_true(victron_limits_dropped(base, d));
    memcpy(d, base, 8);
    d[6] = 0xCF; /* DVL down */
    assert_true(victron_limits_dropped(base, d));
}

static void test_alarm_raised(void **state)
{
    (void)state;
    const uint8_t ok[8] = { 0xAA, 0xAA, 0x82, 0x02, 0xAA, 0xAA, 0x82, 0x02 };
    uint8_t d[8];
    memcpy(d, ok, 8);
    assert_false(victron_alarm_raised(ok, d));
    d[4] = 0x99; /* low voltage warning + general warning */
    assert_true(victron_alarm_raised(ok, d));
    assert_false(victron_alarm_raised(d, ok)); /* clearing is not urgent */
    assert_false(victron_alarm_raised(d, d));
}

static void test_error_frames(void **state)
{
    (void)state;
    struct can_frame_io f = { .error = true, .id = CAN_ERR_BUSOFF };
    assert_int_equal(can_error_bus_state(&f), BMSGW_CAN_BUS_OFF);
    f.id = CAN_ERR_RESTARTED;
    assert_int_equal(can_error_bus_state(&f), BMSGW_CAN_BUS_ERROR_ACTIVE);
    f = (struct can_frame_io){ .error = true, .id = CAN_ERR_CRTL, .dlc = 8 };
    f.data[1] = CAN_ERR_CRTL_TX_PASSIVE;
    assert_int_equal(can_error_bus_state(&f), BMSGW_CAN_BUS_ERROR_PASSIVE);
    f.data[1] = CAN_ERR_CRTL_RX_WARNING;
    assert_int_equal(can_error_bus_state(&f), BMSGW_CAN_BUS_ERROR_WARNING);
    f.id = CAN_ERR_PROT;
    assert_int_equal(can_error_bus_state(&f), -1);
    f = (struct can_frame_io){ .id = 0x305, .dlc = 8 };
    assert_int_equal(can_error_bus_state(&f), -1);
}

/* On a kernel without CAN (or without the interface) opening fails with a clear reason. */
static void test_socketcan_open_refused(void **state)
{
    (void)state;
    char why[96] = "";
    const struct can_link_ops *ops = can_link_socketcan();
    int rc = ops->open(NULL, "bmsgwnone0", NULL, 0, why, sizeof(why));
    assert_true(rc < 0);
    if (rc == -EAFNOSUPPORT || rc == -EPROTONOSUPPORT)
        assert_non_null(strstr(why, "CAN not supported by the kernel"));
    else
        assert_string_equal(why, "interface bmsgwnone0 missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_over_the_shortest_period),
        cmocka_unit_test(test_group_never_slower_than_1s),
        cmocka_unit_test(test_cadence_kept_when_late),
        cmocka_unit_test(test_expedite),
        cmocka_unit_test(test_limits_dropped),
        cmocka_unit_test(test_alarm_raised),
        cmocka_unit_test(test_error_frames),
        cmocka_unit_test(test_socketcan_open_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
