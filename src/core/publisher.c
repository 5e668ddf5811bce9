/* SPDX-License-Identifier: MIT */
/* publisher.c — snapshot watcher, minimum interval and latest-wins for one consumer. */
#include "bmsgw/publisher.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bmsgw/clock.h"

struct publisher {
    struct snapshot *snap;
    struct publisher_opts o;
    int spacing_ms;
    bool watching;
    bool sent_any;
    uint64_t seen_gen; /* handed out or skipped */
    int64_t sent_ms;   /* when the last one was handed out */
    uint64_t sent, skipped;
};

static void on_commit(uint64_t generation, void *ctx)
{
    struct publisher *p = ctx;
    (void)generation;
    p->o.wake(p->o.wake_ctx);
}

static int64_t now_ms(const struct publisher *p)
{
    return p->o.clock ? p->o.clock(p->o.clock_ctx) : clock_mono_ms();
}

int publisher_spacing_ms(int min_interval_ms)
{
    if (min_interval_ms <= 0)
        return 0;
    int tol = min_interval_ms / 5;
    return min_interval_ms - (tol < 50 ? tol : 50);
}

int publisher_new(struct snapshot *snap, const struct publisher_opts *opts, struct publisher **out)
{
    struct publisher *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        return -ENOMEM;
    p->snap = snap;
    p->o = *opts;
    p->spacing_ms = publisher_spacing_ms(opts->min_interval_ms);
    if (p->o.wake) {
        int rc = snapshot_watch_add(snap, on_commit, p);
        if (rc) {
            free(p);
            return rc;
        }
        p->watching = true;
    }
    *out = p;
    return 0;
}

void publisher_free(struct publisher *p)
{
    if (!p)
        return;
    if (p->watching)
        snapshot_watch_remove(p->snap, on_commit, p);
    free(p);
}

void publisher_set_interval(struct publisher *p, int min_interval_ms)
{
    p->o.min_interval_ms = min_interval_ms;
    p->spacing_ms = publisher_spacing_ms(min_interval_ms);
}

enum publisher_next publisher_next(struct publisher *p, struct bmsgw_system *out, uint64_t *gen,
                                   int *wait_ms)
{
    if (snapshot_generation(p->snap) == p->seen_gen)
        return PUBLISHER_IDLE;
    int64_t now = now_ms(p);
    int64_t wait = p->sent_any ? p->sent_ms + p->spacing_ms - now : 0;
    if (wait > 0) {
        *wait_ms = wait > INT32_MAX ? INT32_MAX : (int)wait;
        return PUBLISHER_WAIT;
    }
    /* latest wins: whatever is current now, not the generation that woke us */
    uint64_t g = snapshot_copy(p->snap, out);
    p->seen_gen = g;
    if (p->o.stale && p->o.stale(out, now, p->o.stale_ctx) == PUBLISHER_SKIP) {
        p->skipped++;
        return PUBLISHER_IDLE;
    }
    p->sent_any = true;
    p->sent_ms = now;
    p->sent++;
    if (gen)
        *gen = g;
    return PUBLISHER_READY;
}

void publisher_counts(const struct publisher *p, uint64_t *sent, uint64_t *skipped)
{
    *sent = p->sent;
    *skipped = p->skipped;
}
