/* SPDX-License-Identifier: MIT */
/* ws_internal.h — what the WebSocket service and its session callbacks share (private). */
#ifndef BMSGW_WS_INTERNAL_H
#define BMSGW_WS_INTERNAL_H

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bmsgw/bus.h"
#include "bmsgw/model.h"
#include "bmsgw/ws.h"
#include "bmsgw/ws_queue.h"

struct can_proto;

#define WS_STUCK_MS 2000 /* a client whose queue stays full this long is closed */
/* The kernel's send buffer of a client socket, fixed (the kernel doubles it): without this,
 * autotuning lets a client that does not read hold up to net.ipv4.tcp_wmem's maximum (4 MiB)
 * before its queue here even starts to fill. */
#define WS_SNDBUF_BYTES (32 * 1024)

enum ws_channel {
    WS_CH_TELEMETRY = 0,
    WS_CH_EVENTS,
    WS_CH_UART,
    WS_CH_CAN,
    WS_CH_ALERTS,
    WS_CH_COUNT
};

struct ws_channel_def {
    const char *path;
    uint32_t topic; /* bus topic streamed, 0 for telemetry */
};

extern const struct ws_channel_def ws_channels[WS_CH_COUNT];

/* One client: libwebsockets' per-session data. */
struct ws_client {
    struct ws_client *next;
    struct lws *wsi;
    int ch; /* enum ws_channel, -1 until accepted */
    struct ws_queue q;
    struct ws_inbound in;
    char *rx; /* the inbound message being received */
    size_t rx_len;
    bool receiving;
    bool dead; /* being closed: nothing more is queued */
    int64_t last_telemetry_ms;
    uint64_t status_gen; /* the newest generation queued for it (telemetry) */
};

struct ws_state {
    struct service *svc;
    struct lws_context *ctx;
    pthread_t thread;
    atomic_bool stop;
    /* configuration */
    int max_clients;
    int queue_len;
    int min_interval_ms;
    int stale_after_ms;
    const struct can_proto *can_proto; /* the configured one: names and decodes /ws/can */
    bool read_requires_token;
    char token[128];
    uint64_t cfg_gen;
    /* clients, only touched by the service thread */
    struct ws_client *clients;
    unsigned n_clients;
    unsigned ch_clients[WS_CH_COUNT];
    struct bus_sub *subs[WS_CH_COUNT];
    /* telemetry */
    struct publisher *pub; /* the snapshot watcher and the pacing (publisher.h) */
    struct bmsgw_system *sys;
    struct ws_msg *status; /* the newest encoded status */
    uint64_t status_gen;
    bool broadcast_scheduled;
    lws_sorted_usec_list_t sul_broadcast;
    lws_sorted_usec_list_t sul_tick;
    /* figures, read by other threads */
    pthread_mutex_t mlock;
    struct ws_metrics m;
};

/* The shortest spacing of two telemetry messages to one client: publisher_spacing_ms() of
 * ws.telemetry_min_interval_ms. */
int ws_telemetry_spacing_ms(const struct ws_state *s);

/* libwebsockets' callback of the one protocol (ws_session.c). */
int ws_session_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len);

/* ws.c, for the sessions */
void ws_wakeup(struct ws_state *s);
void ws_count(struct ws_state *s, size_t offset, uint64_t n);
#define WS_COUNT(s, field, n) ws_count((s), offsetof(struct ws_metrics, field), (n))
struct ws_msg *ws_current_status(struct ws_state *s);
void ws_channel_join(struct ws_state *s, struct ws_client *c);
void ws_channel_leave(struct ws_state *s, struct ws_client *c);
/* Queue m for c; closes c when its queue stays full. */
void ws_client_push(struct ws_state *s, struct ws_client *c, struct ws_msg *m, int64_t now_ms);
struct ws_msg *ws_msg_from_json(json_t *j);

#endif
