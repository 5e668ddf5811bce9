/* SPDX-License-Identifier: MIT */
/* snapshot.h — the one shared, lock-protected battery-system object. */
#ifndef BMSGW_SNAPSHOT_H
#define BMSGW_SNAPSHOT_H

#include <stdint.h>

#include "bmsgw/model.h"

/*
 * Writers (the pollers) publish whole updates: snapshot_write_begin() hands out a private
 * staging copy of the current system, the writer changes it, snapshot_write_commit() runs the
 * composer (aggregation, alarms, limits) on it and makes it current in one pointer swap.
 * Writers are serialised among themselves; the reader lock is held only for that swap and for
 * the copies readers take. Nothing slow runs under it.
 *
 * Readers copy out with snapshot_copy() and work on their copy. A reader that wants the next
 * update waits with snapshot_wait() or registers a watcher (for epoll/lws loops).
 */

struct snapshot;

/* Called on the staging system before it becomes current, with the writer lock held (never the
 * reader lock). It may keep state in ctx: only one writer runs at a time. */
typedef void (*snapshot_composer_fn)(struct bmsgw_system *staging, int64_t now_ms, void *ctx);

/* Called after every commit, outside the data locks, from the writer's thread. Must not block
 * and must not add or remove watchers. */
typedef void (*snapshot_watch_fn)(uint64_t generation, void *ctx);

#define SNAPSHOT_MAX_WATCHERS 16

/* Returns NULL on allocation failure. */
struct snapshot *snapshot_new(void);
void snapshot_free(struct snapshot *s);

/* Set before any writer starts. */
void snapshot_set_composer(struct snapshot *s, snapshot_composer_fn fn, void *ctx);

/* 0, or -ENOSPC when SNAPSHOT_MAX_WATCHERS are registered. */
int snapshot_watch_add(struct snapshot *s, snapshot_watch_fn fn, void *ctx);
/* Returns once no call of fn with ctx is in flight: ctx may be freed afterwards. */
void snapshot_watch_remove(struct snapshot *s, snapshot_watch_fn fn, void *ctx);

/* Copy the current system into *out; returns its generation. */
uint64_t snapshot_copy(struct snapshot *s, struct bmsgw_system *out);

/* Current generation without copying. */
uint64_t snapshot_generation(struct snapshot *s);

/* Wait until the generation is greater than after_gen. Returns the new generation, or 0 when
 * timeout_ms passed first (timeout_ms < 0 waits forever). */
uint64_t snapshot_wait(struct snapshot *s, uint64_t after_gen, int timeout_ms);

/* Writer side. begin never fails; exactly one of commit/abort must follow. The staging copy's
 * can member is not current: commit takes the CAN health from current (the CAN thread's). */
struct bmsgw_system *snapshot_write_begin(struct snapshot *s);
/* Makes the staging system current with generation + 1 and updated_ms = now_ms. Returns the new
 * generation. */
uint64_t snapshot_write_commit(struct snapshot *s, int64_t now_ms);
void snapshot_write_abort(struct snapshot *s);

/* The CAN thread's health, stored beside the battery data (no new generation). */
void snapshot_set_can_health(struct snapshot *s, const struct bmsgw_can_health *h);

#endif
