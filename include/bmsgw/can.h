/* SPDX-License-Identifier: MIT */
/* can.h — the CAN service: scheduler, SocketCAN link, the service thread. */
#ifndef BMSGW_CAN_H
#define BMSGW_CAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/can_proto.h"
#include "bmsgw/model.h"
#include "bmsgw/service.h"

/*
 * The service "can" speaks the protocol of can.protocol (can_proto.h) on can.interface: it sends
 * each frame of the protocol's table at its period, spread over the shortest period; an urgent
 * frame (Victron: 0x351 when a limit drops, 0x35A when an alarm or warning is raised) goes out at
 * once (at most one per CAN_SCHED_MIN_GAP_MS). It never blocks: a frame the kernel refuses
 * (ENOBUFS, EAGAIN) is dropped and counted. What is sent is decided by can_out.h: on stale data
 * (no string fresh, or limits that are not valid) can.on_stale applies: "silence" sends nothing;
 * "block" sends the limits frame with CCL = DCL = 0 and CVL = min(last CVL sent, last fresh pack
 * voltage), the alarms with the general alarm, every string offline, and the identity frames, but
 * withholds the measurement frames rather than send frozen values. Operator blocks (control.h)
 * force CCL or DCL to 0 at once; a limits frame with CCL 0 always has CVL at most the pack
 * voltage. It receives only the protocol's receive filter (Victron: 0x305, 0x307) and error
 * frames. A missing interface, a kernel without CAN or a bus-off leave the service degraded and
 * retrying with backoff (can.restart_min_ms .. restart_max_ms); the daemon goes on. Health goes to
 * snapshot_set_can_health(), frames to BUS_CAN, state changes to BUS_EVENT as
 * {"type":"can_state","interface":...,"link":...,"bus":...,"detail":...}.
 */

extern const struct service_ops can_service_ops;

/* ---- scheduler (pure) --------------------------------------------------------------------- */

/* The period of a frame configured 0 or less (none is: the keys are 100..60000). */
#define CAN_SCHED_DEFAULT_PERIOD_MS 1000
/* Shortest gap between two sends of one frame (an immediate send waits this long at most). */
#define CAN_SCHED_MIN_GAP_MS 50

/* When each frame of a protocol's table is due; frames by their index in the table. */
struct can_sched {
    unsigned n;                          /* frames of the protocol */
    int period_ms[CAN_PROTO_FRAMES_MAX]; /* effective periods */
    int64_t due_ms[CAN_PROTO_FRAMES_MAX];
    int64_t last_ms[CAN_PROTO_FRAMES_MAX]; /* last send, 0 = never */
};

/* Effective periods from the configured ones (period_ms[i] for frame i of p, capped at the
 * frame's max_period_ms) and offsets spreading the frames evenly over the shortest period,
 * starting at now_ms. */
void can_sched_init(struct can_sched *s, const struct can_proto *p, const int *period_ms,
                    int64_t now_ms);
/* Earliest due time. */
int64_t can_sched_next_ms(const struct can_sched *s);
/* True when frame f is due at now_ms. */
bool can_sched_due(const struct can_sched *s, unsigned f, int64_t now_ms);
/* Frame f was sent (or skipped) at now_ms: next due one period on, keeping the cadence. */
void can_sched_done(struct can_sched *s, unsigned f, int64_t now_ms);
/* Send frame f as soon as possible (no earlier than CAN_SCHED_MIN_GAP_MS after its last). */
void can_sched_expedite(struct can_sched *s, unsigned f, int64_t now_ms);

/* ---- the link (SocketCAN, replaceable in tests) ------------------------------------------- */

struct can_frame_io {
    uint32_t id; /* 11-bit ID, or CAN_ERR_FLAG | error class for error frames */
    uint8_t dlc;
    uint8_t data[8];
    bool error; /* an error frame */
};

struct can_link_ops {
    /* Open a raw socket on ifname bound with filters for the n_rx IDs of rx_ids (the
     * protocol's receive filter) and error frames, non-blocking. Returns the fd, or -errno with
     * why filled ("interface can0 missing", "CAN not supported by the kernel", "interface can0
     * is down"). */
    int (*open)(void *ctx, const char *ifname, const uint32_t *rx_ids, unsigned n_rx, char *why,
                size_t why_size);
    void (*close)(void *ctx, int fd);
    /* 0, or -errno (-ENOBUFS/-EAGAIN: queue full; -ENETDOWN/-ENODEV: interface gone). */
    int (*send)(void *ctx, int fd, const struct can_frame_io *f);
    /* 1 with *f filled, 0 when nothing is waiting, or -errno. */
    int (*recv)(void *ctx, int fd, struct can_frame_io *f);
    /* libsocketcan: 0 or -errno (-EOPNOTSUPP where it does not apply, as on vcan). */
    int (*get_state)(void *ctx, const char *ifname, uint8_t *bus_state);
    int (*get_bitrate)(void *ctx, const char *ifname, uint32_t *bitrate);
    int (*set_bitrate)(void *ctx, const char *ifname, uint32_t bitrate);
    int (*restart)(void *ctx, const char *ifname);
};

/* The real SocketCAN + libsocketcan link. */
const struct can_link_ops *can_link_socketcan(void);

/* New bus state from an error frame, or -1 when it says nothing about the state. */
int can_error_bus_state(const struct can_frame_io *f);

/* Start the service's thread on a given link (tests); can_service_ops.start uses SocketCAN. */
int can_service_start_with(struct service *svc, const struct can_link_ops *ops, void *ops_ctx);

#endif
