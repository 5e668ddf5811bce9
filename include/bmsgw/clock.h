/* SPDX-License-Identifier: MIT */
/* clock.h — the clocks, read only in the I/O shell; pure code gets time as a parameter. */
#ifndef BMSGW_CLOCK_H
#define BMSGW_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds / microseconds: ages, periods, timeouts. */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

/* CLOCK_REALTIME in milliseconds since the epoch: only for timestamps shown to people. */
int64_t clock_real_ms(void);

/* Sleep for ms milliseconds (restarted after signals). */
void clock_sleep_ms(int64_t ms);

#endif
