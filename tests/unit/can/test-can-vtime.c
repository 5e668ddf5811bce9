/* SPDX-License-Identifier: MIT */
/* test-can-vtime.c — the CAN thread on the virtual clock: every frame of the protocol table at
 * exactly its period, the stale policy at exactly bms.stale_after_ms (silence and block), and the
 * interface retries at exactly the doubling backoff. Time moves only when the test moves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/can.h"
#include "bmsgw/can_proto.h"
#include "bmsgw/config_store.h"
#include "bmsgw/snapshot.h"
#include "canfake.h"
#include "sysgen.h"
#include "vclock.h"

#define STEP_MS  10
#define START_MS 1000000

static struct vclock vc;

static struct fx *start(void (*tune)(struct bmsgw_config *), bool fresh)
{
    vclock_init(&vc, START_MS);
    struct fx *x = fx_new(tune);
    x->app.clock = &vc.ops;
    if (fresh)
        commit(x);
    fx_start(x);
    return x;
}

static void finish(struct fx *x)
{
    fx_free(x);
    vclock_destroy(&vc);
}

/* Let the CAN thread do what it can at this time, then move the clock by ms in steps; with
 * feed, a fresh sample every 100 ms. */
static void run_for(struct fx *x, int64_t ms, bool feed)
{
    assert_true(vclock_wait_sleepers(&vc, 1, WAIT_MS));
    for (int64_t done = 0; done < ms; done += STEP_MS) {
        if (feed && done % 100 == 0)
            commit(x);
        vclock_advance(&vc, STEP_MS);
        assert_true(vclock_wait_sleepers(&vc, 1, WAIT_MS));
    }
}

static const struct can_proto *proto(void)
{
    return can_proto_find("victron");
}

/* Fresh data for 20 s: each frame of the table goes out at exactly its period. */
static void test_every_frame_at_its_period(void **state)
{
    (void)state;
    struct fx *x = start(NULL, true);
    run_for(x, 20000, true);
    const struct can_proto *p = proto();
    assert_non_null(p);
    for (unsigned f = 0; f < p->n_frames; f++) {
        uint32_t id = p->frames[f].id;
        int per = p->frames[f].period_ms;
        if (p->frames[f].max_period_ms && per > p->frames[f].max_period_ms)
            per = p->frames[f].max_period_ms;
        int64_t prev = -1;
        unsigned n = 0;
        for (unsigned i = 0; i < n_sent(x); i++) {
            struct sent s = sent_at(x, i);
            if (s.f.id != id)
                continue;
            if (prev >= 0 && s.t_ms - prev != per)
                fail_msg("0x%03X sent %lld ms after the one before, its period is %d ms", id,
                         (long long)(s.t_ms - prev), per);
            prev = s.t_ms;
            n++;
        }
        if (n < (unsigned)(20000 / per))
            fail_msg("0x%03X sent %u times in 20 s, its period is %d ms", id, n, per);
    }
    finish(x);
}

static void stale_2s(struct bmsgw_config *c)
{
    c->bms.stale_after_ms = 2000;
}

static void stale_2s_block(struct bmsgw_config *c)
{
    c->bms.stale_after_ms = 2000;
    c->can.on_stale = CFG_STALE_BLOCK;
}

/* One sample, then nothing: frames go on while it is 2000 ms old and stop after that. */
static void test_silence_exactly_when_stale(void **state)
{
    (void)state;
    struct fx *x = start(stale_2s, true);
    run_for(x, 6000, false);
    int64_t last = 0;
    for (unsigned i = 0; i < n_sent(x); i++)
        if (sent_at(x, i).t_ms > last)
            last = sent_at(x, i).t_ms;
    /* 0x351 is due at every whole second from the start: at 2000 ms the sample is 2000 ms old,
     * not older, and still fresh */
    assert_int_equal(last, START_MS + 2000);
    struct bmsgw_can_health h;
    health(x, &h);
    assert_false(h.sending);
    finish(x);
}

static unsigned u16_at(const uint8_t *d, unsigned at)
{
    return (unsigned)d[at] | (unsigned)d[at + 1] << 8;
}

/* With on_stale = block: after 2000 ms the limits go on with CCL = DCL = 0 and the measurement
 * frames stop; until then they go out. */
static void test_block_exactly_when_stale(void **state)
{
    (void)state;
    struct fx *x = start(stale_2s_block, true);
    run_for(x, 6000, false);
    const struct can_proto *p = proto();
    unsigned blocked = 0, before = 0;
    for (unsigned i = 0; i < n_sent(x); i++) {
        struct sent s = sent_at(x, i);
        int f = can_proto_index(p, s.f.id);
        assert_true(f >= 0);
        bool stale = s.t_ms > START_MS + 2000;
        if (stale && p->frames[f].measurement)
            fail_msg("measurement frame 0x%03X sent %lld ms after the sample", s.f.id,
                     (long long)(s.t_ms - START_MS));
        if (!stale && s.f.id == 0x356)
            before++;
        if (s.f.id != 0x351 || !stale)
            continue;
        assert_int_equal(u16_at(s.f.data, 2), 0); /* CCL */
        assert_int_equal(u16_at(s.f.data, 4), 0); /* DCL */
        blocked++;
    }
    assert_true(before >= 2);  /* the measurements went out while the sample was fresh */
    assert_true(blocked >= 3); /* one a second from 2 s to 6 s */
    struct bmsgw_can_health h;
    health(x, &h);
    assert_true(h.sending && h.blocked);
    finish(x);
}

/* A missing interface is retried after can.restart_min_ms, then twice as long each time, up to
 * can.restart_max_ms (100 and 1000 ms in the fixture). */
static void test_interface_retries_double(void **state)
{
    (void)state;
    vclock_init(&vc, START_MS);
    struct fx *x = fx_new(NULL);
    x->app.clock = &vc.ops;
    x->fake.open_rc = -ENODEV;
    fx_start(x);
    run_for(x, 100 + 200 + 400 + 800 + 1000 + 1000 + 5, true);
    static const int gaps[] = { 100, 200, 400, 800, 1000, 1000 };
    pthread_mutex_lock(&x->fake.lock);
    int n = x->fake.opens;
    int64_t t[8];
    memcpy(t, x->fake.open_ms, sizeof(t));
    pthread_mutex_unlock(&x->fake.lock);
    assert_int_equal(n, 7);
    for (int i = 0; i < 6; i++)
        if (t[i + 1] - t[i] != gaps[i])
            fail_msg("retry %d came %lld ms after the one before, expected %d", i + 1,
                     (long long)(t[i + 1] - t[i]), gaps[i]);
    finish(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_frame_at_its_period),
        cmocka_unit_test(test_silence_exactly_when_stale),
        cmocka_unit_test(test_block_exactly_when_stale),
        cmocka_unit_test(test_interface_retries_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
