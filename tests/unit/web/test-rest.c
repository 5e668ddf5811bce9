/* SPDX-License-Identifier: MIT */
/* test-rest.c — the REST core without a server: routes, checks, errors, config changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bus.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_store.h"
#include "bmsgw/can_proto.h"
#include "bmsgw/control.h"
#include "bmsgw/persist.h"
#include "bmsgw/rest.h"
#include "bmsgw/service.h"
#include "bmsgw/snapshot.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

struct fixture {
    char dir[64];
    char conf[128];
    struct bmsgw_app app;
    struct service_registry services;
    struct rest_api *api;
    const char *query_name;
    const char *query_value;
    const char *client; /* NULL: 127.0.0.1 */
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    char text[512];
    snprintf(f->dir, sizeof(f->dir), "/tmp/bmsgw-rest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->conf, sizeof(f->conf), "%s/bmsgw.conf", f->dir);
    snprintf(text, sizeof(text),
             "state_dir = \"%s\";\nhttp = { rate_limit_per_min = 5; };\n"
             "bms = { ports = ( { name = \"a\"; device = \"/dev/null\"; } ); };\n",
             f->dir);
    write_file(f->conf, text);
    assert_int_equal(config_load(cfg, f->conf, "", &err), 0);
    f->app.config = config_store_new(cfg, f->conf);
    f->app.snap = snapshot_new();
    f->app.bus = bus_new();
    f->app.control = control_new();
    f->app.services = &f->services;
    f->app.exit_efd = -1;
    f->api = rest_api_new(&f->app, NULL);
    rest_api_set_token(f->api, TOKEN, NULL);
    free(cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[256];
    rest_api_free(f->api);
    control_free(f->app.control);
    bus_free(f->app.bus);
    snapshot_free(f->app.snap);
    config_store_free(f->app.config);
    const char *files[] = { "bmsgw.conf", "runtime.conf" };
    for (unsigned i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *query(void *cls, const char *name)
{
    struct fixture *f = cls;
    return f->query_name && strcmp(name, f->query_name) == 0 ? f->query_value : NULL;
}

/* One request through both steps; returns the status. */
static int call(struct fixture *f, const char *method, const char *path, const char *auth,
                const char *body, struct rest_response *rs)
{
    struct rest_request rq = {
        .method = rest_method_from_name(method),
        .path = path,
        .authorization = auth,
        .content_type = body ? "application/json" : NULL,
        .content_length = body ? (int64_t)strlen(body) : 0,
        .client = f->client ? f->client : "127.0.0.1",
        .query = query,
        .query_cls = f,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    memset(rs, 0, sizeof(*rs));
    const struct rest_route *r = rest_begin(f->api, &rq, 1000, rs);
    if (r)
        rest_finish(f->api, r, &rq, rs);
    return rs->status;
}

static const char *error_of(const struct rest_response *rs)
{
    return json_string_value(json_object_get(rs->json, "error"));
}

static void test_unknown_path_and_method(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(call(f, "GET", "/api/nope", NULL, NULL, &rs), 404);
    assert_non_null(strstr(error_of(&rs), "/api/nope"));
    rest_response_clear(&rs);
    assert_int_equal(call(f, "PUT", "/api/config", NULL, NULL, &rs), 405);
    assert_string_equal(rs.allow, "GET, HEAD, POST");
    rest_response_clear(&rs);
    assert_int_equal(call(f, "GET", "/api/system/restart", NULL, NULL, &rs), 405);
    assert_string_equal(rs.allow, "POST");
    rest_response_clear(&rs);
    assert_int_equal(call(f, "HEAD", "/api/status", NULL, NULL, &rs), 200);
    rest_response_clear(&rs);
}

static void test_bearer(void **state)
{
    (void)state;
    assert_int_equal(rest_check_bearer(NULL, TOKEN), 401);
    assert_int_equal(rest_check_bearer("Basic abc", TOKEN), 401);
    assert_int_equal(rest_check_bearer("Bearer ", TOKEN), 401);
    assert_int_equal(rest_check_bearer("Bearer " TOKEN "x", TOKEN), 403);
    assert_int_equal(rest_check_bearer("Bearer 0123", TOKEN), 403);
    assert_int_equal(rest_check_bearer("bearer " TOKEN, TOKEN), 0);
    assert_int_equal(rest_check_bearer("Bearer  " TOKEN, TOKEN), 0);
}

static void test_mutations_need_the_token(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(call(f, "POST", "/api/alerts/config", NULL, "{}", &rs), 401);
    assert_true(rs.authenticate);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/alerts/config", "Bearer wrongwrongwrong", "{}", &rs),
                     403);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/alerts/config", "Bearer " TOKEN, "{}", &rs), 200);
    rest_response_clear(&rs);
    /* GET is open by default */
    assert_int_equal(call(f, "GET", "/api/config", NULL, NULL, &rs), 200);
    rest_response_clear(&rs);
    /* without a token file nothing may change */
    rest_api_set_token(f->api, NULL, "cannot create /x/api-token: Permission denied");
    assert_int_equal(call(f, "POST", "/api/alerts/config", "Bearer " TOKEN, "{}", &rs), 503);
    assert_non_null(strstr(error_of(&rs), "Permission denied"));
    rest_response_clear(&rs);
}

static void test_read_requires_token(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN,
                          "{\"http\":{\"read_requires_token\":true}}", &rs),
                     200);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "GET", "/api/status", NULL, NULL, &rs), 401);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "GET", "/api/status", "Bearer " TOKEN, NULL, &rs), 200);
    rest_response_clear(&rs);
}

static void test_rate_limit(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(call(f, "POST", "/api/ota", "Bearer " TOKEN, NULL, &rs), 501);
        rest_response_clear(&rs);
    }
    assert_int_equal(call(f, "POST", "/api/ota", "Bearer " TOKEN, NULL, &rs), 429);
    assert_true(rs.retry_after_s >= 1 && rs.retry_after_s <= 12);
    rest_response_clear(&rs);
    /* reads are not rate limited */
    assert_int_equal(call(f, "GET", "/api/event-bus/metrics", NULL, NULL, &rs), 200);
    rest_response_clear(&rs);
    struct rest_stats st;
    rest_get_stats(f->api, &st);
    assert_int_equal(st.rate_limited, 1);
}

static void test_body_checks(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs = { 0 };
    struct rest_request rq = { .method = REST_POST,
                               .path = "/api/config",
                               .authorization = "Bearer " TOKEN,
                               .content_type = "text/plain",
                               .content_length = 10,
                               .client = "c" };
    assert_null(rest_begin(f->api, &rq, 0, &rs));
    assert_int_equal(rs.status, 415);
    rest_response_clear(&rs);
    rq.content_type = "application/json; charset=utf-8";
    rq.content_length = REST_BODY_MAX + 1;
    assert_null(rest_begin(f->api, &rq, 0, &rs));
    assert_int_equal(rs.status, 413);
    rest_response_clear(&rs);
    rq.content_type = "application/jsonx";
    rq.content_length = 2;
    assert_null(rest_begin(f->api, &rq, 0, &rs));
    assert_int_equal(rs.status, 415);
    rest_response_clear(&rs);

    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN, "{\"bms\": {", &rs), 400);
    assert_non_null(strstr(error_of(&rs), "line 1, column"));
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN, "[1,2]", &rs), 422);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN, "{\"a\":1,\"a\":2}", &rs),
                     400);
    rest_response_clear(&rs);
    /* jansson's error quotes the bytes it stopped at: not UTF-8, still a JSON answer (found by
     * fuzz-rest-body) */
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN,
                          "{\"bms\":{\"ports\":[{\"device\":\"\\\xde\xa3\xa3\xdd\x82", &rs),
                     400);
    assert_non_null(strstr(error_of(&rs), "malformed JSON at line 1"));
    rest_response_clear(&rs);
}

/* An error text cut inside a character, or quoting bytes that are no UTF-8, keeps every
 * well-formed character and shows the rest as '?'. */
static void test_error_text_is_utf8(void **state)
{
    (void)state;
    struct rest_response rs = { 0 };
    rest_error(&rs, 422, "k", "got '%.4s'", "a\xc3\xa9\xe2\x82\xac");
    assert_string_equal(error_of(&rs), "got 'a\xc3\xa9?'");
    rest_error(&rs, 400, NULL, "%s", "\xed\xa0\x80|\xc0\xaf|\xf4\x90\x80\x80|\xf0\x9f\x94\x8b");
    assert_string_equal(error_of(&rs), "???|??|????|\xf0\x9f\x94\x8b");
    rest_response_clear(&rs);
}

static void test_config_change_is_validated_and_persisted(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    char path[128], *text;
    size_t len;
    assert_int_equal(
        call(f, "POST", "/api/config", "Bearer " TOKEN, "{\"bms\":{\"poll_interval_ms\":50}}", &rs),
        422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")),
                        "bms.poll_interval_ms");
    assert_non_null(strstr(error_of(&rs), "100..5000"));
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN, "{\"bms\":{\"nope\":1}}", &rs),
                     422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")), "bms.nope");
    rest_response_clear(&rs);
    snprintf(path, sizeof(path), "%s/runtime.conf", f->dir);
    assert_int_equal(access(path, F_OK), -1); /* nothing written for refused changes */

    uint64_t gen = config_store_generation(f->app.config);
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN,
                          "{\"bms\":{\"poll_interval_ms\":500},\"ws\":{\"port\":9999}}", &rs),
                     200);
    json_t *restart = json_object_get(rs.json, "restart_required");
    assert_int_equal(json_array_size(restart), 1);
    assert_string_equal(json_string_value(json_array_get(restart, 0)), "ws.port");
    rest_response_clear(&rs);
    assert_true(config_store_generation(f->app.config) > gen);
    assert_int_equal(persist_read(path, &text, &len, 65536), 0);
    assert_non_null(strstr(text, "poll_interval_ms = 500;"));
    free(text);
    /* a key only the file may set */
    assert_int_equal(
        call(f, "POST", "/api/config", "Bearer " TOKEN, "{\"state_dir\":\"/tmp\"}", &rs), 422);
    rest_response_clear(&rs);
    /* null inside a list element = the default; the file written must still load (found by
     * fuzz-rest-body: "name = ;" was written) */
    assert_int_equal(call(f, "POST", "/api/config", "Bearer " TOKEN,
                          "{\"bms\":{\"ports\":[{\"name\":null,\"device\":\"/dev/v\","
                          "\"cells\":null}]}}",
                          &rs),
                     200);
    rest_response_clear(&rs);
    struct bmsgw_config *disk = malloc(sizeof(*disk));
    struct cfg_error err;
    assert_non_null(disk);
    if (config_load(disk, f->conf, NULL, &err) != 0)
        fail_msg("the persisted overlay does not load: %s", err.msg);
    assert_int_equal(disk->bms.port_count, 1);
    assert_string_equal(disk->bms.ports[0].name, "string1");
    assert_string_equal(disk->bms.ports[0].device, "/dev/v");
    free(disk);
}

static void test_alerts_config(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(call(f, "GET", "/api/alerts/config", NULL, NULL, &rs), 200);
    assert_int_equal(json_integer_value(json_object_get(rs.json, "imbalance_alarm_mv")), 80);
    rest_response_clear(&rs);
    assert_int_equal(
        call(f, "POST", "/api/alerts/config", "Bearer " TOKEN, "{\"imbalance_alarm_mv\":2}", &rs),
        422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")),
                        "alarms.imbalance_alarm_mv");
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/alerts/config", "Bearer " TOKEN,
                          "{\"imbalance_alarm_mv\":90,\"debounce_ms\":0}", &rs),
                     200);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(rs.json, "config"), "imbalance_alarm_mv")),
                     90);
    rest_response_clear(&rs);
}

static void test_restart_and_ota(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(
        call(f, "POST", "/api/system/restart", "Bearer " TOKEN, "{\"target\":\"gateway\"}", &rs),
        202);
    assert_int_equal(rs.after, REST_AFTER_EXIT);
    rest_response_clear(&rs);
    assert_int_equal(
        call(f, "POST", "/api/system/restart", "Bearer " TOKEN, "{\"target\":\"toaster\"}", &rs),
        422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")), "target");
    assert_int_equal(rs.after, REST_AFTER_NOTHING);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/system/restart", "Bearer " TOKEN,
                          "{\"target\":\"bms\",\"string\":7}", &rs),
                     422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")), "string");
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/ota", "Bearer " TOKEN, NULL, &rs), 501);
    assert_string_equal(error_of(&rs), "updates are installed with apt (.deb)");
    rest_response_clear(&rs);
}

static void test_read_endpoints(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(call(f, "GET", "/api/status", NULL, NULL, &rs), 200);
    assert_non_null(json_object_get(rs.json, "strings"));
    rest_response_clear(&rs);
    assert_int_equal(call(f, "GET", "/metrics", NULL, NULL, &rs), 200);
    assert_non_null(rs.text);
    assert_non_null(strstr(rs.text, "# TYPE bmsgw_uptime_seconds gauge"));
    assert_non_null(strstr(rs.content_type, "version=0.0.4"));
    rest_response_clear(&rs);
    assert_int_equal(call(f, "GET", "/api/metrics/runtime", NULL, NULL, &rs), 200);
    assert_true(json_integer_value(json_object_get(rs.json, "rss_bytes")) > 0);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "GET", "/api/system/tasks", NULL, NULL, &rs), 200);
    assert_true(json_array_size(rs.json) >= 1);
    rest_response_clear(&rs);
    /* no alerts service running here */
    assert_int_equal(call(f, "GET", "/api/alerts/active", NULL, NULL, &rs), 503);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/alerts/acknowledge", "Bearer " TOKEN, "{\"id\":0}", &rs),
                     422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")), "id");
    rest_response_clear(&rs);
    assert_int_equal(
        call(f, "POST", "/api/alerts/acknowledge", "Bearer " TOKEN, "{\"all\":1}", &rs), 422);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "POST", "/api/alerts/acknowledge", "Bearer " TOKEN, "{}", &rs), 503);
    rest_response_clear(&rs);
    assert_int_equal(call(f, "DELETE", "/api/alerts/history", NULL, NULL, &rs), 401);
    rest_response_clear(&rs);
    /* no CAN service registered here */
    assert_int_equal(call(f, "GET", "/api/can/status", NULL, NULL, &rs), 503);
    rest_response_clear(&rs);
    /* the history: argument checked, then 503 without a recorder */
    f->query_name = "minutes";
    f->query_value = "0";
    assert_int_equal(call(f, "GET", "/api/history", NULL, NULL, &rs), 422);
    assert_string_equal(json_string_value(json_object_get(rs.json, "field")), "minutes");
    rest_response_clear(&rs);
    f->query_value = "10";
    assert_int_equal(call(f, "GET", "/api/history", NULL, NULL, &rs), 503);
    rest_response_clear(&rs);
}

static bool can_enabled(const struct bmsgw_config *cfg)
{
    (void)cfg;
    return true;
}

/* /api/can/status of a running CAN service: the configured protocol and its frame table. */
static void test_can_status(void **state)
{
    struct fixture *f = *state;
    static const struct service_ops can_ops = { .name = "can", .enabled = can_enabled };
    const struct service_ops *const table[] = { &can_ops, NULL };
    services_init(&f->services, &f->app, table);
    struct service *svc = services_find(&f->services, "can");
    assert_non_null(svc);
    service_set_state(svc, SERVICE_DEGRADED, "no such device");
    struct rest_response rs;
    assert_int_equal(call(f, "GET", "/api/can/status", NULL, NULL, &rs), 200);
    assert_string_equal(json_string_value(json_object_get(rs.json, "protocol")), "victron");
    assert_string_equal(json_string_value(json_object_get(rs.json, "service")), "degraded");
    json_t *frames = json_object_get(rs.json, "frames");
    assert_int_equal(json_array_size(frames), can_protocols[0]->n_frames);
    json_t *first = json_array_get(frames, 0);
    char id[8];
    snprintf(id, sizeof(id), "0x%03X", can_protocols[0]->frames[0].id);
    assert_string_equal(json_string_value(json_object_get(first, "id")), id);
    assert_string_equal(json_string_value(json_object_get(first, "name")),
                        can_protocols[0]->frames[0].name);
    rest_response_clear(&rs);
    services_deinit(&f->services);
}

static void test_bms_registers_checks(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    f->app.bms_cmdq[0] = cmdq_new(2);
    assert_int_equal(call(f, "GET", "/api/bms/registers", NULL, NULL, &rs), 200);
    json_t *regs = json_object_get(rs.json, "registers");
    assert_true(json_array_size(regs) > 20);
    json_t *first = json_array_get(regs, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "addr")), 300);
    assert_true(json_is_null(json_object_get(first, "value"))); /* not read yet */
    assert_false(json_is_true(json_object_get(rs.json, "settings_valid")));
    rest_response_clear(&rs);
    f->query_name = "string";
    f->query_value = "2";
    assert_int_equal(call(f, "GET", "/api/bms/registers", NULL, NULL, &rs), 422);
    rest_response_clear(&rs);
    const struct {
        const char *body;
        const char *field;
    } bad[] = {
        { "{\"string\":2,\"key\":\"over_voltage_cutoff_mv\",\"value\":3650}", "string" },
        { "{\"string\":1,\"key\":\"pack_voltage_v\",\"value\":1}", "key" },
        { "{\"string\":1,\"key\":\"nope\",\"value\":1}", "key" },
        { "{\"string\":1,\"key\":\"over_voltage_cutoff_mv\",\"value\":\"high\"}", "value" },
        { "{\"string\":1,\"key\":\"over_voltage_cutoff_mv\",\"value\":1,\"x\":1}", "x" },
    };
    f->client = "192.0.2.7"; /* a fresh rate-limit bucket */
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(call(f, "POST", "/api/bms/registers", "Bearer " TOKEN, bad[i].body, &rs),
                         422);
        assert_string_equal(json_string_value(json_object_get(rs.json, "field")), bad[i].field);
        rest_response_clear(&rs);
    }
    /* a valid request, but no TinyBMS service in this daemon */
    f->client = "192.0.2.8";
    assert_int_equal(call(f, "POST", "/api/bms/registers", "Bearer " TOKEN,
                          "{\"string\":1,\"key\":\"over_voltage_cutoff_mv\",\"value\":3650}", &rs),
                     503);
    rest_response_clear(&rs);
    cmdq_free(f->app.bms_cmdq[0]);
    f->app.bms_cmdq[0] = NULL;
}

static void test_config_schema(void **state)
{
    struct fixture *f = *state;
    struct rest_response rs;
    assert_int_equal(call(f, "GET", "/api/config/schema", NULL, NULL, &rs), 200);
    json_t *bms = NULL, *k, *poll = NULL;
    size_t i;
    json_array_foreach(rs.json, i, k) if (strcmp(json_string_value(json_object_get(k, "key")),
                                                 "bms") == 0) bms = k;
    assert_non_null(bms);
    json_array_foreach(json_object_get(bms, "keys"), i,
                       k) if (strcmp(json_string_value(json_object_get(k, "key")),
                                     "bms.poll_interval_ms") == 0) poll = k;
    assert_non_null(poll);
    assert_int_equal(json_integer_value(json_object_get(poll, "min")), 100);
    assert_string_equal(json_string_value(json_object_get(poll, "unit")), "ms");
    assert_false(json_is_true(json_object_get(json_array_get(rs.json, 0), "api"))); /* state_dir */
    rest_response_clear(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_path_and_method, setup, teardown),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_error_text_is_utf8),
        cmocka_unit_test_setup_teardown(test_can_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations_need_the_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_requires_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_change_is_validated_and_persisted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alerts_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_and_ota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bms_registers_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_schema, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
