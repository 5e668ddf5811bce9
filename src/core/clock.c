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

void clock_sleep_ms(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}
