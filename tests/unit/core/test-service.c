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

    /* watchdog: a running service that stops reporting progress is unhealthy */
    int64_t now = clock_mono_ms();
    assert_null(services_unhealthy(&r, now));
    assert_string_equal(services_unhealthy(&r, now + 500), "a");
    service_progress(services_find(&r, "a"));
    service_progress(services_find(&r, "c"));
    assert_null(services_unhealthy(&r, clock_mono_ms()));

    services_stop(&r, 1000); /* reverse order; down and disabled ones are skipped */
    assert_string_equal(order, "+a+b+c-c-a");
    struct service_status st;
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
