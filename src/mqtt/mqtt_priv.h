/* SPDX-License-Identifier: MIT */
/* mqtt_priv.h — the MQTT service's state, shared by its files (one thread owns all of it). */
#ifndef BMSGW_MQTT_PRIV_H
#define BMSGW_MQTT_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/alerts.h"
#include "bmsgw/config.h"
#include "bmsgw/mqtt.h"
#include "bmsgw/publisher.h"

#define MQTT_EVENTS_MAX     256
#define MQTT_BACKOFF_MIN_MS 1000
#define MQTT_BACKOFF_MAX_MS 60000
#define MQTT_TICK_MS        200 /* availability and pacing checks at least this often */

struct mosquitto;

/* Read by other threads (counters hook): atomics only. */
struct mqtt_counters {
    _Atomic uint64_t connects, connect_failures, disconnects;
    _Atomic uint64_t published, publish_errors, states, events_dropped;
    _Atomic uint64_t commands_ok, commands_refused, discovery_docs;
    _Atomic bool connected;
};

/* A message received, kept until the loop call that read it has returned (libmosquitto's
 * callbacks hold its locks: nothing is published from inside one). */
struct mqtt_inmsg {
    char *topic;
    char *payload; /* at most MQTT_CMD_PAYLOAD_MAX + 1 bytes kept */
    int len;       /* bytes kept */
    bool retained;
};

#define MQTT_INBOX_MAX 4096

struct mqtt_svc {
    struct service *svc;
    struct bmsgw_app *app;
    pthread_t thread;
    int efd; /* wakes the thread: commits, alert changes, stop */
    _Atomic bool stop;
    uint64_t cfg_gen;
    struct bmsgw_config *cfg;
    struct mqtt_ids ids;
    char host[64]; /* this machine's name (the dashboard's address in discovery) */
    struct publisher *pub;
    struct bus_sub *sub;
    struct mosquitto *mosq;
    bool sock_open;  /* a connection is being made or up */
    bool connected;  /* CONNACK accepted */
    bool ever_tried; /* mosquitto_connect_async done once (reconnect after) */
    int connack;     /* the CONNACK code the callback saw, -1 = none pending */
    struct mqtt_inmsg *inbox;
    unsigned in_n, in_cap;
    int64_t next_attempt_ms;
    int backoff_ms;
    struct bmsgw_system *sys; /* the newest generation handed out */
    bool have_sys;
    int64_t last_state_ms;
    struct mqtt_state_key last_key;
    int8_t avail[CFG_MAX_PORTS]; /* as published: -1 unknown, 0 offline, 1 online */
    bool alerts_dirty;
    unsigned ev_head, ev_len;
    struct alert_change events[MQTT_EVENTS_MAX]; /* kept while disconnected, oldest first */
    char **ha_topics;                            /* the discovery topics announced last */
    unsigned ha_n, ha_cap;
    bool ha_done;                     /* announced on this connection */
    uint16_t ha_cells[CFG_MAX_PORTS]; /* the counts announced */
    uint16_t ha_sensors[CFG_MAX_PORTS];
    struct mqtt_counters cnt;
};

/* mqtt_conn.c: the libmosquitto client. */
int mqtt_conn_new(struct mqtt_svc *m, char *why, size_t why_size);
void mqtt_conn_free(struct mqtt_svc *m);
void mqtt_conn_attempt(struct mqtt_svc *m, int64_t now_ms);
/* Socket I/O after poll(): revents of the broker socket (0 = timeout). */
void mqtt_conn_io(struct mqtt_svc *m, short revents, int64_t now_ms);
/* A clean goodbye: "offline" on P/status, DISCONNECT, flushed. */
void mqtt_conn_goodbye(struct mqtt_svc *m);
/* Publish; counts; false when not connected or refused. */
bool mqtt_pub(struct mqtt_svc *m, const char *topic, const char *payload, int qos, bool retain);
/* Publish P/<suffix>. */
bool mqtt_pub_p(struct mqtt_svc *m, const char *suffix, const char *payload, int qos, bool retain);

/* mqtt_publish.c: what goes out. */
void mqtt_on_online(struct mqtt_svc *m, int64_t now_ms);
/* fresh: a new generation was handed out since the last call. */
void mqtt_publish_tick(struct mqtt_svc *m, int64_t now_ms, bool fresh);
void mqtt_publish_alert_change(struct mqtt_svc *m, const struct alert_change *c);
void mqtt_on_message(struct mqtt_svc *m, const char *topic, const void *payload, int len,
                     bool retained);

/* mqtt_discovery.c: Home Assistant announcements. */
void mqtt_discovery_announce(struct mqtt_svc *m);
/* Announce when due: not yet on this connection, or a string's cell or sensor count changed
 * (known from the first generation on). */
void mqtt_discovery_check(struct mqtt_svc *m);
void mqtt_discovery_seen(struct mqtt_svc *m, const char *topic, int len);
void mqtt_discovery_free(struct mqtt_svc *m);

/* mqtt_command.c: P/cmd/<name>. */
void mqtt_command(struct mqtt_svc *m, const char *name, const void *payload, int len);

#endif
