/* SPDX-License-Identifier: MIT */
/* test-can-service.c — the CAN thread's link on a fake one: degraded start and retries, inverter
 * detection, ENOBUFS, bus-off, a lost interface. The frames it sends: test-can-frames.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/can/error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/bus.h"
#include "bmsgw/can.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/victron.h"
#include "canfake.h"
#include "sysgen.h"

static void test_missing_interface_degrades_and_retries(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    char why[160];
    x->fake.open_rc = -ENODEV;
    fx_start(x);
    WAIT_FOR(svc_state(x, why, sizeof(why)) == SERVICE_DEGRADED);
    assert_string_equal(why, "interface fake0 missing, retrying");
    WAIT_FOR(opens(x) >= 3); /* 100, 200, 400 ms backoff */
    int64_t t = clock_mono_ms();
    WAIT_FOR(progress_ms(x) > t); /* still looping (the watchdog's view) while degraded */
    pthread_mutex_lock(&x->fake.lock);
    x->fake.open_rc = 0;
    pthread_mutex_unlock(&x->fake.lock);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    fx_free(x);
}

struct can_seen {
    unsigned rx, tx;
};

static bool can_drain(struct bus_sub *sub, struct can_seen *c)
{
    struct bus_msg m;
    while (bus_pop(sub, &m)) {
        if (m.dir == BUS_DIR_RX && m.can_id == 0x307 && m.len == 8 && m.data[4] == 'V')
            c->rx++;
        if (m.dir == BUS_DIR_TX && victron_frame_by_id(m.can_id) && m.len == 8)
            c->tx++;
    }
    return c->tx > 0;
}

static void test_inverter_detected(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    struct bmsgw_can_health h;
    struct bus_sub *sub = bus_subscribe(x->app.bus, BUS_CAN, 256, NULL, NULL);
    fx_start(x);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    inject(&x->fake, (struct can_frame_io){ .id = 0x305, .dlc = 8 });
    WAIT_FOR((health(x, &h), h.last_keepalive_ms > 0));
    assert_false(h.inverter_identified);
    inject(&x->fake,
           (struct can_frame_io){ .id = 0x307, .dlc = 8, .data = { 1, 2, 0, 0, 'V', 'I', 'C' } });
    WAIT_FOR((health(x, &h), h.inverter_identified));
    assert_true(h.last_identify_ms > 0 && h.rx_frames == 2);
    /* every frame is offered to BUS_CAN subscribers (/ws/can), both directions */
    struct can_seen seen = { 0, 0 };
    WAIT_FEEDING(x, can_drain(sub, &seen));
    assert_int_equal(seen.rx, 1);
    bus_unsubscribe(x->app.bus, sub);
    fx_free(x);
}

static void test_enobufs_dropped_not_blocking(void **state)
{
    (void)state;
    struct fx *x = fx_new(short_periods);
    struct bmsgw_can_health h;
    x->fake.send_rc = -ENOBUFS;
    fx_start(x);
    WAIT_FEEDING(x, (health(x, &h), h.tx_dropped > 5));
    assert_true(h.tx_frames == 0);
    int64_t t = clock_mono_ms();
    WAIT_FOR(progress_ms(x) > t); /* the thread goes on */
    assert_int_equal(svc_state(x, NULL, 0), SERVICE_RUNNING);
    fx_free(x);
}

static void test_bus_off_restarts(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    struct bmsgw_can_health h;
    char why[160];
    fx_start(x);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    inject(&x->fake, (struct can_frame_io){ .id = CAN_ERR_BUSOFF, .dlc = 8, .error = true });
    WAIT_FOR((health(x, &h), h.restarts >= 1));
    assert_int_equal(h.bus_state, BMSGW_CAN_BUS_OFF);
    assert_int_equal(svc_state(x, why, sizeof(why)), SERVICE_DEGRADED);
    assert_string_equal(why, "fake0 bus-off");
    inject(&x->fake, (struct can_frame_io){ .id = CAN_ERR_RESTARTED, .dlc = 8, .error = true });
    WAIT_FOR((health(x, &h), h.bus_state == BMSGW_CAN_BUS_ERROR_ACTIVE));
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    assert_true(h.bus_errors == 2);
    fx_free(x);
}

static void test_interface_lost_reopens(void **state)
{
    (void)state;
    struct fx *x = fx_new(short_periods);
    char why[160];
    fx_start(x);
    WAIT_FEEDING(x, n_sent(x) > 0);
    pthread_mutex_lock(&x->fake.lock);
    x->fake.send_rc = -ENETDOWN;
    pthread_mutex_unlock(&x->fake.lock);
    WAIT_FEEDING(x, svc_state(x, why, sizeof(why)) == SERVICE_DEGRADED);
    assert_non_null(strstr(why, "interface fake0 lost"));
    pthread_mutex_lock(&x->fake.lock);
    x->fake.send_rc = 0;
    pthread_mutex_unlock(&x->fake.lock);
    int before = opens(x);
    WAIT_FEEDING(x, opens(x) > before);
    WAIT_FEEDING(x, svc_state(x, NULL, 0) == SERVICE_RUNNING);
    fx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_interface_degrades_and_retries),
        cmocka_unit_test(test_inverter_detected),
        cmocka_unit_test(test_enobufs_dropped_not_blocking),
        cmocka_unit_test(test_bus_off_restarts),
        cmocka_unit_test(test_interface_lost_reopens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
