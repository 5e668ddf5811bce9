/* SPDX-License-Identifier: MIT */
/* test-config-mqtt.c — the mqtt group: defaults, what a reload applies, errors naming the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/config_json.h"
#include "bmsgw/config_schema.h"

static struct bmsgw_config *cfg_alloc(void)
{
    struct bmsgw_config *c = malloc(sizeof(*c));
    assert_non_null(c);
    return c;
}

static void test_defaults(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    config_defaults(c);
    assert_false(c->mqtt.enabled);
    assert_string_equal(c->mqtt.host, "localhost");
    assert_int_equal(c->mqtt.port, 0);
    assert_string_equal(c->mqtt.gateway_id, "");
    assert_int_equal(c->mqtt.keepalive_s, 30);
    assert_int_equal(c->mqtt.state_interval_ms, 5000);
    assert_true(c->mqtt.ha_discovery);
    assert_string_equal(c->mqtt.ha_prefix, "homeassistant");
    assert_true(c->mqtt.ha_cells);
    assert_false(c->mqtt.commands);
    assert_int_equal(c->mqtt.command_max_ttl_s, 3600);
    assert_false(c->mqtt.tls.enabled);
    assert_true(c->mqtt.tls.verify);
    free(c);
}

struct bad_case {
    const char *text;
    const char *key;
    const char *msg;
};

static void test_errors_name_key(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { "mqtt = { gateway_id = \"Boat 1\"; };", "mqtt.gateway_id", "a-z, 0-9, _ and -" },
        { "mqtt = { topic_prefix = \"fleet/#\"; };", "mqtt.topic_prefix", "wildcards" },
        { "mqtt = { topic_prefix = \"fleet/\"; };", "mqtt.topic_prefix", "end with /" },
        { "mqtt = { ha_prefix = \"+\"; };", "mqtt.ha_prefix", "wildcards" },
        { "mqtt = { state_interval_ms = 999; };", "mqtt.state_interval_ms", "1000..3600000" },
        { "mqtt = { port = 70000; };", "mqtt.port", "0..65535" },
        { "mqtt = { keepalive_s = 1; };", "mqtt.keepalive_s", "5..3600" },
        { "mqtt = { command_max_ttl_s = 0; };", "mqtt.command_max_ttl_s", "1..86400" },
        { "mqtt = { tls = { cert_file = \"/c.pem\"; }; };", "mqtt.tls.key_file", "cert_file" },
        { "mqtt = { password_file = \"/p\"; };", "mqtt.username", "password_file" },
        { "mqtt = { tls = { verify = 1; }; };", "mqtt.tls.verify", "true or false" },
        { "mqtt = { colour = 1; };", "mqtt.colour", "unknown" },
    };
    struct bmsgw_config *c = cfg_alloc();
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg_error e;
        assert_int_equal(config_load_string(c, cases[i].text, "t", &e), -EINVAL);
        assert_string_equal(e.key, cases[i].key);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].text, e.msg, cases[i].msg);
    }
    free(c);
}

static void test_valid_group(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    int rc = config_load_string(c,
                                "mqtt = { enabled = true; host = \"10.0.0.2\"; port = 8883;"
                                " gateway_id = \"boat-7\"; topic_prefix = \"fleet/boat-7\";"
                                " username = \"gw\"; password_file = \"/etc/bmsgw/mqtt.pw\";"
                                " tls = { enabled = true; ca_file = \"/etc/ca.pem\"; };"
                                " commands = true; };",
                                "t", &e);
    assert_int_equal(rc, 0);
    assert_true(c->mqtt.enabled);
    assert_int_equal(c->mqtt.port, 8883);
    assert_string_equal(c->mqtt.topic_prefix, "fleet/boat-7");
    assert_true(c->mqtt.tls.enabled);
    assert_string_equal(c->mqtt.tls.ca_file, "/etc/ca.pem");
    free(c);
}

/* Reload applies everything but enabled. */
static void test_only_enabled_needs_restart(void **state)
{
    (void)state;
    struct bmsgw_config *a = cfg_alloc(), *b = cfg_alloc();
    char buf[256];
    config_defaults(a);
    *b = *a;
    b->mqtt.port = 1884;
    b->mqtt.state_interval_ms = 2000;
    b->mqtt.tls.verify = false;
    snprintf(b->mqtt.host, sizeof(b->mqtt.host), "broker");
    assert_int_equal(config_restart_keys(a, b, buf, sizeof(buf)), 0);
    b->mqtt.enabled = true;
    assert_int_equal(config_restart_keys(a, b, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "mqtt.enabled");
    free(a);
    free(b);
}

/* The password file is set in the file only; the API refuses it. */
static void test_password_file_file_only(void **state)
{
    (void)state;
    const struct cfg_key *k = cfg_schema_find("mqtt.password_file");
    assert_non_null(k);
    assert_true(k->flags & CFG_F_FILE_ONLY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors_name_key),
        cmocka_unit_test(test_valid_group),
        cmocka_unit_test(test_only_enabled_needs_restart),
        cmocka_unit_test(test_password_file_file_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
