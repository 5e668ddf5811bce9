/* SPDX-License-Identifier: MIT */
/* alerts.h — alerts for people: raised and cleared from the alarm evaluation, link health and
 * TinyBMS events; debounced, acknowledged, kept in a bounded history that survives restarts. */
#ifndef BMSGW_ALERTS_H
#define BMSGW_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"
#include "bmsgw/service.h"

/*
 * Sources of alerts and how each one clears:
 *   alarm conditions  sys->alarms (all but "general"): warning or alarm severity; raised when a
 *                     level holds for alarms.debounce_ms, cleared when it is back to ok (or
 *                     unmonitored) for as long; a change of level clears the old alert and
 *                     raises one at the new severity.
 *   string_offline    a configured string without fresh data (alarm), debounced the same way.
 *   can_bus           CAN enabled and its interface down, error-passive (warning) or bus-off
 *                     (alarm), debounced the same way.
 *   bms_setting_refused  a TinyBMS setting (registers 315-320) less safe than the
 *                     configuration, so not used (warning, one per string and threshold, naming
 *                     both values); cleared when the register is no longer refused, held while
 *                     its string has no fresh data.
 *   bms_event         a new TinyBMS event (BUS_EVENT "bms_event"), with the event's text:
 *                     info events go straight to the history; a fault or warning that has a
 *                     "recovered from" event clears when that event arrives; another fault clears
 *                     when the string reports a status other than fault for debounce_ms; another
 *                     warning stays until acknowledged.
 * Acknowledging marks an alert as seen (it stays active while its condition holds), except a
 * warning event without a recovery event, which acknowledging clears.
 */

#define ALERTS_ACTIVE_MAX   64
#define ALERTS_HISTORY_MAX  500
#define ALERTS_TRACKERS_MAX 128
#define ALERTS_FILE         "alerts.json"

enum alert_severity { ALERT_INFO = 0, ALERT_WARNING, ALERT_ALARM };

/* How an alert ends. */
enum alert_clear_rule {
    ALERT_CLEAR_CONDITION = 0, /* its condition is ok again (debounced) */
    ALERT_CLEAR_RECOVERY,      /* the TinyBMS logs recovery_id */
    ALERT_CLEAR_STATUS,        /* the string's status is not fault (debounced) */
    ALERT_CLEAR_ACK,           /* acknowledged */
};

struct alert {
    uint32_t id;        /* 1, 2, ... never reused (kept across restarts) */
    char type[32];      /* "high_voltage", ..., "string_offline", "can_bus", "bms_event" */
    char key[40];       /* the condition: "alarm:high_voltage", "string:0", "can", "event:0:3" */
    uint8_t severity;   /* enum alert_severity */
    int16_t string;     /* 0-based string index, -1 = the system */
    double value;       /* at raise time, in unit; NAN when none */
    double threshold;   /* NAN when none */
    char unit[8];       /* "mV", "degC", "A", "" */
    char message[128];  /* one line for people */
    int64_t raised_ms;  /* wall clock */
    int64_t cleared_ms; /* 0 while active */
    int64_t acknowledged_ms; /* 0 until acknowledged */
    uint8_t clear_rule;      /* enum alert_clear_rule */
    uint8_t event_id;        /* bms_event: the TinyBMS event id */
    uint8_t recovery_id;     /* ALERT_CLEAR_RECOVERY: the event id that clears it */
};

enum alert_change_kind { ALERT_RAISED = 0, ALERT_CLEARED, ALERT_ACKNOWLEDGED };

struct alert_change {
    uint8_t kind; /* enum alert_change_kind */
    struct alert alert;
};

#define ALERTS_CHANGES_MAX 32

/* Changes produced by one engine call (raised, cleared, acknowledged), oldest first. */
struct alert_changes {
    unsigned n;
    unsigned lost; /* beyond ALERTS_CHANGES_MAX: applied but not reported */
    struct alert_change c[ALERTS_CHANGES_MAX];
};

/* A debounced condition's pending level. */
struct alert_tracker {
    char key[40];
    int8_t pending; /* -1 = none, else the severity waiting for its debounce */
    int64_t since_ms;
};

/* ---- the engine: pure, single-threaded (time passed in) ------------------------------------ */

struct alerts_engine {
    uint32_t next_id;
    uint64_t raised_total;
    unsigned n_active;
    struct alert active[ALERTS_ACTIVE_MAX]; /* oldest first */
    unsigned hist_len, hist_head;           /* ring, oldest at hist_head */
    struct alert history[ALERTS_HISTORY_MAX];
    unsigned n_trackers;
    struct alert_tracker trackers[ALERTS_TRACKERS_MAX];
};

void alerts_engine_init(struct alerts_engine *e);

/*
 * Evaluate the condition alerts (alarms, strings, CAN) on a system copy. now_ms is monotonic
 * (debounce and freshness), now_real_ms the wall clock (timestamps). can_enabled = CAN is
 * configured on.
 */
void alerts_engine_eval(struct alerts_engine *e, const struct bmsgw_system *sys,
                        const struct bmsgw_config *cfg, bool can_enabled, int64_t now_ms,
                        int64_t now_real_ms, struct alert_changes *out);

/* A new BMS event of string (0-based) with its name, severity ("fault", "warning", "info") and
 * the code of the event that ends it (0 = none) as the poller published them; bms_name is the
 * driver's name for the BMS. string_name and bms_name may be NULL. */
void alerts_engine_bms_event(struct alerts_engine *e, int string, const char *string_name,
                             const char *bms_name, unsigned event_id, const char *event_name,
                             const char *severity, unsigned recovered_by, int64_t now_real_ms,
                             struct alert_changes *out);

/* Acknowledge alert id (0 = every active alert). Returns how many changed, or -ENOENT when id
 * is not an active alert. */
int alerts_engine_ack(struct alerts_engine *e, uint32_t id, int64_t now_real_ms,
                      struct alert_changes *out);

/* Forget the history (active alerts stay). */
void alerts_engine_clear_history(struct alerts_engine *e);

/* JSON of one alert (units in the names; strings numbered from 1). */
json_t *alert_to_json(const struct alert *a);
/* {"type":"raised|cleared|acknowledged","alert":{...}} */
json_t *alert_change_to_json(const struct alert_change *c);

/* Persisted state: {"version":1,"next_id":N,"raised_total":N,"active":[...],"history":[...]}. */
json_t *alerts_engine_to_json(const struct alerts_engine *e);
/* Restore from that JSON. Returns 0 or -EINVAL with why filled (e is then freshly initialised). */
int alerts_engine_from_json(struct alerts_engine *e, json_t *j, char *why, unsigned why_size);

const char *alert_severity_name(enum alert_severity s);

/* ---- the shared object and the "alerts" service ------------------------------------------- */

/*
 * The alerts service owns one struct alerts (app->alerts while it runs): a thread evaluates the
 * snapshot on every new generation and every 250 ms, takes TinyBMS events from the bus and the
 * acknowledgement requests of control.h, publishes every change on BUS_ALERT and writes
 * <state_dir>/alerts.json (atomically, at most every 2 s and when stopping). The functions
 * below are thread-safe.
 */
struct alerts;

json_t *alerts_active_json(struct alerts *al);
/* Newest first, at most limit entries. */
json_t *alerts_history_json(struct alerts *al, unsigned limit);
/* As alerts_engine_ack, publishing the changes. */
int alerts_acknowledge(struct alerts *al, uint32_t id);
void alerts_clear_history(struct alerts *al);
void alerts_counts(struct alerts *al, unsigned *active, uint64_t *raised_total);

extern const struct service_ops alerts_service;

#endif
