/* SPDX-License-Identifier: MIT */
/* test-ws-stream.c — bus messages as the JSON of the WebSocket streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bmsgw/alerts.h"
#include "bmsgw/can_proto.h"
#include "bmsgw/event.h"
#include "bmsgw/ws_stream.h"

static struct bus_msg bytes_msg(uint32_t topic, uint8_t dir, int source, uint32_t id,
                                const uint8_t *data, unsigned len)
{
    struct bus_msg m = { .topic = topic,
                         .dir = dir,
                         .source = (int16_t)source,
                         .can_id = id,
                         .t_ms = 1700000000123LL,
                         .len = (uint16_t)len };
    memcpy(m.data, data, len);
    return m;
}

static void test_uart(void **state)
{
    (void)state;
    const uint8_t req[] = { 0xAA, 0x03, 0x00, 0x00, 0x00, 0x38, 0x5C, 0x0F };
    struct bus_msg m = bytes_msg(BUS_UART, BUS_DIR_TX, 0, 0, req, sizeof(req));
    json_t *j = ws_stream_json(&m, can_protocols[0]);
    assert_string_equal(json_string_value(json_object_get(j, "dir")), "tx");
    assert_int_equal(json_integer_value(json_object_get(j, "string")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "t_ms")), 1700000000123LL);
    assert_string_equal(json_string_value(json_object_get(j, "hex")), "aa03000000385c0f");
    json_decref(j);
    m.source = -1;
    m.dir = BUS_DIR_RX;
    j = ws_stream_json(&m, can_protocols[0]);
    assert_true(json_is_null(json_object_get(j, "string")));
    assert_string_equal(json_string_value(json_object_get(j, "dir")), "rx");
    json_decref(j);
}

static void test_can_decoded(void **state)
{
    (void)state;
    /* CVL 55.2 V, CCL 50.0 A, DCL 100.0 A, DVL 46.4 V */
    const uint8_t lim[] = { 0x28, 0x02, 0xF4, 0x01, 0xE8, 0x03, 0xD0, 0x01 };
    struct bus_msg m = bytes_msg(BUS_CAN, BUS_DIR_TX, -1, 0x351, lim, sizeof(lim));
    json_t *j = ws_stream_json(&m, can_protocols[0]);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "0x351");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "limits");
    assert_int_equal(json_integer_value(json_object_get(j, "dlc")), 8);
    assert_string_equal(json_string_value(json_object_get(j, "hex")), "2802f401e803d001");
    json_t *d = json_object_get(j, "decoded");
    assert_float_equal(json_number_value(json_object_get(d, "cvl_v")), 55.2, 1e-9);
    assert_float_equal(json_number_value(json_object_get(d, "ccl_a")), 50.0, 1e-9);
    assert_float_equal(json_number_value(json_object_get(d, "dcl_a")), 100.0, 1e-9);
    assert_float_equal(json_number_value(json_object_get(d, "dvl_v")), 46.4, 1e-9);
    json_decref(j);
    /* an ID outside the table: raw only */
    m.can_id = 0x123;
    j = ws_stream_json(&m, can_protocols[0]);
    assert_true(json_is_null(json_object_get(j, "name")));
    assert_true(json_is_null(json_object_get(j, "decoded")));
    json_decref(j);
    /* without a CAN protocol (none configured): raw only, even for an ID a protocol knows */
    m.can_id = 0x351;
    j = ws_stream_json(&m, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "hex")), "2802f401e803d001");
    assert_true(json_is_null(json_object_get(j, "name")));
    assert_true(json_is_null(json_object_get(j, "decoded")));
    json_decref(j);
}

static void test_text_topics(void **state)
{
    (void)state;
    struct bus_msg m = { .topic = BUS_EVENT, .t_ms = 42 };
    struct bmsgw_event ev = { .type = BMSGW_EV_LINK_DOWN, .string = 0 };
    m.len = (uint16_t)sizeof(ev);
    memcpy(m.data, &ev, m.len);
    json_t *j = ws_stream_json(&m, can_protocols[0]);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "link_down");
    assert_int_equal(json_integer_value(json_object_get(j, "t_ms")), 42);
    assert_int_equal(json_integer_value(json_object_get(j, "string")), 1);
    json_decref(j);
    struct alert_change al = { .kind = ALERT_RAISED };
    m.topic = BUS_ALERT;
    m.len = (uint16_t)sizeof(al);
    memcpy(m.data, &al, m.len);
    j = ws_stream_json(&m, can_protocols[0]);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "raised");
    assert_int_equal(json_integer_value(json_object_get(j, "t_ms")), 42); /* the bus's stamp */
    json_decref(j);
    /* nothing a stream could send: an unknown event type, a payload of the wrong size */
    m.topic = BUS_EVENT;
    ev.type = BMSGW_EV_COUNT;
    memcpy(m.data, &ev, sizeof(ev));
    assert_null(ws_stream_json(&m, can_protocols[0]));
    ev.type = BMSGW_EV_NONE;
    memcpy(m.data, &ev, sizeof(ev));
    assert_null(ws_stream_json(&m, can_protocols[0]));
    const unsigned lens[] = { 0, 3, (unsigned)sizeof(ev) - 1 };
    for (unsigned i = 0; i < 3; i++) {
        m.len = (uint16_t)lens[i];
        m.topic = i % 2 ? BUS_ALERT : BUS_EVENT;
        assert_null(ws_stream_json(&m, can_protocols[0]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uart),
        cmocka_unit_test(test_can_decoded),
        cmocka_unit_test(test_text_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
