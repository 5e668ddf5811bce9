/* SPDX-License-Identifier: MIT */
/* vclock.c — the virtual clock of vclock.h. */
#include "vclock.h"

#include <errno.h>

static int64_t v_mono_us(void *ctx)
{
    struct vclock *v = ctx;
    pthread_mutex_lock(&v->mu);
    int64_t t = v->now_us;
    pthread_mutex_unlock(&v->mu);
    return t;
}

static int64_t v_mono_ms(void *ctx)
{
    return v_mono_us(ctx) / 1000;
}

static int64_t v_real_ms(void *ctx)
{
    struct vclock *v = ctx;
    return v->real_base_ms + (v_mono_us(ctx) - v->start_us) / 1000;
}

/* Real I/O readiness, virtual timeout: look at the descriptors every few real milliseconds and
 * between two looks sleep until the clock moves. */
static int v_poll(void *ctx, struct pollfd *fds, nfds_t n, int timeout_ms)
{
    struct vclock *v = ctx;
    pthread_mutex_lock(&v->mu);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : v->now_us + (int64_t)timeout_ms * 1000;
    pthread_mutex_unlock(&v->mu);
    for (;;) {
        int r = poll(fds, n, 0);
        if (r != 0)
            return r;
        pthread_mutex_lock(&v->mu);
        if (v->now_us >= deadline) {
            pthread_mutex_unlock(&v->mu);
            return 0;
        }
        /* Counted as asleep until the time moves (vclock_advance resets the count) */
        uint64_t gen = v->gen;
        v->sleepers++;
        struct timespec ts;
        clock_deadline(&ts, 2);
        int e = pthread_cond_timedwait(&v->moved, &v->mu, &ts);
        if (v->gen == gen)
            v->sleepers--;
        pthread_mutex_unlock(&v->mu);
        if (e && e != ETIMEDOUT)
            return -1;
    }
}

void vclock_init(struct vclock *v, int64_t start_ms)
{
    pthread_mutex_init(&v->mu, NULL);
    clock_cond_init(&v->moved);
    v->start_us = v->now_us = start_ms * 1000;
    v->real_base_ms = 1767225600000; /* 2026-01-01T00:00:00Z: fixed, so outputs repeat */
    v->sleepers = 0;
    v->gen = 0;
    v->ops = (struct bmsgw_clock){
        .mono_ms = v_mono_ms,
        .mono_us = v_mono_us,
        .real_ms = v_real_ms,
        .poll = v_poll,
        .ctx = v,
    };
}

void vclock_destroy(struct vclock *v)
{
    pthread_cond_destroy(&v->moved);
    pthread_mutex_destroy(&v->mu);
}

void vclock_advance(struct vclock *v, int64_t ms)
{
    pthread_mutex_lock(&v->mu);
    if (ms > 0)
        v->now_us += ms * 1000;
    v->gen++;
    v->sleepers = 0; /* who sleeps from now on has seen the new time */
    pthread_cond_broadcast(&v->moved);
    pthread_mutex_unlock(&v->mu);
}

int64_t vclock_now_ms(struct vclock *v)
{
    return v_mono_ms(v);
}

bool vclock_wait_sleepers(struct vclock *v, unsigned n, int real_timeout_ms)
{
    int64_t end = clock_mono_ms() + real_timeout_ms;
    for (;;) {
        pthread_mutex_lock(&v->mu);
        unsigned s = v->sleepers;
        pthread_mutex_unlock(&v->mu);
        if (s >= n)
            return true;
        if (clock_mono_ms() >= end)
            return false;
        clock_sleep_ms(1);
    }
}
