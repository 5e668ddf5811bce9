/* SPDX-License-Identifier: MIT */
/* test-log.c — levels, thread tags, the asynchronous writer and rate limiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/log.h"

struct capture {
    pthread_mutex_t lock;
    int n;
    int level[64];
    char tag[64][24];
    char line[64][480];
};

static struct capture cap = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void sink(int level, const char *tag, const char *line, void *ctx)
{
    struct capture *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (c->n < 64) {
        c->level[c->n] = level;
        snprintf(c->tag[c->n], sizeof(c->tag[0]), "%s", tag);
        snprintf(c->line[c->n], sizeof(c->line[0]), "%s", line);
        c->n++;
    }
    pthread_mutex_unlock(&c->lock);
}

static int setup(void **state)
{
    (void)state;
    memset(cap.line, 0, sizeof(cap.line));
    cap.n = 0;
    log_open(LOG_TARGET_STDERR, LOG_INFO);
    log_set_sink(sink, &cap);
    return 0;
}

static void test_levels_and_format(void **state)
{
    (void)state;
    log_set_thread("bms:house");
    log_info("link %s after %d timeouts", "down", 3);
    log_debug("not shown at info");
    log_err("shown");
    assert_int_equal(cap.n, 2);
    assert_string_equal(cap.line[0], "link down after 3 timeouts");
    assert_string_equal(cap.tag[0], "bms:house");
    assert_int_equal(cap.level[1], LOG_ERR);
    log_set_level(LOG_DEBUG);
    log_debug("now shown");
    assert_int_equal(cap.n, 3);
    log_set_thread("main");
}

static void test_level_names(void **state)
{
    (void)state;
    assert_int_equal(log_level_from_name("warning"), LOG_WARNING);
    assert_int_equal(log_level_from_name("loud"), -1);
    assert_string_equal(log_level_name(LOG_NOTICE), "notice");
}

static void *tagged_thread(void *arg)
{
    (void)arg;
    log_set_thread("can");
    log_warn("from another thread");
    return NULL;
}

static void test_async_keeps_order_and_tags(void **state)
{
    (void)state;
    assert_int_equal(log_start_async(), 0);
    for (int i = 0; i < 10; i++)
        log_info("message %d", i);
    pthread_t th;
    pthread_create(&th, NULL, tagged_thread, NULL);
    pthread_join(th, NULL);
    log_stop_async(); /* flushes */
    assert_int_equal(cap.n, 11);
    for (int i = 0; i < 10; i++) {
        char expect[32];
        snprintf(expect, sizeof(expect), "message %d", i);
        assert_string_equal(cap.line[i], expect);
    }
    assert_string_equal(cap.tag[10], "can");
}

static void test_ratelimit(void **state)
{
    (void)state;
    struct log_ratelimit rl = { 0 };
    unsigned supp;
    assert_true(log_ratelimit_pass(&rl, 1000, 5000, &supp));
    assert_int_equal(supp, 0);
    assert_false(log_ratelimit_pass(&rl, 2000, 5000, &supp));
    assert_false(log_ratelimit_pass(&rl, 5999, 5000, &supp));
    assert_true(log_ratelimit_pass(&rl, 6000, 5000, &supp));
    assert_int_equal(supp, 2);
}

static void test_ratelimited_macro(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        log_ratelimited(LOG_WARNING, 60000, "CRC error on %s", "house");
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.line[0], "CRC error on house");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_levels_and_format, setup),
        cmocka_unit_test_setup(test_level_names, setup),
        cmocka_unit_test_setup(test_async_keeps_order_and_tags, setup),
        cmocka_unit_test_setup(test_ratelimit, setup),
        cmocka_unit_test_setup(test_ratelimited_macro, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
