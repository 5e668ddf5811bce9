/* SPDX-License-Identifier: MIT */
/* test-event.c — typed bus events: the JSON encoder (byte for byte what /ws/events sent when
 * events were JSON text), truncation, taking events off bus messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bmsgw/bus.h"
#include "bmsgw/event.h"

#define FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

static char *dump(json_t *j)
{
    char *text = j ? json_dumps(j, FLAGS) : NULL;
    json_decref(j);
    return text;
}

/* What /ws/events made of the JSON text a producer used to publish (the old ws_stream.c). */
static char *legacy_wire(json_t *published, int64_t t_ms)
{
    char *text = json_dumps(published, JSON_COMPACT);
    json_decref(published);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    if (!json_object_get(j, "t_ms"))
        json_object_set_new(j, "t_ms", json_integer(t_ms));
    if (json_is_integer(json_object_get(j, "string")))
        json_object_set_new(j, "string",
                            json_integer(json_integer_value(json_object_get(j, "string")) + 1));
    return dump(j);
}

static void check(const struct bmsgw_event *e, json_t *legacy, const char *golden)
{
    char *now = dump(bmsgw_event_to_json(e, 1, 1700000000123LL));
    char *old = legacy_wire(legacy, 1700000000123LL);
    assert_non_null(now);
    assert_string_equal(now, golden);
    assert_string_equal(now, old);
    free(now);
    free(old);
}

static void test_wire_compatible(void **state)
{
    (void)state;
    struct bmsgw_event e = { .type = BMSGW_EV_LINK_UP, .string = 0 };
    bmsgw_event_set_text(e.link.name, sizeof(e.link.name), "house");
    bmsgw_event_set_text(e.link.detail, sizeof(e.link.detail), "/dev/ttyUSB0");
    check(&e,
          json_pack("{s:s,s:i,s:s,s:s}", "type", "link_up", "string", 0, "name", "house", "detail",
                    "/dev/ttyUSB0"),
          "{\"type\":\"link_up\",\"string\":1,\"name\":\"house\",\"detail\":\"/dev/ttyUSB0\","
          "\"t_ms\":1700000000123}");

    e = (struct bmsgw_event){ .type = BMSGW_EV_STRING_OFFLINE, .string = 2 };
    bmsgw_event_set_text(e.link.name, sizeof(e.link.name), "b");
    bmsgw_event_set_text(e.link.detail, sizeof(e.link.detail), "no \"sample\" for 3 s");
    check(&e,
          json_pack("{s:s,s:i,s:s,s:s}", "type", "string_offline", "string", 2, "name", "b",
                    "detail", "no \"sample\" for 3 s"),
          "{\"type\":\"string_offline\",\"string\":3,\"name\":\"b\",\"detail\":\"no "
          "\\\"sample\\\" for 3 s\",\"t_ms\":1700000000123}");

    e = (struct bmsgw_event){ .type = BMSGW_EV_BMS_EVENT, .string = 1 };
    e.bms.id = 0x03;
    e.bms.timestamp_s = 4000000000u;
    bmsgw_event_set_text(e.bms.name, sizeof(e.bms.name), "Over-voltage cutoff");
    bmsgw_event_set_text(e.bms.severity, sizeof(e.bms.severity), "fault");
    check(&e,
          json_pack("{s:s,s:i,s:i,s:s,s:s,s:I}", "type", "bms_event", "string", 1, "id", 3, "name",
                    "Over-voltage cutoff", "severity", "fault", "timestamp_s",
                    (json_int_t)4000000000u),
          "{\"type\":\"bms_event\",\"string\":2,\"id\":3,\"name\":\"Over-voltage cutoff\","
          "\"severity\":\"fault\",\"timestamp_s\":4000000000,\"t_ms\":1700000000123}");

    e = (struct bmsgw_event){ .type = BMSGW_EV_CAN_STATE, .string = -1 };
    bmsgw_event_set_text(e.can.interface, sizeof(e.can.interface), "can0");
    e.can.link = BMSGW_LINK_DEGRADED;
    e.can.bus = BMSGW_CAN_BUS_OFF;
    e.can.sending = true;
    bmsgw_event_set_text(e.can.detail, sizeof(e.can.detail), "bus-off");
    check(&e,
          json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "type", "can_state", "interface", "can0", "link",
                    bmsgw_link_state_name(BMSGW_LINK_DEGRADED), "bus",
                    bmsgw_can_bus_state_name(BMSGW_CAN_BUS_OFF), "sending", 1, "detail", "bus-off"),
          "{\"type\":\"can_state\",\"interface\":\"can0\",\"link\":\"degraded\",\"bus\":"
          "\"bus-off\",\"sending\":true,\"detail\":\"bus-off\",\"t_ms\":1700000000123}");

    e = (struct bmsgw_event){ .type = BMSGW_EV_CONFIG_CHANGED, .string = -1 };
    bmsgw_event_set_text(e.config.detail, sizeof(e.config.detail), "reloaded (SIGHUP)");
    check(&e, json_pack("{s:s,s:s}", "type", "config_changed", "detail", "reloaded (SIGHUP)"),
          "{\"type\":\"config_changed\",\"detail\":\"reloaded (SIGHUP)\",\"t_ms\":1700000000123}");
    bmsgw_event_set_text(e.config.source, sizeof(e.config.source), "api");
    check(&e,
          json_pack("{s:s,s:s,s:s}", "type", "config_changed", "source", "api", "detail",
                    "reloaded (SIGHUP)"),
          "{\"type\":\"config_changed\",\"source\":\"api\",\"detail\":\"reloaded (SIGHUP)\","
          "\"t_ms\":1700000000123}");

    e = (struct bmsgw_event){ .type = BMSGW_EV_BMS_RESET, .string = 0 };
    bmsgw_event_set_text(e.text.detail, sizeof(e.text.detail), "requested through the API");
    check(&e,
          json_pack("{s:s,s:i,s:s}", "type", "bms_reset", "string", 0, "detail",
                    "requested through the API"),
          "{\"type\":\"bms_reset\",\"string\":1,\"detail\":\"requested through the API\","
          "\"t_ms\":1700000000123}");

    e = (struct bmsgw_event){ .type = BMSGW_EV_RESTART, .string = -1 };
    bmsgw_event_set_text(e.text.target, sizeof(e.text.target), "gateway");
    bmsgw_event_set_text(e.text.detail, sizeof(e.text.detail), "requested through the API");
    check(&e,
          json_pack("{s:s,s:s,s:s}", "type", "restart", "target", "gateway", "detail",
                    "requested through the API"),
          "{\"type\":\"restart\",\"target\":\"gateway\",\"detail\":\"requested through the API\","
          "\"t_ms\":1700000000123}");
}

static void test_bus_form_and_unknown(void **state)
{
    (void)state;
    struct bmsgw_event e = { .type = BMSGW_EV_BMS_RESET, .string = 0 };
    char *text = dump(bmsgw_event_to_json(&e, 0, 0)); /* 0-based, no t_ms: a harness's form */
    assert_string_equal(text, "{\"type\":\"bms_reset\",\"string\":0,\"detail\":\"\"}");
    free(text);
    e.type = BMSGW_EV_NONE;
    assert_null(bmsgw_event_to_json(&e, 1, 5));
    e.type = BMSGW_EV_COUNT;
    assert_null(bmsgw_event_to_json(&e, 1, 5));
    assert_null(bmsgw_event_type_name(BMSGW_EV_COUNT));
    assert_string_equal(bmsgw_event_type_name(BMSGW_EV_STRING_ONLINE), "string_online");
}

static void test_set_text_truncates(void **state)
{
    (void)state;
    char f[6];
    bmsgw_event_set_text(f, sizeof(f), "abcdefgh");
    assert_string_equal(f, "abcde");
    bmsgw_event_set_text(f, sizeof(f), NULL);
    assert_string_equal(f, "");
    bmsgw_event_set_text(f, sizeof(f), "abcd\xC3\xA9x"); /* é would be cut in half */
    assert_string_equal(f, "abcd");
    bmsgw_event_set_text(f, sizeof(f), "ab\xC3\xA9x");
    assert_string_equal(f, "ab\xC3\xA9x");
    /* a whole field of a long text still encodes (valid UTF-8) */
    struct bmsgw_event e = { .type = BMSGW_EV_LINK_DOWN, .string = 0 };
    char big[1000];
    for (unsigned i = 0; i < sizeof(big) - 1; i++)
        big[i] = i % 3 == 2 ? '\xA9' : i % 3 == 1 ? '\xC3' : 'x';
    big[sizeof(big) - 1] = '\0';
    bmsgw_event_set_text(e.link.detail, sizeof(e.link.detail), big);
    json_t *j = bmsgw_event_to_json(&e, 1, 0);
    assert_non_null(json_object_get(j, "detail"));
    json_decref(j);
}

static void test_through_the_bus(void **state)
{
    (void)state;
    struct bus *b = bus_new();
    struct bus_sub *s = bus_subscribe(b, BUS_EVENT | BUS_UART, 4, NULL, NULL);
    struct bmsgw_event e = { .type = BMSGW_EV_STRING_ONLINE, .string = 3 }, got;
    bmsgw_event_set_text(e.link.name, sizeof(e.link.name), "cabin");
    bmsgw_event_publish(b, &e);
    bus_publish_bytes(b, BUS_UART, BUS_DIR_TX, 3, 0, "\xAA\x03", 2);
    struct bus_msg m;
    assert_true(bus_pop(s, &m));
    assert_int_equal(m.source, 3);
    assert_true(bmsgw_event_from_msg(&m, &got));
    assert_int_equal(got.type, BMSGW_EV_STRING_ONLINE);
    assert_int_equal(got.string, 3);
    assert_string_equal(got.link.name, "cabin");
    assert_true(bus_pop(s, &m));
    assert_false(bmsgw_event_from_msg(&m, &got)); /* not an event */
    bus_unsubscribe(b, s);
    bus_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_compatible),
        cmocka_unit_test(test_bus_form_and_unknown),
        cmocka_unit_test(test_set_text_truncates),
        cmocka_unit_test(test_through_the_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
