/* SPDX-License-Identifier: MIT */
/* publisher.h — paced, latest-wins publication of snapshot generations to one consumer. */
#ifndef BMSGW_PUBLISHER_H
#define BMSGW_PUBLISHER_H

#include <stdint.h>

#include "bmsgw/model.h"
#include "bmsgw/snapshot.h"

/*
 * What every consumer that streams the battery system (WebSocket telemetry, MQTT, ...) needs:
 * a snapshot watcher that wakes the consumer's thread on each commit, a minimum interval between
 * two messages, latest-wins (the generation handed out is always the newest at that moment: a
 * consumer that is slow or waits for the interval never works through stale generations) and a
 * hook for the consumer's stale policy.
 *
 * The consumer's thread calls publisher_next() when woken (and when the wait it was told has
 * passed); only publisher_new()/publisher_free() and the wake callback involve other threads.
 * Time comes from opts.clock (virtual time in tests), never read elsewhere.
 */

struct publisher;

typedef int64_t (*publisher_clock_fn)(void *ctx); /* monotonic milliseconds */
/* After every snapshot commit, from the writer's thread: must not block (write an eventfd,
 * lws_cancel_service(), ...). */
typedef void (*publisher_wake_fn)(void *ctx);

enum publisher_verdict {
    PUBLISHER_SEND = 0, /* hand the generation to the consumer */
    PUBLISHER_SKIP,     /* leave it out: it counts as seen, the interval does not restart */
};
/* The stale policy: called on the copy about to be handed out. */
typedef enum publisher_verdict (*publisher_stale_fn)(const struct bmsgw_system *sys, int64_t now_ms,
                                                     void *ctx);

struct publisher_opts {
    int min_interval_ms;      /* the configured interval; spacing: publisher_spacing_ms() */
    publisher_clock_fn clock; /* NULL: clock_mono_ms() */
    void *clock_ctx;
    publisher_wake_fn wake; /* NULL: no watcher (the consumer polls) */
    void *wake_ctx;
    publisher_stale_fn stale; /* NULL: every generation is sent */
    void *stale_ctx;
};

enum publisher_next {
    PUBLISHER_IDLE = 0, /* nothing newer than what was handed out */
    PUBLISHER_READY,    /* *out holds the newest generation: send it now */
    PUBLISHER_WAIT,     /* a newer generation is due in *wait_ms (call again then) */
};

/* 0, -ENOMEM, or -ENOSPC when the snapshot has no room for another watcher. */
int publisher_new(struct snapshot *snap, const struct publisher_opts *opts, struct publisher **out);
/* Removes the watcher first: once it returns, no wake callback is in flight. NULL is fine. */
void publisher_free(struct publisher *p);

/* The shortest spacing of two messages for an interval: the interval less a tolerance (a fifth,
 * at most 50 ms) for the poll's jitter, so that a poll period equal to the interval (250 ms both
 * by default) does not make every other message wait. 0 for an interval <= 0. */
int publisher_spacing_ms(int min_interval_ms);

/* A new interval (configuration reload); applies from the next call of publisher_next. */
void publisher_set_interval(struct publisher *p, int min_interval_ms);

/*
 * Is a generation due? READY copies the newest system into *out (and its generation into *gen
 * when gen is not NULL); WAIT sets *wait_ms (> 0); IDLE changes nothing. A generation the stale
 * hook skips is reported as IDLE.
 */
enum publisher_next publisher_next(struct publisher *p, struct bmsgw_system *out, uint64_t *gen,
                                   int *wait_ms);

/* Generations handed out and skipped by the stale hook since publisher_new. */
void publisher_counts(const struct publisher *p, uint64_t *sent, uint64_t *skipped);

#endif
