/* SPDX-License-Identifier: MIT */
/* test-bus.c — fan-out, topic filtering, bounded rings that drop and count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "bmsgw/bus.h"

static void count_notify(void *ctx)
{
    (*(int *)ctx)++;
}

static void test_fanout_and_filter(void **state)
{
    (void)state;
    struct bus *b = bus_new();
    int n1 = 0, n2 = 0;
    struct bus_sub *uart = bus_subscribe(b, BUS_UART, 4, count_notify, &n1);
    struct bus_sub *all = bus_subscribe(b, BUS_UART | BUS_EVENT, 4, count_notify, &n2);
    struct bus_msg m;
    const uint8_t frame[] = { 0xAA, 0x03, 0x00, 0x00, 0x00, 0x38 };

    assert_true(bus_has_subscribers(b, BUS_UART));
    assert_false(bus_has_subscribers(b, BUS_CAN));
    bus_publish_bytes(b, BUS_UART, BUS_DIR_TX, 0, 0, frame, sizeof(frame));
    bus_publish_text(b, BUS_EVENT, -1, "{\"type\":\"link_up\"}");
    bus_publish_bytes(b, BUS_CAN, BUS_DIR_TX, -1, 0x351, frame, 8); /* nobody listens */
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 2);

    assert_true(bus_pop(uart, &m));
    assert_int_equal(m.topic, BUS_UART);
    assert_int_equal(m.dir, BUS_DIR_TX);
    assert_int_equal(m.len, sizeof(frame));
    assert_memory_equal(m.data, frame, sizeof(frame));
    assert_true(m.t_ms > 0);
    assert_false(bus_pop(uart, &m));

    assert_true(bus_pop(all, &m));
    assert_true(bus_pop(all, &m));
    assert_int_equal(m.topic, BUS_EVENT);
    assert_string_equal((char *)m.data, "{\"type\":\"link_up\"}");

    struct bus_metrics met;
    bus_get_metrics(b, &met);
    assert_int_equal(met.published, 3);
    assert_int_equal(met.delivered, 3);
    assert_int_equal(met.dropped, 0);
    assert_int_equal(met.subscribers, 2);
    bus_unsubscribe(b, uart);
    bus_get_metrics(b, &met);
    assert_int_equal(met.subscribers, 1);
    bus_free(b);
}

static void test_full_ring_drops_new(void **state)
{
    (void)state;
    struct bus *b = bus_new();
    struct bus_sub *s = bus_subscribe(b, BUS_ALERT, 2, NULL, NULL);
    struct bus_msg m;
    bus_publish_text(b, BUS_ALERT, -1, "1");
    bus_publish_text(b, BUS_ALERT, -1, "2");
    bus_publish_text(b, BUS_ALERT, -1, "3");
    assert_int_equal(bus_sub_dropped(s), 1);
    assert_true(bus_pop(s, &m));
    assert_string_equal((char *)m.data, "1");
    assert_true(bus_pop(s, &m));
    assert_string_equal((char *)m.data, "2");
    assert_false(bus_pop(s, &m));
    struct bus_metrics met;
    bus_get_metrics(b, &met);
    assert_int_equal(met.dropped, 1);
    bus_free(b);
}

static void test_long_text_truncated(void **state)
{
    (void)state;
    struct bus *b = bus_new();
    struct bus_sub *s = bus_subscribe(b, BUS_EVENT, 1, NULL, NULL);
    char big[BUS_DATA_MAX * 2];
    struct bus_msg m;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bus_publish_text(b, BUS_EVENT, 2, big);
    assert_true(bus_pop(s, &m));
    assert_int_equal(m.len, BUS_DATA_MAX - 1);
    assert_int_equal(m.data[BUS_DATA_MAX - 1], '\0');
    assert_int_equal(m.source, 2);
    bus_free(b);
}

struct pub {
    struct bus *b;
    int n;
};

static void *publisher(void *arg)
{
    struct pub *p = arg;
    for (int i = 0; i < p->n; i++)
        bus_publish_text(p->b, BUS_EVENT, -1, "e");
    return NULL;
}

static void test_concurrent_publish(void **state)
{
    (void)state;
    struct bus *b = bus_new();
    struct bus_sub *s = bus_subscribe(b, BUS_EVENT, 100000, NULL, NULL);
    struct pub p = { b, 5000 };
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, publisher, &p);
    struct bus_msg m;
    int got = 0;
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    while (bus_pop(s, &m))
        got++;
    assert_int_equal(got, 15000);
    bus_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fanout_and_filter),
        cmocka_unit_test(test_full_ring_drops_new),
        cmocka_unit_test(test_long_text_truncated),
        cmocka_unit_test(test_concurrent_publish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
