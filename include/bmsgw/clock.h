/* SPDX-License-Identifier: MIT */
/* clock.h — the clocks, read only in the I/O shell; pure code gets time as a parameter. */
#ifndef BMSGW_CLOCK_H
#define BMSGW_CLOCK_H

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

/*
 * The clocks a service schedules by, as ops: the daemon hands every service clock_system through
 * the app struct (app_clock()), a test hands a virtual clock whose time moves only when the test
 * moves it. Every schedule time (periods, backoff, staleness) is read and every scheduled wait is
 * done through it; timing on a wire (a serial frame's bytes) stays on the real clock.
 */
struct bmsgw_clock {
    int64_t (*mono_ms)(void *ctx); /* monotonic milliseconds */
    int64_t (*mono_us)(void *ctx); /* monotonic microseconds */
    int64_t (*real_ms)(void *ctx); /* wall clock, ms since the epoch */
    /* poll(2) with the timeout counted in this clock's time (< 0 = no timeout). */
    int (*poll)(void *ctx, struct pollfd *fds, nfds_t n, int timeout_ms);
    void *ctx;
};

/* The real clocks (CLOCK_MONOTONIC, CLOCK_REALTIME, poll(2)). */
extern const struct bmsgw_clock clock_system;

static inline int64_t bmsgw_clock_ms(const struct bmsgw_clock *c)
{
    return c->mono_ms(c->ctx);
}

static inline int64_t bmsgw_clock_us(const struct bmsgw_clock *c)
{
    return c->mono_us(c->ctx);
}

static inline int64_t bmsgw_clock_real_ms(const struct bmsgw_clock *c)
{
    return c->real_ms(c->ctx);
}

static inline int bmsgw_clock_poll(const struct bmsgw_clock *c, struct pollfd *fds, nfds_t n,
                                   int timeout_ms)
{
    return c->poll(c->ctx, fds, n, timeout_ms);
}

/* CLOCK_MONOTONIC in milliseconds / microseconds: ages, periods, timeouts. */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

/* CLOCK_REALTIME in milliseconds since the epoch: only for timestamps shown to people. */
int64_t clock_real_ms(void);

/* Absolute CLOCK_MONOTONIC deadline timeout_ms from now, for pthread_cond_timedwait on a
 * condition variable made by clock_cond_init(). */
void clock_deadline(struct timespec *ts, int timeout_ms);

/* Join thread, waiting at most timeout_ms (< 0 counts as 0): 0, or ETIMEDOUT when it is still
 * running (it can be joined later). */
int clock_join_ms(pthread_t thread, int timeout_ms);

/* Initialise a condition variable that waits on CLOCK_MONOTONIC. */
void clock_cond_init(pthread_cond_t *cond);

/* Sleep for ms milliseconds (restarted after signals). */
void clock_sleep_ms(int64_t ms);

#endif
