/* SPDX-License-Identifier: MIT */
/* test-publisher.c — the publisher on virtual time: interval, latest-wins, the watcher, the stale
 * hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "bmsgw/publisher.h"

struct world {
    struct snapshot *snap;
    struct bmsgw_system *sys;
    int64_t now_ms;
    unsigned wakes;
    int stale_after_ms; /* the test's stale policy: skip when updated longer ago than this */
};

static int64_t virtual_now(void *ctx)
{
    return ((struct world *)ctx)->now_ms;
}

static void count_wake(void *ctx)
{
    ((struct world *)ctx)->wakes++;
}

static enum publisher_verdict skip_old(const struct bmsgw_system *sys, int64_t now_ms, void *ctx)
{
    const struct world *w = ctx;
    return now_ms - sys->updated_ms > w->stale_after_ms ? PUBLISHER_SKIP : PUBLISHER_SEND;
}

static uint64_t commit(struct world *w)
{
    snapshot_write_begin(w->snap);
    return snapshot_write_commit(w->snap, w->now_ms);
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    w->snap = snapshot_new();
    w->sys = malloc(sizeof(*w->sys));
    w->now_ms = 1000;
    w->stale_after_ms = 1 << 30;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    snapshot_free(w->snap);
    free(w->sys);
    free(w);
    return 0;
}

static struct publisher *make(struct world *w, int interval_ms, bool stale_hook)
{
    struct publisher *p = NULL;
    struct publisher_opts o = { .min_interval_ms = interval_ms,
                                .clock = virtual_now,
                                .clock_ctx = w,
                                .wake = count_wake,
                                .wake_ctx = w,
                                .stale = stale_hook ? skip_old : NULL,
                                .stale_ctx = w };
    assert_int_equal(publisher_new(w->snap, &o, &p), 0);
    return p;
}

static void test_spacing(void **state)
{
    (void)state;
    assert_int_equal(publisher_spacing_ms(250), 200);
    assert_int_equal(publisher_spacing_ms(100), 80);
    assert_int_equal(publisher_spacing_ms(1000), 950);
    assert_int_equal(publisher_spacing_ms(0), 0);
    assert_int_equal(publisher_spacing_ms(-5), 0);
}

static void test_interval_and_latest_wins(void **state)
{
    struct world *w = *state;
    struct publisher *p = make(w, 250, false);
    uint64_t gen = 0, sent, skipped;
    int wait = -1;
    uint64_t g1 = commit(w);
    assert_int_equal(w->wakes, 1);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
    assert_int_equal(gen, g1);
    assert_int_equal(w->sys->generation, g1);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_IDLE);

    /* three generations inside the spacing: the consumer waits, then gets only the newest */
    w->now_ms += 10;
    commit(w);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_WAIT);
    assert_int_equal(wait, 190);
    w->now_ms += 100;
    commit(w);
    uint64_t g4 = commit(w);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_WAIT);
    assert_int_equal(wait, 90);
    w->now_ms += 90;
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
    assert_int_equal(gen, g4);
    assert_int_equal(w->wakes, 4);

    /* one commit per poll period equal to the interval: never held */
    for (int i = 0; i < 8; i++) {
        w->now_ms += 250 + (i % 2 ? 30 : -30); /* the poll's jitter */
        uint64_t g = commit(w);
        assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
        assert_int_equal(gen, g);
    }
    publisher_counts(p, &sent, &skipped);
    assert_int_equal(sent, 10);
    assert_int_equal(skipped, 0);
    publisher_free(p);
}

static void test_set_interval(void **state)
{
    struct world *w = *state;
    struct publisher *p = make(w, 1000, false);
    uint64_t gen;
    int wait;
    commit(w);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
    w->now_ms += 100;
    commit(w);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_WAIT);
    assert_int_equal(wait, 850);
    publisher_set_interval(p, 0); /* every generation */
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
    commit(w);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
    publisher_free(p);
}

static void test_stale_hook(void **state)
{
    struct world *w = *state;
    struct publisher *p = make(w, 250, true);
    uint64_t gen, sent, skipped;
    int wait;
    w->stale_after_ms = 500;
    commit(w);
    w->now_ms += 600; /* the data is older than the policy allows by the time we look */
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_IDLE);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_IDLE); /* seen */
    /* a skip does not restart the interval: fresh data goes out at once */
    uint64_t g = commit(w);
    assert_int_equal(publisher_next(p, w->sys, &gen, &wait), PUBLISHER_READY);
    assert_int_equal(gen, g);
    publisher_counts(p, &sent, &skipped);
    assert_int_equal(sent, 1);
    assert_int_equal(skipped, 1);
    publisher_free(p);
}

static void test_free_removes_the_watcher(void **state)
{
    struct world *w = *state;
    struct publisher *p = make(w, 250, false);
    commit(w);
    assert_int_equal(w->wakes, 1);
    publisher_free(p);
    commit(w);
    assert_int_equal(w->wakes, 1);
    publisher_free(NULL);
    /* without a wake callback there is no watcher to take a slot */
    struct publisher *many[SNAPSHOT_MAX_WATCHERS + 1];
    struct publisher_opts o = { .min_interval_ms = 250 };
    for (unsigned i = 0; i <= SNAPSHOT_MAX_WATCHERS; i++)
        assert_int_equal(publisher_new(w->snap, &o, &many[i]), 0);
    for (unsigned i = 0; i <= SNAPSHOT_MAX_WATCHERS; i++)
        publisher_free(many[i]);
    /* with one, the snapshot's limit is reported */
    o.wake = count_wake;
    o.wake_ctx = w;
    for (unsigned i = 0; i < SNAPSHOT_MAX_WATCHERS; i++)
        assert_int_equal(publisher_new(w->snap, &o, &many[i]), 0);
    struct publisher *extra = (struct publisher *)1;
    assert_int_equal(publisher_new(w->snap, &o, &extra), -ENOSPC);
    assert_null(extra);
    for (unsigned i = 0; i < SNAPSHOT_MAX_WATCHERS; i++)
        publisher_free(many[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spacing),
        cmocka_unit_test_setup_teardown(test_interval_and_latest_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_removes_the_watcher, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
