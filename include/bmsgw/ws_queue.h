/* SPDX-License-Identifier: MIT */
/* ws_queue.h — WebSocket fan-out pieces: shared messages, bounded per-client queues with a
 * latest-wins telemetry slot, and the inbound limits (pure, single-threaded). */
#ifndef BMSGW_WS_QUEUE_H
#define BMSGW_WS_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A message encoded once and shared by every client that sends it (reference counted). The
 * payload follows pre bytes of headroom (libwebsockets writes its frame header there). */
struct ws_msg {
    unsigned refs;
    size_t pre;
    size_t len;
    unsigned char buf[]; /* pre + len bytes */
};

/* A copy of text with pre bytes in front; refs = 1. NULL when out of memory. */
struct ws_msg *ws_msg_new(const char *text, size_t len, size_t pre);
struct ws_msg *ws_msg_ref(struct ws_msg *m);
void ws_msg_unref(struct ws_msg *m);
/* The payload. */
static inline unsigned char *ws_msg_data(struct ws_msg *m)
{
    return m->buf + m->pre;
}

enum ws_push_result {
    WS_PUSH_OK = 0,
    WS_PUSH_DROPPED, /* the queue was full: this message is lost for this client */
    WS_PUSH_STUCK,   /* and it has been full for stuck_ms: disconnect the client */
};

/* One client's outgoing messages: a bounded FIFO for streams, one slot for telemetry whose
 * newer message replaces an unsent older one. */
struct ws_queue {
    unsigned cap, head, len;
    struct ws_msg **ring;
    struct ws_msg *latest;
    int64_t full_since_ms; /* 0 while the FIFO has room */
    uint64_t dropped;
};

/* cap >= 1. Returns 0 or -ENOMEM. */
int ws_queue_init(struct ws_queue *q, unsigned cap);
void ws_queue_deinit(struct ws_queue *q); /* drops every reference */

/* Append a reference to m (the caller keeps its own). */
enum ws_push_result ws_queue_push(struct ws_queue *q, struct ws_msg *m, int64_t now_ms,
                                  int stuck_ms);
/* Put m in the telemetry slot (references it), replacing an unsent one. */
void ws_queue_set_latest(struct ws_queue *q, struct ws_msg *m);
bool ws_queue_has_latest(const struct ws_queue *q);

/* The next message to send, FIFO first, then the telemetry slot; the caller owns the returned
 * reference. NULL when nothing waits. skip_latest leaves the telemetry slot for later. */
struct ws_msg *ws_queue_pop(struct ws_queue *q, bool skip_latest);
bool ws_queue_empty(const struct ws_queue *q);

/* Inbound limits: messages per second and the size of one (possibly fragmented) message. */
#define WS_IN_MAX_PER_S 10
#define WS_IN_MAX_BYTES (32 * 1024)

struct ws_inbound {
    int64_t window_ms; /* start of the current one-second window */
    unsigned count;    /* messages started in it */
    size_t bytes;      /* of the message being received */
};

/* A received fragment: first/final as the frame says. Returns 0, 1008 (too many messages: the
 * 11th message within one second) or 1009 (the message passed WS_IN_MAX_BYTES). */
int ws_inbound_fragment(struct ws_inbound *in, int64_t now_ms, size_t len, bool first, bool final);

#endif
