/* SPDX-License-Identifier: MIT */
/* clock.h — the clocks, read only in the I/O shell; pure code gets time as a parameter. */
#ifndef BMSGW_CLOCK_H
#define BMSGW_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

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
