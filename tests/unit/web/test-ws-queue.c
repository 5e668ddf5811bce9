/* SPDX-License-Identifier: MIT */
/* test-ws-queue.c — shared messages, bounded queues with latest-wins telemetry, inbound limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bmsgw/ws_queue.h"

static struct ws_msg *msg(const char *text)
{
    struct ws_msg *m = ws_msg_new(text, strlen(text), 16);
    assert_non_null(m);
    return m;
}

static void test_message_sharing(void **state)
{
    (void)state;
    struct ws_msg *m = msg("hello");
    assert_memory_equal(ws_msg_data(m), "hello", 6);
    assert_int_equal(m->pre, 16);
    struct ws_queue a, b;
    assert_int_equal(ws_queue_init(&a, 4), 0);
    assert_int_equal(ws_queue_init(&b, 4), 0);
    assert_int_equal(ws_queue_push(&a, m, 0, 1000), WS_PUSH_OK);
    assert_int_equal(ws_queue_push(&b, m, 0, 1000), WS_PUSH_OK);
    assert_int_equal(m->refs, 3);
    ws_msg_unref(m); /* the producer's reference */
    struct ws_msg *x = ws_queue_pop(&a, false);
    assert_ptr_equal(x, m);
    ws_msg_unref(x);
    assert_int_equal(m->refs, 1);
    ws_queue_deinit(&b); /* frees the last reference (ASan would see a leak or double free) */
    ws_queue_deinit(&a);
}

static void test_fifo_bound_and_stuck(void **state)
{
    (void)state;
    struct ws_queue q;
    struct ws_msg *m = msg("x");
    assert_int_equal(ws_queue_init(&q, 3), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ws_queue_push(&q, m, 100, 2000), WS_PUSH_OK);
    assert_int_equal(q.full_since_ms, 100);
    assert_int_equal(ws_queue_push(&q, m, 1500, 2000), WS_PUSH_DROPPED);
    assert_int_equal(ws_queue_push(&q, m, 2099, 2000), WS_PUSH_DROPPED);
    assert_int_equal(ws_queue_push(&q, m, 2100, 2000), WS_PUSH_STUCK);
    assert_int_equal(q.dropped, 3);
    /* a reader that keeps up resets the clock */
    ws_msg_unref(ws_queue_pop(&q, false));
    assert_int_equal(q.full_since_ms, 0);
    assert_int_equal(ws_queue_push(&q, m, 5000, 2000), WS_PUSH_OK);
    assert_int_equal(ws_queue_push(&q, m, 6000, 2000), WS_PUSH_DROPPED);
    ws_queue_deinit(&q);
    assert_int_equal(m->refs, 1);
    ws_msg_unref(m);
}

static void test_latest_wins(void **state)
{
    (void)state;
    struct ws_queue q;
    struct ws_msg *t1 = msg("t1"), *t2 = msg("t2"), *ev = msg("ev");
    assert_int_equal(ws_queue_init(&q, 2), 0);
    assert_true(ws_queue_empty(&q));
    ws_queue_set_latest(&q, t1);
    ws_queue_set_latest(&q, t2); /* t1 is never sent */
    assert_int_equal(t1->refs, 1);
    assert_int_equal(ws_queue_push(&q, ev, 0, 1000), WS_PUSH_OK);
    struct ws_msg *a = ws_queue_pop(&q, false), *b = ws_queue_pop(&q, false);
    assert_ptr_equal(a, ev);
    assert_ptr_equal(b, t2);
    assert_null(ws_queue_pop(&q, false));
    ws_msg_unref(a);
    ws_msg_unref(b);
    /* telemetry held back (too soon) does not block the streams */
    ws_queue_set_latest(&q, t1);
    assert_null(ws_queue_pop(&q, true));
    assert_true(ws_queue_has_latest(&q));
    ws_queue_deinit(&q);
    ws_msg_unref(t1);
    ws_msg_unref(t2);
    ws_msg_unref(ev);
}

static void test_inbound_limits(void **state)
{
    (void)state;
    struct ws_inbound in = { 0 };
    for (int i = 0; i < WS_IN_MAX_PER_S; i++)
        assert_int_equal(ws_inbound_fragment(&in, 1000 + i * 10, 10, true, true), 0);
    assert_int_equal(ws_inbound_fragment(&in, 1500, 10, true, true), 1008);
    /* the next second starts a new count */
    memset(&in, 0, sizeof(in));
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < WS_IN_MAX_PER_S; i++)
            assert_int_equal(ws_inbound_fragment(&in, s * 1000 + i, 10, true, true), 0);
    /* size over fragments of one message */
    memset(&in, 0, sizeof(in));
    assert_int_equal(ws_inbound_fragment(&in, 0, WS_IN_MAX_BYTES - 10, true, false), 0);
    assert_int_equal(ws_inbound_fragment(&in, 0, 10, false, true), 0); /* exactly the limit */
    assert_int_equal(ws_inbound_fragment(&in, 0, WS_IN_MAX_BYTES - 10, true, false), 0);
    assert_int_equal(ws_inbound_fragment(&in, 0, 11, false, false), 1009);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_sharing),
        cmocka_unit_test(test_fifo_bound_and_stuck),
        cmocka_unit_test(test_latest_wins),
        cmocka_unit_test(test_inbound_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
