/* SPDX-License-Identifier: MIT */
/* test-can-frames.c — what the CAN thread sends on a fake link: every frame and only those,
 * silence and block on stale data, urgent sends, periods after a reload.
 *
 * What goes out "at once" is judged by the order of the frames against the thread's own schedule,
 * not by this process's clock, so a busy machine cannot make a test fail (canfake.h). */
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

static bool ccl_zero(const uint8_t *d)
{
    return (d[2] | d[3]) == 0;
}

static bool dcl_zero(const uint8_t *d)
{
    return (d[4] | d[5]) == 0;
}

static bool ccl_positive(const uint8_t *d)
{
    return !ccl_zero(d);
}

static bool dcl_positive(const uint8_t *d)
{
    return !dcl_zero(d);
}

/*
 * A change made at t_change (a lower limit) must send 0x351 at once, not at its next period. The
 * thread sends what is due in the order it falls due, 0x351 first within one pass. So the 0x351
 * carrying the change must go out before any 0x372 that falls due (0x372 keeps its own 1000 ms
 * cadence from the moment the link opened: its k-th send is never before that k-th due time) at
 * or after both t_change and the earliest an urgent 0x351 may follow the previous one
 * (CAN_SCHED_MIN_GAP_MS). That holds however late the thread runs; a 0x351 left to its period
 * comes after the 0x372 due in between. Returns the index of that 0x351.
 */
static unsigned urgent_351(struct fx *x, unsigned from, int64_t t_change,
                           bool (*pred)(const uint8_t *d))
{
    int urgent = -1, prev = -1;
    WAIT_FOR((urgent = first_with(x, from, 0x351, pred)) >= 0);
    for (int i = 0; i < urgent; i++)
        if (sent_at(x, (unsigned)i).f.id == 0x351)
            prev = i;
    assert_true(prev >= 0);
    int64_t t = sent_at(x, (unsigned)prev).t_ms + CAN_SCHED_MIN_GAP_MS;
    if (t < t_change)
        t = t_change;
    struct bmsgw_can_health h;
    struct bmsgw_config cfg;
    struct can_sched plan;
    health(x, &h);
    config_store_get(x->app.config, &cfg);
    can_sched_init(&plan, &can_proto_victron, cfg.can.period_ms,
                   h.link.since_ms); /* the thread's own plan */
    int64_t d0 = plan.due_ms[VICTRON_372], p = plan.period_ms[VICTRON_372];
    unsigned k = t > d0 ? (unsigned)((t - d0 + p - 1) / p) : 0; /* first 0x372 due from t on */
    unsigned before = count_id(x, 0, (unsigned)urgent, 0x372);
    if (before > k)
        fail_msg("0x351 waited: 0x372 #%u (due %lld ms after the change) went out before it", k + 1,
                 (long long)(d0 + (int64_t)k * p - t_change));
    return (unsigned)urgent;
}

static bool all_frames_seen(struct fx *x)
{
    bool seen[VICTRON_FRAME_COUNT] = { false };
    unsigned n = 0;
    for (unsigned i = 0; i < n_sent(x); i++) {
        const struct can_proto_frame *fr = victron_frame_by_id(sent_at(x, i).f.id);
        if (fr && fr->period_ms && !seen[fr - victron_frames]) {
            seen[fr - victron_frames] = true;
            n++;
        }
    }
    return n == VICTRON_FRAME_COUNT;
}

static bool cvl_552(const uint8_t *d)
{
    return d[0] == 0x28 && d[1] == 0x02; /* CVL 55.2 V */
}

/* Short periods, and CVL/CCL reach their targets within a step or two. */
static void fast_limits(struct bmsgw_config *c)
{
    short_periods(c);
    c->limits.cvl_slew_mv_per_s = 10000;
    c->limits.ccl_ramp_a_per_s = 1000;
}

static void test_every_frame_and_only_those(void **state)
{
    (void)state;
    struct fx *x = fx_new(fast_limits);
    fx_start(x);
    WAIT_FEEDING(x, all_frames_seen(x) && first_with(x, 0, 0x351, cvl_552) >= 0);
    /* a 0x351 with CCL 0 (the start of the ramp) says "do not charge": CVL at most 52.8 V */
    for (unsigned i = 0; i < n_sent(x); i++) {
        const uint8_t *d = sent_at(x, i).f.data;
        if (sent_at(x, i).f.id == 0x351 && (d[2] | d[3] << 8) == 0)
            assert_true((d[0] | d[1] << 8) <= 528);
    }
    for (unsigned i = 0; i < n_sent(x); i++) {
        struct sent s = sent_at(x, i);
        const struct can_proto_frame *fr = victron_frame_by_id(s.f.id);
        if (!fr || fr->period_ms == 0)
            fail_msg("frame 0x%03X is not one of the 19", s.f.id);
        assert_int_equal(s.f.dlc, 8);
    }
    int i = last_with_id(x, 0, 0x351);
    assert_true(i >= 0);
    assert_int_equal(sent_at(x, i).f.data[0], 0x28); /* CVL 55.2 V */
    assert_int_equal(sent_at(x, i).f.data[1], 0x02);
    /* the health counts every frame sent (it is published after each pass) */
    struct bmsgw_can_health h;
    unsigned n = n_sent(x);
    WAIT_FOR((health(x, &h), h.tx_frames >= n));
    assert_true(h.tx_frames <= n_sent(x));
    assert_true(h.sending);
    assert_string_equal(h.interface, "fake0");
    fx_free(x);
}

static void stale_soon(struct bmsgw_config *c)
{
    short_periods(c);
    c->bms.stale_after_ms = 500;
}

static void test_silence_on_stale_and_resume(void **state)
{
    (void)state;
    struct fx *x = fx_new(stale_soon);
    struct bmsgw_can_health h;
    fx_start(x);
    WAIT_FEEDING(x, n_sent(x) > 10 && (health(x, &h), h.sending));
    /* no more samples: stale after 500 ms, then nothing at all is sent */
    WAIT_FOR((health(x, &h), !h.sending));
    unsigned n = n_sent(x);
    wait_thread_past(x, clock_mono_ms() + 3 * 200); /* every frame falls due meanwhile */
    assert_int_equal(n_sent(x), n);
    health(x, &h);
    assert_false(h.sending);
    WAIT_FEEDING(x, n_sent(x) > n);
    fx_free(x);
}

static void block_policy(struct bmsgw_config *c)
{
    stale_soon(c);
    c->can.on_stale = CFG_STALE_BLOCK;
}

static void test_block_on_stale(void **state)
{
    (void)state;
    struct fx *x = fx_new(block_policy);
    struct bmsgw_can_health h;
    fx_start(x);
    WAIT_FEEDING(x, last_with_id(x, 0, 0x351) >= 0 && (health(x, &h), !h.blocked));
    /* no more samples: stale after 500 ms, then the block applies */
    WAIT_FOR((health(x, &h), h.blocked));
    unsigned from = n_sent(x);
    wait_thread_past(x, clock_mono_ms() + 3 * 200); /* every frame falls due meanwhile */
    int i = last_with_id(x, from, 0x351);
    assert_true(i >= 0);
    struct sent s = sent_at(x, i);
    assert_int_equal(s.f.data[2] | s.f.data[3] | s.f.data[4] | s.f.data[5], 0); /* CCL=DCL=0 */
    assert_int_equal(s.f.data[0] | s.f.data[1] << 8, 528); /* CVL = last pack voltage 52.8 V */
    i = last_with_id(x, from, 0x35A);
    assert_true(i >= 0);
    assert_int_equal(sent_at(x, i).f.data[0] & 3, 1);   /* general alarm */
    assert_int_equal(last_with_id(x, from, 0x355), -1); /* no frozen measurements */
    assert_int_equal(last_with_id(x, from, 0x356), -1);
    assert_int_equal(last_with_id(x, from, 0x373), -1);
    i = last_with_id(x, from, 0x372);
    assert_true(i >= 0);
    assert_int_equal(sent_at(x, i).f.data[0], 0); /* nothing online */
    health(x, &h);
    assert_true(h.sending && h.blocked);
    fx_free(x);
}

static void block_below_pack(struct bmsgw_config *c)
{
    block_policy(c);
    c->limits.max_cvl_v = 54.0;
}

static bool cvl_540(const uint8_t *d)
{
    return (d[0] | d[1] << 8) == 540;
}

/* Finding 4 of the safety review: block mode never raises CVL. The pack is at 55.2 V, CVL is
 * capped at 54.0 V; when the data goes stale the block sends min(last CVL, last pack voltage). */
static void test_block_never_raises_cvl(void **state)
{
    (void)state;
    struct fx *x = fx_new(block_below_pack);
    struct bmsgw_can_health h;
    for (unsigned c = 1; c <= 16; c++)
        sysgen_cell(x->tmpl, 0, c, 3450);
    x->tmpl->strings[0].pack_v = 55.2;
    fx_start(x);
    WAIT_FEEDING(x, first_with(x, 0, 0x351, cvl_540) >= 0 && (health(x, &h), !h.blocked));
    WAIT_FOR((health(x, &h), h.blocked));
    unsigned from = n_sent(x);
    wait_thread_past(x, clock_mono_ms() + 3 * 200);
    unsigned seen = 0;
    for (unsigned i = from; i < n_sent(x); i++) {
        const uint8_t *d = sent_at(x, i).f.data;
        if (sent_at(x, i).f.id != 0x351)
            continue;
        seen++;
        assert_int_equal(d[2] | d[3] | d[4] | d[5], 0);
        if ((d[0] | d[1] << 8) > 540)
            fail_msg("block mode sent CVL %.1f V above the 54.0 V sent before",
                     (d[0] | d[1] << 8) / 10.0);
    }
    assert_true(seen > 0);
    fx_free(x);
}

static void test_urgent_limit_drop_and_operator_block(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL); /* 0x351 every 1000 ms */
    fx_start(x);
    /* the limits ramp up from 0 with the samples: a 0x351 with a charge current first */
    WAIT_FEEDING(x, first_with(x, 0, 0x351, ccl_positive) >= 0);
    /* a cell over the cut-off drops CCL to 0: sent at once, not at the next period */
    unsigned from = n_sent(x);
    sysgen_cell(x->tmpl, 0, 3, 3700);
    commit(x);
    unsigned urgent = urgent_351(x, from, clock_mono_ms(), ccl_zero);
    /* the alarm goes out too (every 0x35A after that pass has it) */
    int a = -1;
    WAIT_FOR((a = last_with_id(x, urgent + 1, 0x35A)) >= 0);
    assert_int_equal(sent_at(x, (unsigned)a).f.data[0], 0xA5);

    /* an operator block applies at once, without a new sample */
    sysgen_cell(x->tmpl, 0, 3, 3300);
    commit(x);
    from = n_sent(x);
    WAIT_FEEDING(x, first_with(x, from, 0x351, dcl_positive) >= 0); /* DCL is up */
    uint64_t gen = snapshot_generation(x->app.snap);
    from = n_sent(x);
    control_set_block(x->app.control, CONTROL_DISCHARGE, true, "test", clock_mono_ms());
    urgent_351(x, from, clock_mono_ms(), dcl_zero);
    assert_int_equal(snapshot_generation(x->app.snap), gen);
    fx_free(x);
}

/* Three sends of id after index from closer together than gap_ms: a frame sent at a period of
 * gap_ms never does that (its third send is more than a period after its first). */
static bool three_within(struct fx *x, unsigned from, uint32_t id, int64_t gap_ms)
{
    int64_t t[3] = { 0, 0, 0 };
    unsigned k = 0;
    for (unsigned i = from; i < n_sent(x); i++) {
        struct sent s = sent_at(x, i);
        if (s.f.id != id)
            continue;
        t[k++ % 3] = s.t_ms;
        if (k >= 3 && s.t_ms - t[k % 3] < gap_ms)
            return true;
    }
    return false;
}

static void test_periods_follow_a_reload(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    struct bmsgw_config cfg;
    fx_start(x);
    WAIT_FEEDING(x, n_sent(x) > 0);
    config_store_get(x->app.config, &cfg);
    cfg.can.period_ms[VICTRON_35E] = 200; /* from 5000 ms */
    config_store_set(x->app.config, &cfg);
    can_service_ops.reload(&x->svc, &cfg);
    unsigned from = n_sent(x);
    WAIT_FEEDING(x, three_within(x, from, 0x35E, 5000));
    fx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_frame_and_only_those),
        cmocka_unit_test(test_silence_on_stale_and_resume),
        cmocka_unit_test(test_block_on_stale),
        cmocka_unit_test(test_block_never_raises_cvl),
        cmocka_unit_test(test_urgent_limit_drop_and_operator_block),
        cmocka_unit_test(test_periods_follow_a_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
