/* SPDX-License-Identifier: MIT */
/* can_priv.h — the CAN service's private state, shared by its thread (can_service.c) and its
 * sending logic (can_tx.c). */
#ifndef BMSGW_CAN_PRIV_H
#define BMSGW_CAN_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "bmsgw/app.h"
#include "bmsgw/can.h"
#include "bmsgw/can_out.h"

/* The thread checks the snapshot for a new generation at least this often. */
#define CAN_SNAPSHOT_POLL_MS 20
/* Bus state poll and health publication interval. */
#define CAN_TICK_MS 500

struct can_svc {
    struct service *svc;
    struct bmsgw_app *app;
    const struct bmsgw_clock *clk; /* app_clock(app): every schedule time and wait */
    const struct can_link_ops *ops;
    void *ops_ctx;
    pthread_t thread;
    int efd; /* wakes the thread: reload, stop */
    atomic_bool stop;

    const struct can_proto *proto; /* can.protocol, fixed at start */

    /* owned by the thread */
    struct bmsgw_config cfg;
    uint64_t cfg_gen;
    struct bmsgw_system *sys; /* the thread's copy */
    uint64_t sys_gen;
    int fd;
    int64_t retry_ms;   /* next open attempt */
    int backoff_ms;     /* current open/restart backoff */
    int64_t restart_ms; /* next bus-off restart attempt */
    int64_t tick_ms;
    bool ever_opened;
    bool no_bus_state;        /* the interface has no controller state (vcan): not polled */
    struct can_out_state out; /* mode, last fresh pack voltage, last CVL sent */
    struct can_sched sched;
    uint8_t last_sent[CAN_PROTO_FRAMES_MAX][CAN_PROTO_DLC]; /* of the urgent frames */
    bool have_sent[CAN_PROTO_FRAMES_MAX];
    struct bmsgw_can_health h;
};

/* can_tx.c: decide the mode and send what is due. */
void can_tx_step(struct can_svc *c, int64_t now_ms);
/* A send failed with an error that means the interface is gone (caller closes the link). */
bool can_tx_link_lost(int err);

/* can_tx.c: (re)start the schedule from the configured periods of the protocol's frames. */
void can_tx_sched_init(struct can_svc *c, int64_t now_ms);

/* can_service.c: the interface is gone (errno err): close the link, say so in the state and the
 * log, and schedule a reopen. */
void can_link_lost(struct can_svc *c, int64_t now_ms, int err);

#endif
