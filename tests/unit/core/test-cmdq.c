/* SPDX-License-Identifier: MIT */
/* test-cmdq.c — request/reply into an owner thread, timeouts, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"

struct owner {
    struct cmdq *q;
    atomic_bool stop;
    int delay_ms;
    atomic_int served;
};

static void *owner_main(void *arg)
{
    struct owner *o = arg;
    struct pollfd p = { .fd = cmdq_fd(o->q), .events = POLLIN };
    while (!atomic_load(&o->stop)) {
        if (poll(&p, 1, 20) <= 0)
            continue;
        struct cmdq_req *r;
        while ((r = cmdq_take(o->q))) {
            if (o->delay_ms)
                clock_sleep_ms(o->delay_ms);
            r->out[0] = r->arg[0] * 2;
            r->result = r->arg[0] < 0 ? -ERANGE : 0;
            atomic_fetch_add(&o->served, 1);
            cmdq_complete(o->q, r);
        }
    }
    return NULL;
}

static void test_call_and_reply(void **state)
{
    (void)state;
    struct owner o = { .q = cmdq_new(4) };
    pthread_t th;
    pthread_create(&th, NULL, owner_main, &o);
    struct cmdq_req r = { .op = 1, .arg = { 21 } };
    assert_int_equal(cmdq_call(o.q, &r, 1000), 0);
    assert_int_equal(r.out[0], 42);
    struct cmdq_req bad = { .op = 1, .arg = { -1 } };
    assert_int_equal(cmdq_call(o.q, &bad, 1000), -ERANGE);
    atomic_store(&o.stop, true);
    pthread_join(th, NULL);
    cmdq_free(o.q);
}

static void test_timeout_withdraws(void **state)
{
    (void)state;
    struct cmdq *q = cmdq_new(4);
    struct cmdq_req r = { .op = 1 };
    int64_t t0 = clock_mono_ms();
    assert_int_equal(cmdq_call(q, &r, 50), -ETIMEDOUT); /* nobody serves */
    assert_true(clock_mono_ms() - t0 >= 45);
    assert_null(cmdq_take(q)); /* withdrawn: never executed later */
    cmdq_free(q);
}

static void test_taken_request_is_waited_for(void **state)
{
    (void)state;
    struct owner o = { .q = cmdq_new(4), .delay_ms = 150 };
    pthread_t th;
    pthread_create(&th, NULL, owner_main, &o);
    struct cmdq_req r = { .op = 1, .arg = { 5 } };
    /* the owner takes it at once and needs 150 ms: the caller waits past its 50 ms */
    assert_int_equal(cmdq_call(o.q, &r, 50), 0);
    assert_int_equal(r.out[0], 10);
    atomic_store(&o.stop, true);
    pthread_join(th, NULL);
    cmdq_free(o.q);
}

static void *blocked_caller(void *arg)
{
    struct cmdq_req r = { .op = 1 };
    return (void *)(intptr_t)cmdq_call(arg, &r, 300);
}

static void test_full_and_shutdown(void **state)
{
    (void)state;
    struct cmdq *q = cmdq_new(1);
    struct cmdq_req r = { .op = 1 };
    pthread_t th;
    void *ret;
    pthread_create(&th, NULL, blocked_caller, q);
    clock_sleep_ms(50);
    assert_int_equal(cmdq_call(q, &r, 10), -EAGAIN); /* the one slot is taken */
    pthread_join(th, &ret);
    assert_int_equal((intptr_t)ret, -ETIMEDOUT);
    cmdq_shutdown(q);
    assert_int_equal(cmdq_call(q, &r, 10), -ESHUTDOWN);
    cmdq_reopen(q);
    assert_int_equal(cmdq_call(q, &r, 10), -ETIMEDOUT);
    cmdq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_and_reply),
        cmocka_unit_test(test_timeout_withdraws),
        cmocka_unit_test(test_taken_request_is_waited_for),
        cmocka_unit_test(test_full_and_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
