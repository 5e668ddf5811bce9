/* SPDX-License-Identifier: MIT */
/* test-web-parts.c — token file, rate limiter, static paths, /proc parsing, Prometheus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/auth.h"
#include "bmsgw/http_static.h"
#include "bmsgw/ratelimit.h"
#include "bmsgw/sysinfo.h"
#include "bmsgw/web_metrics.h"

static void test_token_created_once_with_mode_0600(void **state)
{
    (void)state;
    char dir[] = "/tmp/bmsgw-auth-XXXXXX", path[64], a[AUTH_TOKEN_MAX], b[AUTH_TOKEN_MAX];
    bool loose;
    struct stat st;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/api-token", dir);
    assert_int_equal(auth_token_load(path, a, sizeof(a), &loose), 1);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(auth_token_load(path, b, sizeof(b), &loose), 0);
    assert_string_equal(a, b);
    assert_false(loose);
    chmod(path, 0644);
    assert_int_equal(auth_token_load(path, b, sizeof(b), &loose), 0);
    assert_true(loose);
    /* a file without a usable token is refused, not replaced */
    FILE *f = fopen(path, "w");
    fputs("  short \n", f);
    fclose(f);
    assert_int_equal(auth_token_load(path, b, sizeof(b), &loose), -EINVAL);
    f = fopen(path, "w");
    fputs("has a space in the middle of it\n", f);
    fclose(f);
    assert_int_equal(auth_token_load(path, b, sizeof(b), &loose), -EINVAL);
    f = fopen(path, "w");
    fputs("\n  my-own-token-of-20-chars \n", f);
    fclose(f);
    assert_int_equal(auth_token_load(path, b, sizeof(b), &loose), 0);
    assert_string_equal(b, "my-own-token-of-20-chars");
    unlink(path);
    /* a folder that does not exist */
    snprintf(path, sizeof(path), "%s/missing/api-token", dir);
    assert_true(auth_token_load(path, b, sizeof(b), &loose) < 0);
    rmdir(dir);
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_true(auth_token_equal("abcdefgh", "abcdefgh"));
    assert_false(auth_token_equal("abcdefgx", "abcdefgh"));
    assert_false(auth_token_equal("abcdefg", "abcdefgh"));
    assert_false(auth_token_equal("abcdefghi", "abcdefgh"));
    assert_false(auth_token_equal("", "abcdefgh"));
    assert_false(auth_token_equal(NULL, "abcdefgh"));
    assert_false(auth_token_equal("", "")); /* an empty expected token never matches */
}

static void test_ratelimit(void **state)
{
    (void)state;
    struct ratelimit *rl = malloc(sizeof(*rl));
    ratelimit_init(rl);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, "a", 3, 0), 0);
    assert_int_equal(ratelimit_take(rl, "a", 3, 0), 20); /* one token per 20 s */
    assert_int_equal(ratelimit_take(rl, "b", 3, 0), 0);  /* others unaffected */
    assert_int_equal(ratelimit_take(rl, "a", 3, 19000), 1);
    assert_int_equal(ratelimit_take(rl, "a", 3, 20000), 0);
    assert_true(ratelimit_take(rl, "a", 3, 20000) > 0);
    /* a full table forgets the least recently seen client */
    char key[16];
    for (int i = 0; i < RATELIMIT_CLIENTS + 5; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        assert_int_equal(ratelimit_take(rl, key, 1, 30000 + i), 0);
    }
    assert_int_equal(rl->n, RATELIMIT_CLIENTS);
    assert_int_equal(ratelimit_take(rl, "c0", 1, 40000), 0); /* forgotten, so a fresh bucket */
    free(rl);
}

static void test_static_paths(void **state)
{
    (void)state;
    char out[256];
    const char *type;
    assert_int_equal(http_static_resolve("/", "/w", "/c", out, sizeof(out), &type), 0);
    assert_string_equal(out, "/w/index.html");
    assert_string_equal(type, "text/html; charset=utf-8");
    assert_int_equal(http_static_resolve("/js/app.js", "/w", "/c", out, sizeof(out), &type), 0);
    assert_string_equal(out, "/w/js/app.js");
    assert_int_equal(
        http_static_resolve("/chart.js/chart.min.js", "/w", "/c", out, sizeof(out), &type), 0);
    assert_string_equal(out, "/c/chart.min.js");
    const char *bad[] = { "/../etc/passwd", "/a/../b.js",        "//etc/passwd.js",
                          "/.hidden.js",    "/a%2e.js",          "/dir/",
                          "/app.exe",       "/chart.js/../x.js", "",
                          "relative.js",    "/a b.js",           "/a\\b.js" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(http_static_resolve(bad[i], "/w", "/c", out, sizeof(out), &type), -ENOENT);
}

static void test_proc_stat_parse(void **state)
{
    (void)state;
    struct sysinfo_task t;
    const char *line = "4242 (ws (lws) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
    assert_int_equal(sysinfo_parse_stat(line, 100, &t), 0);
    assert_int_equal(t.tid, 4242);
    assert_string_equal(t.name, "ws (lws) x");
    assert_int_equal(t.state, 'S');
    assert_float_equal(t.cpu_user_s, 2.5, 1e-9);
    assert_float_equal(t.cpu_system_s, 0.5, 1e-9);
    assert_string_equal(sysinfo_state_name(t.state), "sleeping");
    assert_int_equal(sysinfo_parse_stat("12 no-parens S 1", 100, &t), -EINVAL);
    assert_int_equal(sysinfo_parse_stat("12 (x) S 1 2", 100, &t), -EINVAL);
    struct sysinfo_proc p;
    assert_int_equal(sysinfo_self(&p), 0);
    assert_true(p.rss_bytes > 0 && p.threads >= 1);
}

static void test_prometheus_text(void **state)
{
    (void)state;
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    struct web_metrics m = { .uptime_ms = 61500, .service_count = 2 };
    m.services[0] = (struct service_status){ .name = "http", .state = SERVICE_RUNNING };
    m.services[1] = (struct service_status){ .name = "mqtt",
                                             .state = SERVICE_DEGRADED,
                                             .last_error = "broker \"b\": refused",
                                             .counter_count = 1 };
    m.services[1].counters[0] = (struct service_counter){ .name = "connects_total",
                                                          .help = "Connections made.",
                                                          .value = 3 };
    sys->string_count = 1;
    strcpy(sys->strings[0].name, "bo\"at\\1");
    sys->strings[0].online = true;
    sys->strings[0].sample_ms = 900;
    sys->strings[0].cell_count = 2;
    sys->strings[0].link.requests = 7;
    sys->cell_mv[0] = 3301;
    sys->cell_mv[1] = 3302;
    bmsgw_system_aggregate(sys, 1000, 3000);
    size_t len;
    char *t = web_metrics_prometheus(&m, sys, 1000, 3000, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    assert_non_null(strstr(t, "bmsgw_uptime_seconds 61.5\n"));
    assert_non_null(strstr(
        t, "bmsgw_cell_voltage_volts{string=\"1\",name=\"bo\\\"at\\\\1\",cell=\"2\"} 3.302\n"));
    assert_non_null(strstr(t, "bmsgw_bms_requests_total{string=\"1\",name=\"bo\\\"at\\\\1\"} 7\n"));
    assert_non_null(strstr(t, "bmsgw_data_stale 0\n"));
    assert_non_null(strstr(t, "bmsgw_service_running{service=\"http\",state=\"running\"} 1\n"));
    assert_non_null(strstr(t, "bmsgw_service_degraded{service=\"http\",reason=\"\"} 0\n"));
    assert_non_null(strstr(
        t, "bmsgw_service_degraded{service=\"mqtt\",reason=\"broker \\\"b\\\": refused\"} 1\n"));
    assert_non_null(
        strstr(t, "# TYPE bmsgw_mqtt_connects_total counter\nbmsgw_mqtt_connects_total 3\n"));
    assert_null(strstr(t, "bmsgw_charge_voltage_limit_volts")); /* limits not valid */
    /* every non-comment line is "name[{labels}] value" */
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"))
        if (line[0] != '#')
            assert_non_null(strchr(line, ' '));
    free(t);
    free(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_created_once_with_mode_0600),
        cmocka_unit_test(test_token_equal),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_static_paths),
        cmocka_unit_test(test_proc_stat_parse),
        cmocka_unit_test(test_prometheus_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
