/* SPDX-License-Identifier: MIT */
/* snapshot.c — double-buffered battery-system snapshot: one reader lock, serialised writers. */
#include "bmsgw/snapshot.h"

#include "bmsgw/clock.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct watcher {
    snapshot_watch_fn fn;
    void *ctx;
};

struct snapshot {
    pthread_mutex_t lock; /* current, generation, can health */
    pthread_cond_t changed;
    pthread_mutex_t writer; /* one writer at a time; owns staging and the composer state */
    struct bmsgw_system *current;
    struct bmsgw_system *staging;
    snapshot_composer_fn composer;
    void *composer_ctx;
    pthread_rwlock_t watch_lock; /* read: callbacks in flight; write: add/remove */
    struct watcher watchers[SNAPSHOT_MAX_WATCHERS];
    int nwatchers;
};

struct snapshot *snapshot_new(void)
{
    struct snapshot *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->current = calloc(1, sizeof(*s->current));
    s->staging = calloc(1, sizeof(*s->staging));
    if (!s->current || !s->staging) {
        free(s->current);
        free(s->staging);
        free(s);
        return NULL;
    }
    clock_cond_init(&s->changed);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->writer, NULL);
    pthread_rwlock_init(&s->watch_lock, NULL);
    return s;
}

void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->writer);
    pthread_rwlock_destroy(&s->watch_lock);
    pthread_cond_destroy(&s->changed);
    free(s->current);
    free(s->staging);
    free(s);
}

void snapshot_set_composer(struct snapshot *s, snapshot_composer_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->writer);
    s->composer = fn;
    s->composer_ctx = ctx;
    pthread_mutex_unlock(&s->writer);
}

int snapshot_watch_add(struct snapshot *s, snapshot_watch_fn fn, void *ctx)
{
    int rc = -ENOSPC;
    pthread_rwlock_wrlock(&s->watch_lock);
    if (s->nwatchers < SNAPSHOT_MAX_WATCHERS) {
        s->watchers[s->nwatchers++] = (struct watcher){ .fn = fn, .ctx = ctx };
        rc = 0;
    }
    pthread_rwlock_unlock(&s->watch_lock);
    return rc;
}

void snapshot_watch_remove(struct snapshot *s, snapshot_watch_fn fn, void *ctx)
{
    pthread_rwlock_wrlock(&s->watch_lock); /* waits for callbacks in flight */
    for (int i = 0; i < s->nwatchers; i++) {
        if (s->watchers[i].fn == fn && s->watchers[i].ctx == ctx) {
            s->watchers[i] = s->watchers[--s->nwatchers];
            break;
        }
    }
    pthread_rwlock_unlock(&s->watch_lock);
}

uint64_t snapshot_copy(struct snapshot *s, struct bmsgw_system *out)
{
    pthread_mutex_lock(&s->lock);
    memcpy(out, s->current, sizeof(*out));
    pthread_mutex_unlock(&s->lock);
    return out->generation;
}

uint64_t snapshot_generation(struct snapshot *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t g = s->current->generation;
    pthread_mutex_unlock(&s->lock);
    return g;
}

uint64_t snapshot_wait(struct snapshot *s, uint64_t after_gen, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms >= 0)
        clock_deadline(&deadline, timeout_ms);
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (s->current->generation <= after_gen && rc != ETIMEDOUT) {
        if (timeout_ms < 0)
            pthread_cond_wait(&s->changed, &s->lock);
        else
            rc = pthread_cond_timedwait(&s->changed, &s->lock, &deadline);
    }
    uint64_t g = s->current->generation > after_gen ? s->current->generation : 0;
    pthread_mutex_unlock(&s->lock);
    return g;
}

/* The CAN health is the last member: the CAN thread writes it into current at any time, and
 * commit takes it from current, so the staging copy leaves it out. */
_Static_assert(offsetof(struct bmsgw_system, can) + sizeof(struct bmsgw_can_health) ==
                   sizeof(struct bmsgw_system),
               "can is the last member of struct bmsgw_system");

struct bmsgw_system *snapshot_write_begin(struct snapshot *s)
{
    pthread_mutex_lock(&s->writer);
    /* Everything before can changes only in commit, under the writer lock held here: the copy
     * needs no reader lock, so readers never wait for it. */
    memcpy(s->staging, s->current, offsetof(struct bmsgw_system, can));
    return s->staging;
}

static void notify_watchers(struct snapshot *s, uint64_t gen)
{
    pthread_rwlock_rdlock(&s->watch_lock);
    for (int i = 0; i < s->nwatchers; i++)
        s->watchers[i].fn(gen, s->watchers[i].ctx);
    pthread_rwlock_unlock(&s->watch_lock);
}

uint64_t snapshot_write_commit(struct snapshot *s, int64_t now_ms)
{
    struct bmsgw_system *next = s->staging;
    if (s->composer)
        s->composer(next, now_ms, s->composer_ctx);
    next->updated_ms = now_ms;

    pthread_mutex_lock(&s->lock);
    next->can = s->current->can; /* the CAN thread may have written since begin */
    next->generation = s->current->generation + 1;
    s->staging = s->current;
    s->current = next;
    uint64_t gen = next->generation;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);

    pthread_mutex_unlock(&s->writer);
    notify_watchers(s, gen);
    return gen;
}

void snapshot_write_abort(struct snapshot *s)
{
    pthread_mutex_unlock(&s->writer);
}

void snapshot_set_can_health(struct snapshot *s, const struct bmsgw_can_health *h)
{
    pthread_mutex_lock(&s->lock);
    s->current->can = *h;
    pthread_mutex_unlock(&s->lock);
}
