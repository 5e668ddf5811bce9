/* SPDX-License-Identifier: MIT */
/* event.h — the typed events of the event bus (BUS_EVENT) and their one JSON encoder. */
#ifndef BMSGW_EVENT_H
#define BMSGW_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/model.h"

/*
 * Producers fill a struct bmsgw_event and publish it with bmsgw_event_publish(); consumers take
 * it from the message with bmsgw_event_from_msg() and, where they need JSON (a WebSocket stream,
 * MQTT, a test harness), encode it with bmsgw_event_to_json(). Nothing re-parses text.
 * BUS_ALERT carries a struct alert_change (alerts.h) the same way, encoded by
 * alert_change_to_json().
 */

enum bmsgw_event_type {
    BMSGW_EV_NONE = 0,
    BMSGW_EV_LINK_UP,        /* a string's BMS link is up: link.detail = the device */
    BMSGW_EV_LINK_DOWN,      /* link.detail = why */
    BMSGW_EV_STRING_ONLINE,  /* the string delivers accepted samples: link.detail = "" */
    BMSGW_EV_STRING_OFFLINE, /* link.detail = why */
    BMSGW_EV_BMS_EVENT,      /* a new entry of the BMS's own event log: bms */
    BMSGW_EV_CAN_STATE,      /* the CAN interface or bus state changed: can */
    BMSGW_EV_CONFIG_CHANGED, /* config.source ("api", or "" for a reload), config.detail */
    BMSGW_EV_BMS_RESET,      /* a reset command was sent to the string: text.detail */
    BMSGW_EV_RESTART,        /* text.target ("gateway"), text.detail */
    BMSGW_EV_COUNT
};

#define BMSGW_EVENT_DETAIL_MAX 320

struct bmsgw_event {
    uint8_t type;   /* enum bmsgw_event_type */
    int16_t string; /* 0-based string index, -1 = none (the system, CAN, the API) */
    union {
        struct {
            char name[BMSGW_NAME_MAX]; /* the string's configured name */
            char detail[BMSGW_EVENT_DETAIL_MAX];
        } link; /* LINK_UP, LINK_DOWN, STRING_ONLINE, STRING_OFFLINE */
        struct {
            uint8_t id;
            char name[64];
            char severity[16];
            uint32_t timestamp_s; /* the BMS's own clock */
            uint8_t recovered_by; /* the code of the event that ends it, 0 = none (not encoded) */
        } bms;
        struct {
            char interface[16];
            uint8_t link; /* enum bmsgw_link_state */
            uint8_t bus;  /* enum bmsgw_can_bus_state */
            bool sending;
            char detail[64];
        } can;
        struct {
            char source[16]; /* "" = no "source" field */
            char detail[BMSGW_EVENT_DETAIL_MAX];
        } config;
        struct {
            char target[16]; /* "" = no "target" field */
            char detail[BMSGW_EVENT_DETAIL_MAX];
        } text; /* BMS_RESET, RESTART */
    };
};

/* "link_up", ... (the JSON "type"); NULL for an unknown type. */
const char *bmsgw_event_type_name(enum bmsgw_event_type t);

/* Copy src into a fixed field of an event, truncated (always NUL-terminated; NULL = ""). */
void bmsgw_event_set_text(char *dst, unsigned size, const char *src);

/*
 * The event as JSON, fields in this order (the wire format of /ws/events):
 *   link_up|link_down|string_online|string_offline  {type, string, name, detail}
 *   bms_event       {type, string, id, name, severity, timestamp_s}
 *   can_state       {type, interface, link, bus, sending, detail}
 *   config_changed  {type, source (when set), detail}
 *   bms_reset       {type, string, detail}
 *   restart         {type, target (when set), detail}
 * "string" is the index plus string_base (0 as on the bus, 1 for people); "t_ms" is added last
 * when t_ms != 0. NULL for an unknown type or out of memory.
 */
json_t *bmsgw_event_to_json(const struct bmsgw_event *e, int string_base, int64_t t_ms);

struct bus;
struct bus_msg;

/* Publish e on BUS_EVENT (source = e->string); costs one atomic load with no subscriber. */
void bmsgw_event_publish(struct bus *b, const struct bmsgw_event *e);

/* The event a BUS_EVENT message carries: true when *out was filled (a known type). */
bool bmsgw_event_from_msg(const struct bus_msg *m, struct bmsgw_event *out);

#endif
