/* SPDX-License-Identifier: MIT */
/* test-service.c — registry order, failing and disabled services, watchdog health. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "bmsgw/clock.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"

static char order[64];

static void note(const char *what)
{
    strcat(order, what);
}

static bool yes(const struct bmsgw_config *c)
{
    (void)c;
    return true;
}

static bool no(const struct bmsgw_config *c)
{
    (void)c;
    return false;
}

static int start_a(struct service *s)
{
    note("+a");
    service_set_state(s, SERVICE_RUNNING, NULL);
    return 0;
}

static int start_b(struct service *s)
{
    note("+b");
    service_set_state(s, SERVICE_DOWN, "no device /dev/x");
    return -ENODEV;
}

static int start_c(struct service *s)
{
    note("+c");
    service_set_state(s, SERVICE_DEGRADED, "interface can0 missing, retrying");
    return 0;
}

static int stop_a(struct service *s, int t)
{
    (void)s;
    (void)t;
    note("-a");
    return 0;
}

static int stop_c(struct service *s, int t)
{
    (void)s;
    (void)t;
    note("-c");
    return 0;
}

static const struct service_ops a = {
    .name = "a", .enabled = yes, .start = start_a, .stop = stop_a, .watchdog_ms = 100
};
static const struct service_ops b = {
    .name = "b", .enabled = yes, .start = start_b, .stop = stop_a, .watchdog_ms = 100
};
static const struct service_ops c = {
    .name = "c", .enabled = yes, .start = start_c, .stop = stop_c, .watchdog_ms = 100
};
static const struct service_ops d = {
    .name = "d", .enabled = no, .start = start_a, .stop = stop_a, .watchdog_ms = 100
};
static const struct service_ops *const table[] = { &a, &b, &c, &d, NULL };

static void quiet(int level, const char *tag, const char *line, void *ctx)
{
    (void)level;
    (void)tag;
    (void)line;
    (void)ctx;
}

static void test_registry(void **state)
{
    (void)state;
    struct service_registry r;
    struct bmsgw_config cfg;
    char summary[256];
    log_set_sink(quiet, NULL);
    config_defaults(&cfg);
    order[0] = '\0';
    services_init(&r, NULL, table);
    assert_int_equal(r.count, 4);
    assert_int_equal(services_start(&r, &cfg), 2);
    assert_string_equal(order, "+a+b+c");
    services_summary(&r, summary, sizeof(summary));
    assert_string_equal(summary, "a running, b down (no device /dev/x), c degraded (interface "
                                 "can0 missing, retrying), d disabled");

    /* watchdog: a running service that stops reporting progress is unhealthy. Judged at times
     * taken from the services' own progress stamps, not at "now": a pause of this process must
     * not age them. */
    struct service *sa = services_find(&r, "a"), *sc = services_find(&r, "c");
    struct service_status st;
    service_get_status(sa, &st);
    int64_t pa = st.progress_ms;
    service_get_status(sc, &st);
    int64_t pc = st.progress_ms, last = pa > pc ? pa : pc;
    assert_null(services_unhealthy(&r, pa < pc ? pa : pc));
    assert_true(service_healthy(sa, pa + 100)); /* watchdog_ms 100 */
    assert_false(service_healthy(sa, pa + 101));
    assert_string_equal(services_unhealthy(&r, last + 500), "a");
    while (clock_mono_ms() <= last) /* progress reported later than the stamps above */
        clock_sleep_ms(1);
    int64_t t = clock_mono_ms();
    service_progress(sa);
    service_progress(sc);
    service_get_status(sa, &st);
    assert_true(st.progress_ms >= t);
    assert_null(services_unhealthy(&r, t + 100)); /* the old stamps would be older than that */

    services_stop(&r, 1000); /* reverse order; down and disabled ones are skipped */
    assert_string_equal(order, "+a+b+c-c-a");
    service_get_status(services_find(&r, "b"), &st);
    assert_int_equal(st.state, SERVICE_DOWN);
    assert_string_equal(st.last_error, "no device /dev/x");
    services_deinit(&r);
    log_set_sink(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
