/* SPDX-License-Identifier: MIT */
/* test-config-json.c — the configuration through the API: JSON in/out, overlay persistence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/config_json.h"

static struct bmsgw_config *cfg_alloc(void)
{
    struct bmsgw_config *c = malloc(sizeof(*c));
    assert_non_null(c);
    config_defaults(c);
    return c;
}

static int apply(struct bmsgw_config *c, const char *json, struct cfg_error *e)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    assert_non_null(j);
    int rc = config_apply_json(c, j, e);
    json_decref(j);
    return rc;
}

static void test_to_json_shape(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    json_t *j = config_to_json(c);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "bms"), "poll_interval_ms")), 250);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "can"), "on_stale")),
                        "silence");
    json_t *ports = json_object_get(json_object_get(j, "bms"), "ports");
    assert_int_equal(json_array_size(ports), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ports, 0), "device")),
                        "/dev/ttyUSB0");
    json_t *maps = json_object_get(json_object_get(j, "modbus_tcp"), "maps");
    assert_string_equal(json_string_value(json_object_get(json_array_get(maps, 1), "map")),
                        "tescom");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "limits"), "ccl_cell_mv")),
                     5);
    json_decref(j);
    free(c);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    struct bmsgw_config *a = cfg_alloc(), *b = cfg_alloc();
    struct cfg_error e;
    a->bms.poll_interval_ms = 400;
    a->limits.max_charge_current_a = 42.5;
    json_t *j = config_to_json(a);
    json_object_del(j, "state_dir"); /* file-only keys are refused from the API */
    json_object_del(json_object_get(j, "http"), "api_token_file");
    json_object_del(json_object_get(j, "mqtt"), "password_file");
    assert_int_equal(config_apply_json(b, j, &e), 0);
    a->limits.preset_explicit = b->limits.preset_explicit;
    assert_memory_equal(a, b, sizeof(*a));
    json_decref(j);
    free(a);
    free(b);
}

static void test_json_field_errors(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(apply(c, "{\"bms\":{\"poll_interval_ms\":\"fast\"}}", &e), -EINVAL);
    assert_string_equal(e.key, "bms.poll_interval_ms");
    assert_string_equal(e.msg, "must be an integer ms, 100..5000");
    assert_int_equal(apply(c, "{\"bms\":{\"poll_interval_ms\":99}}", &e), -EINVAL);
    assert_string_equal(e.msg, "must be 100..5000 ms (got 99)");
    assert_int_equal(apply(c, "{\"bms\":{\"speed\":1}}", &e), -EINVAL);
    assert_string_equal(e.key, "bms.speed");
    assert_int_equal(
        apply(c, "{\"bms\":{\"ports\":[{\"device\":\"/dev/x\",\"rts\":\"left\"}]}}", &e), -EINVAL);
    assert_string_equal(e.key, "bms.ports[0].rts");
    assert_int_equal(apply(c, "{\"state_dir\":\"/tmp\"}", &e), -EINVAL);
    assert_string_equal(e.msg, "can only be changed in the configuration file");
    assert_int_equal(apply(c, "{\"alarms\":{\"imbalance_warning_mv\":100}}", &e), -EINVAL);
    assert_string_equal(e.key, "alarms.imbalance_warning_mv"); /* cross-key check */
    assert_int_equal(apply(c, "[1,2]", &e), -EINVAL);
    assert_int_equal(apply(c, "{\"can\":{\"enabled\":1}}", &e), -EINVAL);
    assert_string_equal(e.msg, "must be true or false");
    free(c);
}

static void test_json_nulls_skipped(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(apply(c, "{\"bms\":{\"poll_interval_ms\":null,\"timeout_ms\":150}}", &e), 0);
    assert_int_equal(c->bms.poll_interval_ms, 250);
    assert_int_equal(c->bms.timeout_ms, 150);
    free(c);
}

static void test_merge(void **state)
{
    (void)state;
    json_t *t = json_loads("{\"bms\":{\"a\":1,\"b\":2},\"x\":[1,2]}", 0, NULL);
    json_t *p = json_loads("{\"bms\":{\"b\":null,\"c\":3},\"x\":[3]}", 0, NULL);
    config_json_merge(t, p);
    char *s = json_dumps(t, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"bms\":{\"a\":1,\"c\":3},\"x\":[3]}");
    free(s);
    json_decref(t);
    json_decref(p);
}

struct tmpdir {
    char dir[64];
    char base[128];
    char overlay[128];
};

static void tmp_setup(struct tmpdir *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/bmsgw-json-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->base, sizeof(t->base), "%s/bmsgw.conf", t->dir);
    snprintf(t->overlay, sizeof(t->overlay), "%s/runtime.conf", t->dir);
    FILE *f = fopen(t->base, "w");
    fprintf(f, "state_dir = \"%s\";\nhttp = { port = 8090; };\n", t->dir);
    fclose(f);
}

static void tmp_cleanup(struct tmpdir *t)
{
    unlink(t->overlay);
    unlink(t->base);
    assert_int_equal(rmdir(t->dir), 0); /* no temporary file left behind */
}

static void test_update_persists_overlay(void **state)
{
    (void)state;
    struct tmpdir t;
    struct bmsgw_config *cur = cfg_alloc(), *out = cfg_alloc(), *reloaded = cfg_alloc();
    struct cfg_error e;
    char keys[256];
    tmp_setup(&t);
    assert_int_equal(config_load(cur, t.base, NULL, &e), 0);

    json_t *p = json_loads("{\"bms\":{\"poll_interval_ms\":500},\"http\":{\"port\":9000},"
                           "\"limits\":{\"ccl_cell_factor\":[1,0.5,0.25,0.05,0]}}",
                           0, NULL);
    assert_int_equal(config_update(t.base, t.overlay, cur, p, out, keys, sizeof(keys), &e), 0);
    json_decref(p);
    assert_int_equal(out->bms.poll_interval_ms, 500);
    assert_string_equal(keys, "http.port");
    /* the overlay is a libconfig file the daemon reads at start */
    assert_int_equal(config_load(reloaded, t.base, NULL, &e), 0);
    assert_memory_equal(out, reloaded, sizeof(*out));
    assert_true(reloaded->limits.ccl_cell.f[1] == 0.5);

    /* null removes the key from the overlay: back to the file's value */
    p = json_loads("{\"http\":{\"port\":null}}", 0, NULL);
    assert_int_equal(config_update(t.base, t.overlay, out, p, reloaded, keys, sizeof(keys), &e), 0);
    json_decref(p);
    assert_int_equal(reloaded->http.port, 8090);
    assert_int_equal(reloaded->bms.poll_interval_ms, 500);
    tmp_cleanup(&t);
    free(cur);
    free(out);
    free(reloaded);
}

static void test_update_rejects_and_keeps_overlay(void **state)
{
    (void)state;
    struct tmpdir t;
    struct bmsgw_config *cur = cfg_alloc(), *out = cfg_alloc();
    struct cfg_error e;
    char keys[256], *before = NULL, *after = NULL;
    size_t n1 = 0, n2 = 0;
    tmp_setup(&t);
    assert_int_equal(config_load(cur, t.base, NULL, &e), 0);
    json_t *p = json_loads("{\"ws\":{\"max_clients\":8}}", 0, NULL);
    assert_int_equal(config_update(t.base, t.overlay, cur, p, out, keys, sizeof(keys), &e), 0);
    json_decref(p);
    FILE *f = fopen(t.overlay, "r");
    before = calloc(1, 4096);
    n1 = fread(before, 1, 4095, f);
    fclose(f);

    p = json_loads("{\"ws\":{\"port\":8090}}", 0, NULL); /* clashes with http.port */
    assert_int_equal(config_update(t.base, t.overlay, out, p, cur, keys, sizeof(keys), &e),
                     -EINVAL);
    json_decref(p);
    assert_string_equal(e.key, "ws.port");
    f = fopen(t.overlay, "r");
    after = calloc(1, 4096);
    n2 = fread(after, 1, 4095, f);
    fclose(f);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    free(before);
    free(after);
    tmp_cleanup(&t);
    free(cur);
    free(out);
}

static void test_overlay_string_escaping(void **state)
{
    (void)state;
    struct tmpdir t;
    struct bmsgw_config *cur = cfg_alloc(), *out = cfg_alloc();
    struct cfg_error e;
    char keys[64];
    tmp_setup(&t);
    assert_int_equal(config_load(cur, t.base, NULL, &e), 0);
    json_t *p = json_loads("{\"can\":{\"battery_name\":\"Van \\\"Lux\\\" \\\\1\"}}", 0, NULL);
    assert_int_equal(config_update(t.base, t.overlay, cur, p, out, keys, sizeof(keys), &e), 0);
    json_decref(p);
    assert_int_equal(config_load(cur, t.base, NULL, &e), 0);
    assert_string_equal(cur->can.battery_name, "Van \"Lux\" \\1");
    tmp_cleanup(&t);
    free(cur);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to_json_shape),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_field_errors),
        cmocka_unit_test(test_json_nulls_skipped),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_update_persists_overlay),
        cmocka_unit_test(test_update_rejects_and_keeps_overlay),
        cmocka_unit_test(test_overlay_string_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
