/* SPDX-License-Identifier: MIT */
/* bench-snapshot.c — cost of copying the full 4992-cell system out of the snapshot. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/clock.h"
#include "bmsgw/snapshot.h"

#define ROUNDS 20000

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void fill(struct bmsgw_system *sys)
{
    sys->string_count = 26;
    sys->cell_count = BMSGW_MAX_CELLS;
    sys->sensor_count = BMSGW_MAX_SENSORS;
    for (int i = 0; i < BMSGW_MAX_CELLS; i++)
        sys->cell_mv[i] = (uint16_t)(3300 + i % 50);
    for (int i = 0; i < BMSGW_MAX_SENSORS; i++)
        sys->sensor_dc[i] = (int16_t)(250 + i % 30);
}

struct writer {
    struct snapshot *s;
    atomic_bool stop;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    while (!atomic_load(&w->stop)) {
        struct bmsgw_system *sys = snapshot_write_begin(w->s);
        sys->cell_mv[0]++;
        snapshot_write_commit(w->s, clock_mono_ms());
        clock_sleep_ms(1); /* a fast poller: 1 kHz, far above the real 4 Hz */
    }
    return NULL;
}

/* p50 and p99 of n timed calls of fn, in ns. */
static void measure(const char *name, void (*fn)(void *), void *arg, int64_t *p50_out)
{
    static int64_t t[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec ts0, ts1;
        clock_gettime(CLOCK_MONOTONIC, &ts0);
        fn(arg);
        clock_gettime(CLOCK_MONOTONIC, &ts1);
        t[i] = (ts1.tv_sec - ts0.tv_sec) * 1000000000LL + (ts1.tv_nsec - ts0.tv_nsec);
    }
    qsort(t, ROUNDS, sizeof(t[0]), cmp_i64);
    printf("%-38s p50 %8lld ns   p99 %8lld ns\n", name, (long long)t[ROUNDS / 2],
           (long long)t[ROUNDS * 99 / 100]);
    *p50_out = t[ROUNDS / 2];
}

static struct bmsgw_system *g_src, *g_dst;
static struct snapshot *g_snap;

static void do_memcpy(void *arg)
{
    (void)arg;
    memcpy(g_dst, g_src, sizeof(*g_dst));
    __asm__ volatile("" ::: "memory");
}

static void do_copy(void *arg)
{
    (void)arg;
    snapshot_copy(g_snap, g_dst);
}

static void do_commit(void *arg)
{
    (void)arg;
    struct bmsgw_system *sys = snapshot_write_begin(g_snap);
    sys->cell_mv[1]++;
    snapshot_write_commit(g_snap, 1);
}

int main(void)
{
    int64_t base, copy, copy_busy, commit;
    g_src = calloc(1, sizeof(*g_src));
    g_dst = calloc(1, sizeof(*g_dst));
    g_snap = snapshot_new();
    fill(g_src);
    struct bmsgw_system *sys = snapshot_write_begin(g_snap);
    fill(sys);
    snapshot_write_commit(g_snap, 1);

    printf("system size: %zu bytes (%d cells, %d sensors, %d strings)\n", sizeof(*g_src),
           BMSGW_MAX_CELLS, BMSGW_MAX_SENSORS, BMSGW_MAX_STRINGS);
    measure("baseline: plain memcpy, no lock", do_memcpy, NULL, &base);
    measure("snapshot_copy, no writer", do_copy, NULL, &copy);
    measure("snapshot_write_begin+commit", do_commit, NULL, &commit);

    struct writer w = { .s = g_snap };
    pthread_t th;
    pthread_create(&th, NULL, writer_main, &w);
    measure("snapshot_copy, writer at 1 kHz", do_copy, NULL, &copy_busy);
    atomic_store(&w.stop, true);
    pthread_join(th, NULL);

    printf("copy / memcpy baseline: %.2fx (idle), %.2fx (with writer)\n",
           (double)copy / (double)base, (double)copy_busy / (double)base);
    snapshot_free(g_snap);
    free(g_src);
    free(g_dst);
    return 0;
}
