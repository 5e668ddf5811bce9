/* SPDX-License-Identifier: MIT */
/* test-tinybms-sim.c — the simulated TinyBMS: its registers decode as the spec says, protocol
 * limits and error replies, sleep and reset, cutoffs with events, settings, control commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/tinybms.h"
#include "bmsgw/tinybms_rtu.h"
#include "bmsgw/tinybms_sim.h"

static int setup(void **state)
{
    struct tinybms_sim *s = calloc(1, sizeof(*s));
    struct tinybms_sim_params p;
    tinybms_sim_params_default(&p);
    assert_int_equal(tinybms_sim_init(s, &p), 0);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    tinybms_sim_free(*state);
    free(*state);
    return 0;
}

/* Send one request through the simulator; returns the reply length (0 = no answer). */
static size_t xfer(struct tinybms_sim *s, const struct tinybms_req *req, uint8_t *reply)
{
    uint8_t frame[TINYBMS_FRAME_MAX];
    size_t n = tinybms_req_encode(req, frame, sizeof(frame));
    assert_true(n > 0);
    return tinybms_sim_handle(s, frame, n, reply, TINYBMS_FRAME_MAX);
}

static int read_regs(struct tinybms_sim *s, uint16_t addr, uint16_t count, uint16_t *regs,
                     uint8_t *err)
{
    struct tinybms_req req = { .fc = TINYBMS_FC_READ, .addr = addr, .count = count };
    uint8_t reply[TINYBMS_FRAME_MAX];
    size_t n = xfer(s, &req, reply);
    if (n == 0)
        return -ETIMEDOUT;
    return tinybms_reply_decode(&req, reply, n, regs, err);
}

static void ctl(struct tinybms_sim *s, const char *line)
{
    char reply[8192];
    if (tinybms_sim_control(s, line, reply, sizeof(reply)) != 0)
        fail_msg("%s: %s", line, reply);
}

static void test_live_block_decodes(void **state)
{
    struct tinybms_sim *s = *state;
    uint16_t regs[TINYBMS_LIVE_COUNT];
    struct tinybms_live l;
    char why[128];
    ctl(s, "set current -25");
    tinybms_sim_step(s, 1.0);
    assert_int_equal(read_regs(s, 0, TINYBMS_LIVE_COUNT, regs, NULL), 0);
    if (tinybms_decode_live(regs, &l, why, sizeof(why)) != 0)
        fail_msg("the simulator's block is rejected: %s", why);
    assert_int_equal(l.cell_count, 16);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(l.cell_mv[i], battery_cell_mv(&s->bat, i));
    assert_true(fabs(l.current_a + 25) < 1e-6);
    assert_true(fabs(l.pack_v - s->bat.pack_v) < 1e-3);
    assert_true(fabs(l.soc_pct - s->bat.est_soc_pct) < 1e-5);
    assert_int_equal(l.status, TINYBMS_STATUS_DISCHARGING);
    assert_true(l.time_left_s > 0);
    assert_int_equal(l.lifetime_s, 1);
}

static void test_protocol_limits(void **state)
{
    struct tinybms_sim *s = *state;
    uint16_t regs[TINYBMS_READ_MAX];
    uint8_t err = 0xFF, reply[TINYBMS_FRAME_MAX];
    assert_int_equal(read_regs(s, 0, 127, regs, NULL), 0);
    /* 128 registers: the encoder refuses, so build the frame by hand */
    uint8_t f[8] = { 0xAA, 0x03, 0x00, 0x00, 0x00, 128 };
    uint16_t crc = tinybms_crc16(f, 6);
    f[6] = (uint8_t)(crc & 0xFF);
    f[7] = (uint8_t)(crc >> 8);
    size_t n = tinybms_sim_handle(s, f, 8, reply, sizeof(reply));
    assert_int_equal(n, 6);
    assert_int_equal(reply[1], 0x00); /* the non-standard error reply */
    assert_int_equal(reply[2], 0x03);
    assert_int_equal(reply[3], TINYBMS_ERR_COMMAND);
    /* a CRC error is answered with error code 1 */
    f[6] ^= 1;
    n = tinybms_sim_handle(s, f, 8, reply, sizeof(reply));
    assert_int_equal(n, 6);
    assert_int_equal(reply[3], TINYBMS_ERR_CRC);
    /* writes only in 300..399 */
    uint16_t v = 1;
    struct tinybms_req w = { .fc = TINYBMS_FC_WRITE, .addr = 46, .count = 1, .values = &v };
    n = xfer(s, &w, reply);
    assert_int_equal(tinybms_reply_decode(&w, reply, n, NULL, &err), -EREMOTEIO);
    assert_int_equal(err, TINYBMS_ERR_COMMAND);
    /* a proprietary command the simulator does not implement */
    uint8_t ver[4] = { 0xAA, 0x1E };
    crc = tinybms_crc16(ver, 2);
    ver[2] = (uint8_t)(crc & 0xFF);
    ver[3] = (uint8_t)(crc >> 8);
    n = tinybms_sim_handle(s, ver, 4, reply, sizeof(reply));
    assert_int_equal(n, 6);
    assert_int_equal(reply[2], 0x1E);
}

static void test_settings_write_and_range(void **state)
{
    struct tinybms_sim *s = *state;
    uint8_t reply[TINYBMS_FRAME_MAX];
    uint16_t v = 3600, back = 0;
    struct tinybms_req w = { .fc = TINYBMS_FC_WRITE, .addr = 315, .count = 1, .values = &v };
    size_t n = xfer(s, &w, reply);
    assert_int_equal(tinybms_reply_decode(&w, reply, n, NULL, NULL), 0);
    assert_int_equal(read_regs(s, 315, 1, &back, NULL), 0);
    assert_int_equal(back, 3600);
    /* out of range: acknowledged, not taken (the read-back tells) */
    v = 5000;
    n = xfer(s, &w, reply);
    assert_int_equal(tinybms_reply_decode(&w, reply, n, NULL, NULL), 0);
    assert_int_equal(read_regs(s, 315, 1, &back, NULL), 0);
    assert_int_equal(back, 3600);
    /* ignore-writes fault */
    ctl(s, "fault ignore-writes on");
    v = 3500;
    xfer(s, &w, reply);
    assert_int_equal(read_regs(s, 315, 1, &back, NULL), 0);
    assert_int_equal(back, 3600);
}

static void test_fewer_cells_by_setting(void **state)
{
    struct tinybms_sim *s = *state;
    uint8_t reply[TINYBMS_FRAME_MAX];
    uint16_t v = 14, regs[TINYBMS_LIVE_COUNT];
    struct tinybms_req w = { .fc = TINYBMS_FC_WRITE, .addr = 307, .count = 1, .values = &v };
    xfer(s, &w, reply);
    tinybms_sim_step(s, 0.1);
    assert_int_equal(read_regs(s, 0, TINYBMS_LIVE_COUNT, regs, NULL), 0);
    assert_int_equal(regs[0], 0); /* the top 14 registers hold the cells */
    assert_int_equal(regs[1], 0);
    assert_true(regs[2] > 30000);
    struct tinybms_live l;
    assert_int_equal(tinybms_decode_live(regs, &l, NULL, 0), 0);
    assert_int_equal(l.cell_count, 14);
}

static void test_sleep_swallows_first_command(void **state)
{
    struct tinybms_sim *s = *state;
    uint16_t regs[TINYBMS_LIVE_COUNT];
    s->sleep_enabled = true;
    s->sleep_after_s = 10;
    tinybms_sim_step(s, 11); /* no traffic at 0 A for 11 s */
    assert_true(s->asleep);
    assert_int_equal(read_regs(s, 0, 56, regs, NULL), -ETIMEDOUT);
    assert_int_equal(read_regs(s, 0, 56, regs, NULL), 0);
    assert_int_equal(s->stats.swallowed, 1);
    /* traffic keeps it awake */
    for (int i = 0; i < 30; i++) {
        tinybms_sim_step(s, 0.5);
        assert_int_equal(read_regs(s, 0, 56, regs, NULL), 0);
    }
}

static void test_reset_and_clear(void **state)
{
    struct tinybms_sim *s = *state;
    uint8_t reply[TINYBMS_FRAME_MAX];
    uint16_t regs[TINYBMS_EVENTS_REGS];
    struct tinybms_req clr = { .fc = TINYBMS_CMD_CONTROL, .option = TINYBMS_CLEAR_EVENTS };
    size_t n = xfer(s, &clr, reply);
    assert_int_equal(tinybms_reply_decode(&clr, reply, n, NULL, NULL), 0);
    assert_int_equal(read_regs(s, 200, TINYBMS_EVENTS_REGS, regs, NULL), 0);
    struct bmsgw_bms_event ev[BMSGW_EVENTS_MAX];
    assert_int_equal(tinybms_decode_events(regs, ev), 0);

    struct tinybms_req rst = { .fc = TINYBMS_CMD_CONTROL, .option = TINYBMS_RESET };
    n = xfer(s, &rst, reply);
    assert_int_equal(tinybms_reply_decode(&rst, reply, n, NULL, NULL), 0);
    assert_int_equal(read_regs(s, 0, 56, regs, NULL), -ETIMEDOUT); /* booting */
    tinybms_sim_step(s, 1.1);
    assert_int_equal(read_regs(s, 200, TINYBMS_EVENTS_REGS, regs, NULL), 0);
    assert_int_equal(tinybms_decode_events(regs, ev), 1);
    assert_int_equal(ev[0].id, 0x61);
    uint16_t r114;
    assert_int_equal(read_regs(s, 114, 1, &r114, NULL), 0);
    assert_int_equal(r114 & 0xFF, 4); /* software reset */

    struct tinybms_req bad = { .fc = TINYBMS_CMD_CONTROL, .option = 0x09 };
    uint8_t err;
    n = xfer(s, &bad, reply);
    assert_int_equal(tinybms_reply_decode(&bad, reply, n, NULL, &err), -EREMOTEIO);
}

static bool has_event(const struct tinybms_sim *s, uint8_t id)
{
    for (unsigned k = 0; k < s->event_count; k++)
        if (s->events[k].id == id)
            return true;
    return false;
}

static void test_over_voltage_cutoff(void **state)
{
    struct tinybms_sim *s = *state;
    ctl(s, "set current 20");
    tinybms_sim_step(s, 0.1);
    assert_int_equal(s->status, TINYBMS_STATUS_CHARGING);
    ctl(s, "set cell 5 3700");
    tinybms_sim_step(s, 0.1);
    assert_int_equal(s->status, TINYBMS_STATUS_FAULT);
    assert_true(has_event(s, 0x03));
    assert_true(fabs(s->current_a) < 1e-9); /* charging stopped */
    assert_int_equal(s->regs[106], 1);      /* over-voltage count */
    ctl(s, "release cell 5");
    tinybms_sim_step(s, 0.1);
    assert_true(has_event(s, 0x79));
    assert_true(s->current_a > 19);
}

static void test_temperature_and_current_cutoffs(void **state)
{
    struct tinybms_sim *s = *state;
    ctl(s, "set temp 1 70");
    tinybms_sim_step(s, 0.1);
    assert_int_equal(s->status, TINYBMS_STATUS_FAULT);
    assert_true(has_event(s, 0x04));
    ctl(s, "set temp 1 25");
    ctl(s, "unplug temp 2");
    tinybms_sim_step(s, 0.1);
    assert_true(has_event(s, 0x73));
    assert_int_equal((int16_t)s->regs[43], BMSGW_TEMP_ABSENT);

    ctl(s, "set current -250"); /* above the 200 A discharge cutoff */
    tinybms_sim_step(s, 0.1);
    assert_true(has_event(s, 0x05));
    assert_true(fabs(s->current_a) < 1e-9);
    ctl(s, "set current -10");
    tinybms_sim_step(s, 6.0); /* automatic recovery after 5 s */
    assert_true(has_event(s, 0x77));
    tinybms_sim_step(s, 0.1);
    assert_true(fabs(s->current_a + 10) < 1e-9);
}

static void test_control_language(void **state)
{
    struct tinybms_sim *s = *state;
    char reply[8192];
    static const char *const bad[] = {
        "",
        "nope",
        "set",
        "set current",
        "set current 1x",
        "set soc 101",
        "set cell 17 3300",
        "set cell 1 0",
        "set temp 3 20",
        "set status maybe",
        "load up",
        "event 0",
        "event 300",
        "fault",
        "fault crc 2",
        "fault delay -1",
        "fault noreply maybe",
        "fault vanish 0",
        "release cell",
        "plug cell 1",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tinybms_sim_control(s, bad[i], reply, sizeof(reply)), -EINVAL);
        if (strncmp(reply, "error: ", 7) != 0)
            fail_msg("'%s' answered '%s'", bad[i], reply);
    }
    ctl(s, "fault crc 0.5");
    ctl(s, "fault delay 30");
    ctl(s, "set status fault");
    ctl(s, "event 0x0B");
    ctl(s, "load random");
    assert_int_equal(tinybms_sim_control(s, "get", reply, sizeof(reply)), 0);
    json_error_t jerr;
    json_t *o = json_loads(reply, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "cells_mv")), 16);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "fault");
    assert_string_equal(json_string_value(json_object_get(o, "load")), "random");
    json_t *io = json_object_get(o, "io");
    assert_true(fabs(json_real_value(json_object_get(io, "crc")) - 0.5) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(io, "delay_ms")), 30);
    json_t *ev0 = json_array_get(json_object_get(o, "events"), 0);
    assert_int_equal(json_integer_value(json_object_get(ev0, "id")), 0x0B);
    json_t *settings = json_object_get(o, "settings");
    assert_true(fabs(json_real_value(json_object_get(settings, "over_voltage_cutoff_mv")) - 3650) <
                1e-9);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_live_block_decodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_write_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fewer_cells_by_setting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_swallows_first_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_over_voltage_cutoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_temperature_and_current_cutoffs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_language, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
