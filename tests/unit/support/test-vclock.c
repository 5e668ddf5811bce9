/* SPDX-License-Identifier: MIT */
/* test-vclock.c — the virtual clock the service tests run on. */
#include "vclock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <unistd.h>

#include <cmocka.h>

struct sleeper {
    struct vclock *v;
    int fd;
    atomic_int woke;
    atomic_int ready;
    atomic_llong woke_at_ms;
};

static void *sleep_1000(void *arg)
{
    struct sleeper *s = arg;
    struct pollfd p = { .fd = s->fd, .events = POLLIN };
    int r = bmsgw_clock_poll(&s->v->ops, &p, 1, 1000);
    atomic_store(&s->woke_at_ms, bmsgw_clock_ms(&s->v->ops));
    atomic_store(&s->ready, r);
    atomic_store(&s->woke, 1);
    return NULL;
}

static void test_time_moves_only_when_told(void **state)
{
    (void)state;
    struct vclock v;
    vclock_init(&v, 5000);
    assert_int_equal(bmsgw_clock_ms(&v.ops), 5000);
    assert_int_equal(bmsgw_clock_us(&v.ops), 5000000);
    int64_t r0 = bmsgw_clock_real_ms(&v.ops);
    clock_sleep_ms(20);
    assert_int_equal(bmsgw_clock_ms(&v.ops), 5000);
    vclock_advance(&v, 250);
    assert_int_equal(vclock_now_ms(&v), 5250);
    assert_int_equal(bmsgw_clock_real_ms(&v.ops) - r0, 250);
    vclock_destroy(&v);
}

/* A thread sleeping in poll(1000 virtual ms) on the read end of a new pipe, on a new vclock. */
static void start_sleeper(struct sleeper *s, struct vclock *v, int fds[2], pthread_t *t)
{
    vclock_init(v, 0);
    assert_int_equal(pipe(fds), 0);
    *s = (struct sleeper){ .v = v, .fd = fds[0] };
    assert_int_equal(pthread_create(t, NULL, sleep_1000, s), 0);
    assert_true(vclock_wait_sleepers(v, 1, 10000));
}

static void end_sleeper(struct vclock *v, int fds[2])
{
    close(fds[0]);
    close(fds[1]);
    vclock_destroy(v);
}

static void test_poll_times_out_on_virtual_time(void **state)
{
    (void)state;
    struct vclock v;
    struct sleeper s;
    int fds[2];
    pthread_t t;
    start_sleeper(&s, &v, fds, &t);
    vclock_advance(&v, 999);
    assert_true(vclock_wait_sleepers(&v, 1, 10000)); /* asleep again: 1 ms is still missing */
    assert_int_equal(atomic_load(&s.woke), 0);
    vclock_advance(&v, 1);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&s.woke), 1);
    assert_int_equal(atomic_load(&s.ready), 0);
    assert_int_equal(atomic_load(&s.woke_at_ms), 1000);
    end_sleeper(&v, fds);
}

static void test_poll_returns_at_once_on_io(void **state)
{
    (void)state;
    struct vclock v;
    struct sleeper s;
    int fds[2];
    pthread_t t;
    start_sleeper(&s, &v, fds, &t);
    assert_int_equal(write(fds[1], "x", 1), 1);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&s.ready), 1);
    assert_int_equal(atomic_load(&s.woke_at_ms), 0); /* no virtual time passed */
    end_sleeper(&v, fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_moves_only_when_told),
        cmocka_unit_test(test_poll_times_out_on_virtual_time),
        cmocka_unit_test(test_poll_returns_at_once_on_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
