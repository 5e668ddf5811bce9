/* SPDX-License-Identifier: MIT */
/* test-mqtt-cmd.c — the command payload parser: what is taken, what is refused and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bmsgw/mqtt.h"

struct good_case {
    const char *name, *payload;
    enum mqtt_cmd_kind kind;
    double value_a;
    int ttl_s;
};

static void test_accepted(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        { "charge_limit_a", "{\"value\": 20, \"ttl_s\": 30}", MQTT_CMD_CHARGE_LIMIT, 20, 30 },
        { "charge_limit_a", "{\"value\": 0}", MQTT_CMD_CHARGE_LIMIT, 0, 60 },
        { "discharge_limit_a", "{\"ttl_s\": 600, \"value\": 12.5}", MQTT_CMD_DISCHARGE_LIMIT, 12.5,
          600 },
        { "ack_alerts", "{}", MQTT_CMD_ACK_ALERTS, 0, 0 },
        { "ack_alerts", " { } ", MQTT_CMD_ACK_ALERTS, 0, 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mqtt_cmd c;
        char why[200] = "";
        const struct good_case *g = &cases[i];
        int rc =
            mqtt_cmd_parse(g->name, g->payload, strlen(g->payload), 3600, &c, why, sizeof(why));
        if (rc != 0)
            fail_msg("%s %s: refused: %s", g->name, g->payload, why);
        assert_int_equal(c.kind, g->kind);
        assert_true(fabs(c.value_a - g->value_a) < 1e-9);
        assert_int_equal(c.ttl_s, g->ttl_s);
    }
}

struct bad_case {
    const char *name, *payload;
    const char *why;
};

static void test_refused_with_reason(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { "reboot", "{}", "unknown command" },
        { "", "{}", "unknown command" },
        { NULL, "{}", "unknown command" },
        { "result", "{}", "unknown command" },
        { "charge_limit_a", "", "malformed JSON" },
        { "charge_limit_a", "{\"value\": 10", "malformed JSON" },
        { "charge_limit_a", "[10]", "must be a JSON object" },
        { "charge_limit_a", "{}", "value (A) is required" },
        { "charge_limit_a", "{\"value\": \"10\"}", "must be a number" },
        { "charge_limit_a", "{\"value\": -0.1}", "0..100000 A" },
        { "charge_limit_a", "{\"value\": 1e9}", "0..100000 A" },
        { "charge_limit_a", "{\"value\": 5, \"ttl_s\": 0}", "ttl_s must be 1..3600" },
        { "charge_limit_a", "{\"value\": 5, \"ttl_s\": 3601}", "ttl_s must be 1..3600" },
        { "charge_limit_a", "{\"value\": 5, \"ttl_s\": 2.5}", "whole number" },
        { "charge_limit_a", "{\"value\": 5, \"force\": true}", "unknown member \"force\"" },
        { "charge_limit_a", "{\"value\": 5, \"value\": 1}", "malformed JSON" },
        { "ack_alerts", "{\"id\": 3}", "takes no members" },
        { "ack_alerts", "null", "malformed JSON" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mqtt_cmd c;
        char why[200] = "";
        const struct bad_case *b = &cases[i];
        int rc =
            mqtt_cmd_parse(b->name, b->payload, strlen(b->payload), 3600, &c, why, sizeof(why));
        assert_int_equal(rc, -EINVAL);
        if (!strstr(why, b->why))
            fail_msg("%s %s: \"%s\" lacks \"%s\"", b->name ? b->name : "(null)", b->payload, why,
                     b->why);
    }
}

/* The payload is not NUL-terminated; a NUL inside or an oversized one is refused. */
static void test_raw_bytes(void **state)
{
    (void)state;
    struct mqtt_cmd c;
    char why[200];
    const char buf[] = "{\"value\": 7}XXXX";
    assert_int_equal(mqtt_cmd_parse("charge_limit_a", buf, 12, 60, &c, why, sizeof(why)), 0);
    assert_int_equal(c.ttl_s, 60);
    const char nul[] = "{\"value\": 7\0}";
    assert_int_equal(
        mqtt_cmd_parse("charge_limit_a", nul, sizeof(nul) - 1, 60, &c, why, sizeof(why)), -EINVAL);
    static char big[MQTT_CMD_PAYLOAD_MAX + 2];
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    assert_int_equal(mqtt_cmd_parse("ack_alerts", big, sizeof(big), 60, &c, why, sizeof(why)),
                     -EINVAL);
    assert_non_null(strstr(why, "longer than"));
    assert_int_equal(mqtt_cmd_parse("ack_alerts", NULL, 0, 60, &c, why, sizeof(why)), -EINVAL);
    /* jansson's reason quotes the bytes it stopped at; what goes out on cmd/result is JSON */
    const char bad[] = "{\"value\": \"\\\xde\xa3\xdd\x82";
    assert_int_equal(
        mqtt_cmd_parse("charge_limit_a", bad, sizeof(bad) - 1, 60, &c, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "malformed JSON"));
    json_t *reason = json_string(why);
    assert_non_null(reason);
    json_decref(reason);
}

/* The default lifetime never exceeds the configured maximum. */
static void test_default_ttl_within_max(void **state)
{
    (void)state;
    struct mqtt_cmd c;
    char why[200];
    assert_int_equal(
        mqtt_cmd_parse("discharge_limit_a", "{\"value\": 1}", 12, 30, &c, why, sizeof(why)), 0);
    assert_int_equal(c.ttl_s, 30);
    assert_string_equal(mqtt_cmd_name(MQTT_CMD_DISCHARGE_LIMIT), "discharge_limit_a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused_with_reason),
        cmocka_unit_test(test_raw_bytes),
        cmocka_unit_test(test_default_ttl_within_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
