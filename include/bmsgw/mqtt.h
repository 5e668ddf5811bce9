/* SPDX-License-Identifier: MIT */
/* mqtt.h — the MQTT service: topics, Home Assistant discovery, commands (spec/mqtt.md). */
#ifndef BMSGW_MQTT_H
#define BMSGW_MQTT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"
#include "bmsgw/service.h"

/*
 * One thread owns the libmosquitto client and runs its own poll() loop over the broker socket
 * and one eventfd (snapshot commits through the publisher, alert changes from the bus, reload,
 * stop), so callbacks run on that thread and nothing is shared with libmosquitto's threads.
 * Everything below "pure" takes plain values and is unit-tested without a broker.
 */

extern const struct service_ops mqtt_service_ops;

/* ---- ids and topics (pure) ------------------------------------------------------------------ */

#define MQTT_TOPIC_MAX 192

struct mqtt_ids {
    char gateway_id[48];
    char client_id[64];
    char prefix[96];    /* P */
    char ha_prefix[64]; /* homeassistant */
};

/* Resolve the defaults of cfg: gateway_id from hostname (lowercased, characters outside
 * [a-z0-9_-] become '-', "bmsgw" when nothing is left), client_id "bmsgw-<gateway_id>",
 * prefix "bmsgw/<gateway_id>". */
void mqtt_ids_resolve(const struct cfg_mqtt *cfg, const char *hostname, struct mqtt_ids *out);

/* The port to connect to: cfg->port, or 1883 / 8883 (TLS) when 0. */
int mqtt_port(const struct cfg_mqtt *cfg);

/* "P/<suffix>" into buf. */
void mqtt_topic(const struct mqtt_ids *ids, const char *suffix, char *buf, size_t size);

/* The <n> of a retained per-string topic of ours (P/string/<n>/state or /availability), or 0
 * when topic is not one. */
unsigned mqtt_string_topic_no(const struct mqtt_ids *ids, const char *topic);

/* ---- documents (pure) ----------------------------------------------------------------------- */

/* P/string/<n>/state: the string's object of the status document (index i, 0-based) with its
 * share of the system limits ({"ccl_a", "dcl_a"} divided over the fresh strings, null for a
 * stale string or invalid limits). Takes a reference to nothing: the result is new. NULL when
 * the status has no string i. */
json_t *mqtt_string_state(json_t *status, unsigned i);

/* What makes a state message urgent: the alarm levels, and the limits as the inverter gets
 * them (valid, phase, CVL to 0.1 V, CCL/DCL to 1 A). */
struct mqtt_state_key {
    uint8_t alarm_level[BMSGW_ALARM_COUNT];
    bool limits_valid;
    uint8_t phase;
    int32_t cvl_dv, ccl_a, dcl_a; /* 0.1 V, 1 A */
};
void mqtt_state_key(const struct bmsgw_system *sys, struct mqtt_state_key *out);

enum mqtt_change {
    MQTT_CHANGE_NONE = 0,
    MQTT_CHANGE_LIMITS, /* a limit, the phase or their validity */
    MQTT_CHANGE_ALARM,  /* an alarm level */
};
enum mqtt_change mqtt_state_key_diff(const struct mqtt_state_key *a,
                                     const struct mqtt_state_key *b);

/* Shortest gap between two state messages sent early for a limit change (a ramping limit
 * changes on every poll); an alarm change is always sent at once. */
#define MQTT_LIMIT_CHANGE_MIN_MS 1000

/* How long past the interval a state waits for a new generation before it goes out without
 * one (the string stopped delivering: ages and stale flags move on). */
#define MQTT_HEARTBEAT_GRACE_MS 1000

/* Send a state now? At once for an alarm change (and the first state, last_ms 0); for a limit
 * change when MQTT_LIMIT_CHANGE_MIN_MS have passed; with a new generation (fresh) once
 * spacing_ms have passed; without one MQTT_HEARTBEAT_GRACE_MS later. */
bool mqtt_state_due(int64_t now_ms, int64_t last_ms, int spacing_ms, enum mqtt_change change,
                    bool fresh);

/* ---- Home Assistant discovery (pure) --------------------------------------------------------- */

struct mqtt_ha_ctx {
    const struct mqtt_ids *ids;
    const char *sw_version;
    const char *config_url;               /* the dashboard, or NULL */
    int expire_after_s;                   /* 3 x state_interval, at least 30 */
    bool cells;                           /* one sensor per cell */
    bool commands;                        /* number and button entities */
    unsigned string_count;                /* configured strings */
    const char *const *names;             /* each string's name */
    const unsigned *cell_counts;          /* each string's cells */
    const unsigned *sensor_counts;        /* each string's temperature sensors */
    double max_charge_a, max_discharge_a; /* number entities' maximum */
};

/* Called once per discovery document: topic and compact JSON text. */
typedef void (*mqtt_ha_emit_fn)(const char *topic, const char *payload, void *ctx);

/* Emit every discovery document of the configuration. Returns how many. */
unsigned mqtt_ha_documents(const struct mqtt_ha_ctx *c, mqtt_ha_emit_fn emit, void *emit_ctx);

/* True when topic is a discovery config topic of this gateway (ha_prefix/<component>/
 * <gateway_id>/<object_id>/config) that is not among the n topics current (what
 * mqtt_ha_documents emitted): an entity of a string no longer configured, a cell gone, cells
 * switched off. Its retained config is to be removed. */
bool mqtt_ha_is_obsolete(const struct mqtt_ids *ids, const char *topic, const char *const *current,
                         unsigned n);

int mqtt_ha_expire_after_s(int state_interval_ms);

/* ---- commands (pure) --------------------------------------------------------------------------
 */

enum mqtt_cmd_kind {
    MQTT_CMD_CHARGE_LIMIT = 0,
    MQTT_CMD_DISCHARGE_LIMIT,
    MQTT_CMD_ACK_ALERTS,
};

struct mqtt_cmd {
    enum mqtt_cmd_kind kind;
    double value_a; /* limits: >= 0 */
    int ttl_s;      /* limits: 1..max_ttl_s (default MQTT_CMD_DEFAULT_TTL_S, or max when lower) */
};

#define MQTT_CMD_DEFAULT_TTL_S 60
#define MQTT_CMD_PAYLOAD_MAX   1024

/* Parse command name (the topic level after P/cmd/) with its payload (not NUL-terminated).
 * Returns 0 and fills *out, or -EINVAL with why (one sentence) filled: unknown command,
 * malformed JSON, unknown or missing member, value out of range, ttl_s above max_ttl_s. */
int mqtt_cmd_parse(const char *name, const void *payload, size_t len, int max_ttl_s,
                   struct mqtt_cmd *out, char *why, size_t why_size);

/* The name of a command kind ("charge_limit_a", ...). */
const char *mqtt_cmd_name(enum mqtt_cmd_kind k);

#endif
