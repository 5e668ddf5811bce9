/* SPDX-License-Identifier: MIT */
/* canfake.h — the CAN service tests' fake link (records sends, serves injected frames, fails on
 * demand) and the fixture around the real CAN thread: snapshot, composer, bus, control.
 *
 * Nothing here depends on how fast the machine is or how busy: a test waits for what the thread
 * does (WAIT_FOR: WAIT_MS is a give-up limit, not a measurement), and a window of "nothing
 * happens" is counted in the thread's own loop time (wait_thread_past()). */
#ifndef BMSGW_TEST_CANFAKE_H
#define BMSGW_TEST_CANFAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/app.h"
#include "bmsgw/can.h"
#include "bmsgw/clock.h"
#include "bmsgw/compose.h"
#include "bmsgw/service.h"

#define MAX_SENT 20000
#define WAIT_MS  30000

struct sent {
    int64_t t_ms;
    struct can_frame_io f;
};

/* The fake link: records sends, serves injected frames, fails on demand. */
struct fake {
    pthread_mutex_t lock;
    const struct bmsgw_clock *clk; /* what sends and opens are stamped by: the app's clock */
    int efd;                       /* readable while rx frames wait */
    int open_rc;
    int send_rc;
    int opens;
    int64_t open_ms[32]; /* the first 32 opens */
    int restarts;
    unsigned n_sent;
    struct sent sent[MAX_SENT];
    unsigned n_rx, rx_pos;
    struct can_frame_io rx[16];
};

extern const struct can_link_ops canfake_ops;

/* Queue a frame for the thread to receive. */
void inject(struct fake *k, struct can_frame_io f);

struct fx {
    struct fake fake;
    struct bmsgw_app app;
    struct composer comp;
    struct service svc;
    struct bmsgw_system *tmpl;
    bool started;
};

/* A tune for fx_new(): every frame every 200 ms. */
void short_periods(struct bmsgw_config *c);
/* Poll every 100 ms, stale after 60 s (unless tune changes it), restart backoff 100..1000 ms. */
struct fx *fx_new(void (*tune)(struct bmsgw_config *));
void fx_start(struct fx *x);
void fx_free(struct fx *x);
/* Publish the template as a fresh sample. */
void commit(struct fx *x);
unsigned n_sent(struct fx *x);
struct sent sent_at(struct fx *x, unsigned i);
/* The newest frame with id sent at or after index from; returns its index or -1. */
int last_with_id(struct fx *x, unsigned from, uint32_t id);
/* The first frame with id from index from on whose payload pred accepts, or -1. */
int first_with(struct fx *x, unsigned from, uint32_t id, bool (*pred)(const uint8_t *d));
/* Frames with id at indexes from..to-1. */
unsigned count_id(struct fx *x, unsigned from, unsigned to, uint32_t id);
int opens(struct fx *x);
void health(struct fx *x, struct bmsgw_can_health *h);
enum service_state svc_state(struct fx *x, char *why, size_t size);
/* Start of the thread's newest loop pass (service_progress()). */
int64_t progress_ms(struct fx *x);
/* Wait until the thread has finished a loop pass it began after t: whatever was due before t has
 * then been decided, however late it ran. */
void wait_thread_past(struct fx *x, int64_t t);

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int64_t end_ = clock_mono_ms() + WAIT_MS;                                                  \
        while (!(cond) && clock_mono_ms() < end_)                                                  \
            clock_sleep_ms(10);                                                                    \
        if (!(cond))                                                                               \
            fail_msg("timed out waiting for " #cond);                                              \
    } while (0)

/* The same, committing fresh samples every 100 ms meanwhile (the data must not go stale). */
#define WAIT_FEEDING(x, cond)                                                                      \
    do {                                                                                           \
        int64_t end_ = clock_mono_ms() + WAIT_MS;                                                  \
        while (!(cond) && clock_mono_ms() < end_) {                                                \
            commit(x);                                                                             \
            for (int k_ = 0; k_ < 10 && !(cond); k_++)                                             \
                clock_sleep_ms(10);                                                                \
        }                                                                                          \
        if (!(cond))                                                                               \
            fail_msg("timed out waiting for " #cond);                                              \
    } while (0)

#endif
