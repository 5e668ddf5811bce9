/* SPDX-License-Identifier: MIT */
/* clock.c — monotonic and wall clocks. */
#include "bmsgw/clock.h"

#include <errno.h>
#include <time.h>

static int64_t read_clock(clockid_t id, int64_t div)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * (1000000000 / div) + ts.tv_nsec / div;
}

int64_t clock_mono_ms(void)
{
    return read_clock(CLOCK_MONOTONIC, 1000000);
}

int64_t clock_mono_us(void)
{
    return read_clock(CLOCK_MONOTONIC, 1000);
}

int64_t clock_real_ms(void)
{
    return read_clock(CLOCK_REALTIME, 1000000);
}

static int64_t sys_mono_ms(void *ctx)
{
    (void)ctx;
    return clock_mono_ms();
}

static int64_t sys_mono_us(void *ctx)
{
    (void)ctx;
    return clock_mono_us();
}

static int64_t sys_real_ms(void *ctx)
{
    (void)ctx;
    return clock_real_ms();
}

static int sys_poll(void *ctx, struct pollfd *fds, nfds_t n, int timeout_ms)
{
    (void)ctx;
    return poll(fds, n, timeout_ms);
}

const struct bmsgw_clock clock_system = {
    .mono_ms = sys_mono_ms,
    .mono_us = sys_mono_us,
    .real_ms = sys_real_ms,
    .poll = sys_poll,
    .ctx = NULL,
};

void clock_sleep_ms(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void deadline_on(clockid_t id, struct timespec *ts, int timeout_ms)
{
    clock_gettime(id, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

void clock_deadline(struct timespec *ts, int timeout_ms)
{
    deadline_on(CLOCK_MONOTONIC, ts, timeout_ms);
}

int clock_join_ms(pthread_t thread, int timeout_ms)
{
    struct timespec ts;
    deadline_on(CLOCK_REALTIME, &ts, timeout_ms < 0 ? 0 : timeout_ms); /* what the call takes */
    return pthread_timedjoin_np(thread, NULL, &ts);
}

void clock_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &ca);
    pthread_condattr_destroy(&ca);
}
