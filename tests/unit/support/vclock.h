/* SPDX-License-Identifier: MIT */
/* vclock.h — a virtual clock for service tests: time moves only when the test moves it. */
#ifndef BMSGW_TEST_VCLOCK_H
#define BMSGW_TEST_VCLOCK_H

#include "bmsgw/clock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A struct bmsgw_clock whose monotonic time starts at start_ms and moves only by
 * vclock_advance(). Its poll() returns when a descriptor is ready (that part is real I/O) or when
 * the virtual time has reached the timeout, so a service thread waiting for its next period waits
 * until the test has moved the clock that far, however slow the machine is.
 */
struct vclock {
    struct bmsgw_clock ops; /* hand &v->ops to the code under test */
    pthread_mutex_t mu;
    pthread_cond_t moved;
    int64_t now_us;
    int64_t real_base_ms; /* real_ms() = real_base_ms + elapsed virtual ms */
    int64_t start_us;
    uint64_t gen;      /* incremented by every vclock_advance() */
    unsigned sleepers; /* threads that went to sleep in poll() since the last advance */
};

void vclock_init(struct vclock *v, int64_t start_ms);
void vclock_destroy(struct vclock *v);

/* Move the time forward by ms (>= 0) and wake every poll() whose timeout has come. */
void vclock_advance(struct vclock *v, int64_t ms);

int64_t vclock_now_ms(struct vclock *v);

/* Wait (real time, at most real_timeout_ms) until at least n threads sleep in poll(), i.e. the
 * code under test has done what it can at this time. true when they do. */
bool vclock_wait_sleepers(struct vclock *v, unsigned n, int real_timeout_ms);

#endif
