/* SPDX-License-Identifier: MIT */
/* test-mqtt-docs.c — ids and topics, state pacing, string documents, discovery documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bmsgw/mqtt.h"

static void test_ids_defaults(void **state)
{
    (void)state;
    struct bmsgw_config cfg;
    struct mqtt_ids ids;
    config_defaults(&cfg);
    mqtt_ids_resolve(&cfg.mqtt, "Boat.Seven_1", &ids);
    assert_string_equal(ids.gateway_id, "boat-seven_1");
    assert_string_equal(ids.client_id, "bmsgw-boat-seven_1");
    assert_string_equal(ids.prefix, "bmsgw/boat-seven_1");
    assert_string_equal(ids.ha_prefix, "homeassistant");
    mqtt_ids_resolve(&cfg.mqtt, "", &ids);
    assert_string_equal(ids.gateway_id, "bmsgw");
    strcpy(cfg.mqtt.gateway_id, "gw2");
    strcpy(cfg.mqtt.topic_prefix, "fleet/two");
    strcpy(cfg.mqtt.client_id, "c2");
    mqtt_ids_resolve(&cfg.mqtt, "ignored", &ids);
    assert_string_equal(ids.gateway_id, "gw2");
    assert_string_equal(ids.client_id, "c2");
    char t[MQTT_TOPIC_MAX];
    mqtt_topic(&ids, "string/1/state", t, sizeof(t));
    assert_string_equal(t, "fleet/two/string/1/state");
    assert_int_equal(mqtt_port(&cfg.mqtt), 1883);
    cfg.mqtt.tls.enabled = true;
    assert_int_equal(mqtt_port(&cfg.mqtt), 8883);
    cfg.mqtt.port = 1234;
    assert_int_equal(mqtt_port(&cfg.mqtt), 1234);
}

static void test_string_topic_no(void **state)
{
    (void)state;
    struct bmsgw_config cfg;
    struct mqtt_ids ids;
    config_defaults(&cfg);
    strcpy(cfg.mqtt.topic_prefix, "fleet/two");
    mqtt_ids_resolve(&cfg.mqtt, "gw", &ids);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string/1/state"), 1);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string/12/availability"), 12);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string/3/cells"), 0);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string//state"), 0);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string/01/state"), 0);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string/0/state"), 0);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/other/string/1/state"), 0);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/state"), 0);
    assert_int_equal(mqtt_string_topic_no(&ids, "fleet/two/string/1/state/x"), 0);
}

static void test_state_pacing(void **state)
{
    (void)state;
    assert_true(mqtt_state_due(1000, 0, 5000, MQTT_CHANGE_NONE, false)); /* the first */
    assert_false(mqtt_state_due(5000, 1000, 4950, MQTT_CHANGE_NONE, true));
    assert_true(mqtt_state_due(5950, 1000, 4950, MQTT_CHANGE_NONE, true));
    assert_false(mqtt_state_due(5950, 1000, 4950, MQTT_CHANGE_NONE, false));
    assert_true(mqtt_state_due(6950, 1000, 4950, MQTT_CHANGE_NONE, false)); /* no new data */
    assert_true(mqtt_state_due(1001, 1000, 4950, MQTT_CHANGE_ALARM, true));
    assert_false(mqtt_state_due(1999, 1000, 4950, MQTT_CHANGE_LIMITS, true));
    assert_true(mqtt_state_due(2000, 1000, 4950, MQTT_CHANGE_LIMITS, true));
}

static void test_state_key(void **state)
{
    (void)state;
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    struct mqtt_state_key a, b;
    sys->limits.valid = true;
    sys->limits.ccl_a = 20.3;
    sys->limits.cvl_v = 55.2;
    mqtt_state_key(sys, &a);
    sys->limits.ccl_a = 20.9; /* the same whole ampere */
    mqtt_state_key(sys, &b);
    assert_int_equal(mqtt_state_key_diff(&a, &b), MQTT_CHANGE_NONE);
    sys->limits.ccl_a = 21.0;
    mqtt_state_key(sys, &b);
    assert_int_equal(mqtt_state_key_diff(&a, &b), MQTT_CHANGE_LIMITS);
    sys->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level = BMSGW_LEVEL_WARNING;
    mqtt_state_key(sys, &b);
    assert_int_equal(mqtt_state_key_diff(&a, &b), MQTT_CHANGE_ALARM);
    free(sys);
}

static void test_string_state_share(void **state)
{
    (void)state;
    json_t *status = json_loads(
        "{\"system\":{\"strings_online\":2},\"limits\":{\"valid\":true,\"ccl_a\":50,\"dcl_a\":"
        "101},\"strings\":[{\"string\":1,\"stale\":false},{\"string\":2,\"stale\":true}]}",
        0, NULL);
    assert_non_null(status);
    json_t *s1 = mqtt_string_state(status, 0), *s2 = mqtt_string_state(status, 1);
    json_t *share = json_object_get(s1, "limits_share");
    assert_true(json_real_value(json_object_get(share, "ccl_a")) == 25.0);
    assert_true(json_real_value(json_object_get(share, "dcl_a")) == 50.5);
    assert_true(json_is_null(json_object_get(json_object_get(s2, "limits_share"), "ccl_a")));
    assert_null(mqtt_string_state(status, 2));
    json_decref(s1);
    json_decref(s2);
    json_decref(status);
}

struct collected {
    unsigned n;
    char *topics[512];
    json_t *docs[512];
};

static void collect(const char *topic, const char *payload, void *ctx)
{
    struct collected *c = ctx;
    assert_true(c->n < 512);
    c->topics[c->n] = strdup(topic);
    c->docs[c->n] = json_loads(payload, 0, NULL);
    assert_non_null(c->docs[c->n]);
    c->n++;
}

static void collected_free(struct collected *c)
{
    for (unsigned i = 0; i < c->n; i++) {
        free(c->topics[i]);
        json_decref(c->docs[i]);
    }
    c->n = 0;
}

static struct mqtt_ha_ctx ha_ctx(const struct mqtt_ids *ids, unsigned strings)
{
    static const char *const names[] = { "house", "garage" };
    static const unsigned cells[] = { 16, 4 }, sensors[] = { 2, 1 };
    return (struct mqtt_ha_ctx){ .ids = ids,
                                 .sw_version = "0.1.0",
                                 .expire_after_s = mqtt_ha_expire_after_s(5000),
                                 .cells = true,
                                 .commands = true,
                                 .string_count = strings,
                                 .names = names,
                                 .cell_counts = cells,
                                 .sensor_counts = sensors,
                                 .max_charge_a = 50,
                                 .max_discharge_a = 100 };
}

/* Every document has a unique unique_id, availability of the gateway (and the string), a
 * device, and entities of string 2 carry its availability. */
static void test_discovery_documents(void **state)
{
    (void)state;
    struct bmsgw_config cfg;
    struct mqtt_ids ids;
    config_defaults(&cfg);
    mqtt_ids_resolve(&cfg.mqtt, "gw1", &ids);
    struct mqtt_ha_ctx c = ha_ctx(&ids, 2);
    static struct collected col;
    unsigned n = mqtt_ha_documents(&c, collect, &col);
    assert_int_equal(n, col.n);
    assert_true(n > 24 + 13 + 3 + 2 * 16 + 16 + 4);
    for (unsigned i = 0; i < n; i++) {
        json_t *d = col.docs[i];
        const char *uid = json_string_value(json_object_get(d, "unique_id"));
        assert_non_null(uid);
        assert_int_equal(strncmp(uid, "bmsgw_gw1_", 10), 0);
        for (unsigned k = 0; k < i; k++)
            assert_string_not_equal(uid,
                                    json_string_value(json_object_get(col.docs[k], "unique_id")));
        assert_string_equal(json_string_value(json_object_get(d, "availability_mode")), "all");
        json_t *av = json_object_get(d, "availability");
        assert_string_equal(json_string_value(json_object_get(json_array_get(av, 0), "topic")),
                            "bmsgw/gw1/status");
        bool in_string2 = strstr(col.topics[i], "/s2_") != NULL;
        assert_int_equal(json_array_size(av), strstr(col.topics[i], "/s1_") || in_string2 ? 2 : 1);
        if (in_string2)
            assert_string_equal(json_string_value(json_object_get(json_array_get(av, 1), "topic")),
                                "bmsgw/gw1/string/2/availability");
        assert_non_null(json_object_get(json_object_get(d, "device"), "identifiers"));
        assert_true(json_object_get(d, "command_topic") ||
                    json_integer_value(json_object_get(d, "expire_after")) == 30);
    }
    /* removal: what was announced is current; another string, cell or gateway is not ours */
    const char *const *cur = (const char *const *)col.topics;
    assert_false(mqtt_ha_is_obsolete(&ids, col.topics[0], cur, col.n));
    assert_true(mqtt_ha_is_obsolete(&ids, "homeassistant/sensor/gw1/s3_soc/config", cur, col.n));
    assert_true(mqtt_ha_is_obsolete(&ids, "homeassistant/sensor/gw1/s2_cell5/config", cur, col.n));
    assert_false(mqtt_ha_is_obsolete(&ids, "homeassistant/sensor/gw10/s3_soc/config", cur, col.n));
    assert_false(mqtt_ha_is_obsolete(&ids, "homeassistant/sensor/gw1/s3_soc/state", cur, col.n));
    assert_false(mqtt_ha_is_obsolete(&ids, "homeassistant/status", cur, col.n));
    collected_free(&col);
}

static void test_expire_after(void **state)
{
    (void)state;
    assert_int_equal(mqtt_ha_expire_after_s(1000), 30);
    assert_int_equal(mqtt_ha_expire_after_s(5000), 30);
    assert_int_equal(mqtt_ha_expire_after_s(60000), 180);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_defaults),       cmocka_unit_test(test_string_topic_no),
        cmocka_unit_test(test_state_pacing),       cmocka_unit_test(test_state_key),
        cmocka_unit_test(test_string_state_share), cmocka_unit_test(test_discovery_documents),
        cmocka_unit_test(test_expire_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
