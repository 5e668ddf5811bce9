/* SPDX-License-Identifier: MIT */
/* test-snapshot.c — copy-out, waiting for generations, watchers, and no torn reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/clock.h"
#include "bmsgw/snapshot.h"

static void test_initial_state(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    struct bmsgw_system *sys = malloc(sizeof(*sys));
    assert_non_null(s);
    assert_int_equal(snapshot_copy(s, sys), 0);
    assert_int_equal(sys->string_count, 0);
    assert_int_equal(snapshot_generation(s), 0);
    free(sys);
    snapshot_free(s);
}

static void test_commit_bumps_generation(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    struct bmsgw_system *out = malloc(sizeof(*out));
    struct bmsgw_system *w = snapshot_write_begin(s);
    w->cell_mv[7] = 3300;
    assert_int_equal(snapshot_write_commit(s, 1234), 1);
    assert_int_equal(snapshot_copy(s, out), 1);
    assert_int_equal(out->cell_mv[7], 3300);
    assert_int_equal(out->updated_ms, 1234);

    /* a second writer starts from the current data, not from a stale buffer */
    w = snapshot_write_begin(s);
    assert_int_equal(w->cell_mv[7], 3300);
    w->cell_mv[8] = 3301;
    snapshot_write_commit(s, 1300);
    snapshot_copy(s, out);
    assert_int_equal(out->cell_mv[7], 3300);
    assert_int_equal(out->cell_mv[8], 3301);
    assert_int_equal(out->generation, 2);
    free(out);
    snapshot_free(s);
}

static void test_abort_changes_nothing(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    struct bmsgw_system *out = malloc(sizeof(*out));
    struct bmsgw_system *w = snapshot_write_begin(s);
    w->cell_mv[0] = 999;
    snapshot_write_abort(s);
    assert_int_equal(snapshot_copy(s, out), 0);
    assert_int_equal(out->cell_mv[0], 0);
    free(out);
    snapshot_free(s);
}

static void composer_mark(struct bmsgw_system *sys, int64_t now_ms, void *ctx)
{
    (*(int *)ctx)++;
    sys->limits.computed_ms = now_ms;
}

static void test_composer_runs_on_commit(void **state)
{
    (void)state;
    int calls = 0;
    struct snapshot *s = snapshot_new();
    struct bmsgw_system *out = malloc(sizeof(*out));
    snapshot_set_composer(s, composer_mark, &calls);
    snapshot_write_begin(s);
    snapshot_write_commit(s, 42);
    snapshot_copy(s, out);
    assert_int_equal(calls, 1);
    assert_int_equal(out->limits.computed_ms, 42);
    free(out);
    snapshot_free(s);
}

static void test_can_health_survives_commits(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    struct bmsgw_system *out = malloc(sizeof(*out));
    struct bmsgw_can_health h = { .tx_frames = 77 };
    snapshot_write_begin(s);
    snapshot_set_can_health(s, &h); /* written between a writer's begin and commit */
    snapshot_write_commit(s, 1);
    snapshot_copy(s, out);
    assert_int_equal(out->can.tx_frames, 77);
    assert_int_equal(snapshot_generation(s), 1);
    free(out);
    snapshot_free(s);
}

static void test_wait_times_out(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    int64_t t0 = clock_mono_ms();
    assert_int_equal(snapshot_wait(s, 0, 50), 0);
    assert_true(clock_mono_ms() - t0 >= 45);
    snapshot_free(s);
}

static void *delayed_commit(void *arg)
{
    clock_sleep_ms(30);
    snapshot_write_begin(arg);
    snapshot_write_commit(arg, 5);
    return NULL;
}

static void test_wait_wakes_on_commit(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    pthread_t th;
    pthread_create(&th, NULL, delayed_commit, s);
    assert_int_equal(snapshot_wait(s, 0, 30000), 1); /* a give-up limit: it returns on the commit */
    pthread_join(th, NULL);
    /* already newer: returns at once */
    assert_int_equal(snapshot_wait(s, 0, 0), 1);
    snapshot_free(s);
}

static void watch_count(uint64_t gen, void *ctx)
{
    *(uint64_t *)ctx = gen;
}

static void test_watchers(void **state)
{
    (void)state;
    uint64_t seen = 0;
    struct snapshot *s = snapshot_new();
    assert_int_equal(snapshot_watch_add(s, watch_count, &seen), 0);
    snapshot_write_begin(s);
    snapshot_write_commit(s, 1);
    assert_int_equal(seen, 1);
    snapshot_watch_remove(s, watch_count, &seen);
    snapshot_write_begin(s);
    snapshot_write_commit(s, 2);
    assert_int_equal(seen, 1);
    for (int i = 0; i < SNAPSHOT_MAX_WATCHERS; i++)
        assert_int_equal(snapshot_watch_add(s, watch_count, &seen), 0);
    assert_int_equal(snapshot_watch_add(s, watch_count, &seen), -ENOSPC);
    snapshot_free(s);
}

struct slow_watch {
    atomic_bool entered;
    atomic_bool finished;
};

static void watch_slow(uint64_t gen, void *ctx)
{
    struct slow_watch *w = ctx;
    (void)gen;
    atomic_store(&w->entered, true);
    clock_sleep_ms(80);
    atomic_store(&w->finished, true);
}

static void *commit_once(void *arg)
{
    snapshot_write_begin(arg);
    snapshot_write_commit(arg, 1);
    return NULL;
}

/* A watcher's context may be freed once remove returns: remove waits for a call in flight. */
static void test_watch_remove_waits_for_callback(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    struct slow_watch w = { false, false };
    pthread_t th;
    snapshot_watch_add(s, watch_slow, &w);
    pthread_create(&th, NULL, commit_once, s);
    while (!atomic_load(&w.entered))
        clock_sleep_ms(1);
    snapshot_watch_remove(s, watch_slow, &w);
    assert_true(atomic_load(&w.finished));
    pthread_join(th, NULL);
    snapshot_free(s);
}

/*
 * Torn-read test: the writer makes every update internally consistent (all cells, sensors,
 * string values and the aggregate carry the same stamp derived from the generation); readers
 * check that every copy is consistent. Run under ThreadSanitizer in the test command.
 */
#define READERS 4
#define UPDATES 3000
#define OVERLAP 1000 /* copies made while the writer writes, at least */

struct torn {
    struct snapshot *s;
    atomic_int started;
    atomic_bool done;
    atomic_int bad;
    atomic_long copies;
};

static void write_stamp(struct bmsgw_system *sys, uint16_t stamp)
{
    sys->string_count = 3;
    sys->cell_count = BMSGW_MAX_CELLS;
    for (int i = 0; i < BMSGW_MAX_CELLS; i++)
        sys->cell_mv[i] = stamp;
    for (int i = 0; i < BMSGW_MAX_SENSORS; i++)
        sys->sensor_dc[i] = (int16_t)(stamp & 0x7fff);
    for (int i = 0; i < 3; i++) {
        sys->strings[i].pack_v = stamp;
        sys->strings[i].soc_pct = stamp;
    }
    sys->agg.max_cell_mv = stamp;
}

static bool consistent(const struct bmsgw_system *sys)
{
    uint16_t stamp = sys->cell_mv[0];
    if (sys->generation && stamp != (uint16_t)(sys->generation * 7))
        return false;
    for (int i = 0; i < BMSGW_MAX_CELLS; i++)
        if (sys->cell_mv[i] != stamp)
            return false;
    for (int i = 0; i < BMSGW_MAX_SENSORS; i++)
        if (sys->sensor_dc[i] != (int16_t)(stamp & 0x7fff))
            return false;
    for (int i = 0; i < 3 && sys->generation; i++)
        if (sys->strings[i].pack_v != stamp || sys->strings[i].soc_pct != stamp)
            return false;
    return sys->agg.max_cell_mv == stamp;
}

static void *torn_reader(void *arg)
{
    struct torn *t = arg;
    struct bmsgw_system *copy = malloc(sizeof(*copy));
    uint64_t last = 0;
    atomic_fetch_add(&t->started, 1);
    while (!atomic_load(&t->done)) {
        uint64_t g = snapshot_copy(t->s, copy);
        if (!consistent(copy) || g < last)
            atomic_fetch_add(&t->bad, 1);
        last = g;
        atomic_fetch_add(&t->copies, 1);
        if ((atomic_load(&t->copies) & 7) == 0)
            snapshot_wait(t->s, g, 2);
    }
    free(copy);
    return NULL;
}

static void test_no_torn_reads(void **state)
{
    (void)state;
    struct torn t = { .s = snapshot_new() };
    pthread_t r[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&r[i], NULL, torn_reader, &t);
    /* write while every reader copies, and until they made OVERLAP copies meanwhile (however the
     * threads are scheduled: the writer may finish its updates before a reader ran at all) */
    int64_t give_up = clock_mono_ms() + 60000;
    while (atomic_load(&t.started) < READERS && clock_mono_ms() < give_up)
        clock_sleep_ms(1);
    atomic_store(&t.copies, 0);
    uint64_t gen = 0;
    while (gen < UPDATES || (atomic_load(&t.copies) < OVERLAP && clock_mono_ms() < give_up)) {
        gen++;
        struct bmsgw_system *w = snapshot_write_begin(t.s);
        write_stamp(w, (uint16_t)(gen * 7));
        snapshot_write_commit(t.s, (int64_t)gen);
    }
    atomic_store(&t.done, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(atomic_load(&t.bad), 0);
    assert_true(atomic_load(&t.copies) >= OVERLAP);
    assert_int_equal(snapshot_generation(t.s), gen);
    snapshot_free(t.s);
}

/* The same check must catch a torn copy: a deliberately half-written system is rejected. */
static void test_torn_detector_detects(void **state)
{
    (void)state;
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    sys->generation = 2;
    write_stamp(sys, 14);
    assert_true(consistent(sys));
    sys->cell_mv[BMSGW_MAX_CELLS - 1] = 7;
    assert_false(consistent(sys));
    free(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_state),
        cmocka_unit_test(test_commit_bumps_generation),
        cmocka_unit_test(test_abort_changes_nothing),
        cmocka_unit_test(test_composer_runs_on_commit),
        cmocka_unit_test(test_can_health_survives_commits),
        cmocka_unit_test(test_wait_times_out),
        cmocka_unit_test(test_wait_wakes_on_commit),
        cmocka_unit_test(test_watchers),
        cmocka_unit_test(test_watch_remove_waits_for_callback),
        cmocka_unit_test(test_torn_detector_detects),
        cmocka_unit_test(test_no_torn_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
