/* SPDX-License-Identifier: MIT */
/* ws.h — the "ws" service: WebSocket streams over libwebsockets, in their own thread. */
#ifndef BMSGW_WS_H
#define BMSGW_WS_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/service.h"

/*
 * Listens on http.bind:ws.port. Channels by path:
 *   /ws/telemetry  on connect the full status (status_json.h), then one message per new snapshot
 *                  generation, at most every ws.telemetry_min_interval_ms (latest wins; a fifth
 *                  of it, at most 50 ms, is allowed for the poll's jitter)
 *   /ws/events     BUS_EVENT objects with t_ms (link up/down, config changed, CAN state, ...)
 *   /ws/uart       {dir, string, t_ms, hex} for every RTU frame
 *   /ws/can        {dir, id, dlc, hex, name, decoded, t_ms} for every CAN frame
 *   /ws/alerts     on connect {"type":"active","alerts":[...]}, then every raised, cleared or
 *                  acknowledged alert
 * A client may send {"type":"ping"} (answered {"type":"pong"}); more than 10 messages a second
 * close it with 1008, a message over 32 KiB with 1009. Beyond ws.max_clients a new client is
 * closed with 1013. A client whose queue (ws.queue_len) stays full for 2 s is closed with 1008;
 * the others and the daemon never wait for it. Other threads wake this one only through
 * lws_cancel_service().
 */
extern const struct service_ops ws_service;

struct ws_metrics {
    bool running;
    unsigned clients;
    uint64_t connections; /* accepted since start */
    uint64_t messages_sent;
    uint64_t messages_dropped;   /* full client queues */
    uint64_t clients_dropped;    /* closed for being too slow */
    uint64_t clients_refused;    /* over ws.max_clients */
    uint64_t closed_policy;      /* inbound limits (1008/1009) */
    uint64_t telemetry_messages; /* distinct telemetry encodings */
};

/* The ws service's figures (zeros with running = false when it does not run or is not built).
 * Thread-safe. */
void ws_get_metrics(struct service_registry *services, struct ws_metrics *out);

#endif
