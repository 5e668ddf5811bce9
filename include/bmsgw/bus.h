/* SPDX-License-Identifier: MIT */
/* bus.h — the internal event bus: raw UART/CAN traffic, events and alerts to subscribers. */
#ifndef BMSGW_BUS_H
#define BMSGW_BUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Publishers never block and never allocate: a message is copied into each matching
 * subscriber's bounded ring; a full ring drops the new message and counts it. With no
 * subscriber for a topic, publishing costs one atomic load (the poll is never slowed).
 */

enum bus_topic {
    BUS_UART = 1u << 0,  /* raw RTU frames: data = bytes, dir, source = string index */
    BUS_CAN = 1u << 1,   /* CAN frames: can_id, data = payload (len = DLC), dir */
    BUS_EVENT = 1u << 2, /* data = one struct bmsgw_event (event.h): link up/down, config ... */
    BUS_ALERT = 1u << 3, /* data = one struct alert_change (alerts.h): raised/cleared/acked */
};

enum bus_dir {
    BUS_DIR_NONE = 0,
    BUS_DIR_TX,
    BUS_DIR_RX,
};

#define BUS_DATA_MAX 600

struct bus_msg {
    uint32_t topic;  /* one enum bus_topic */
    uint8_t dir;     /* enum bus_dir */
    int16_t source;  /* string index, -1 = none */
    uint32_t can_id; /* BUS_CAN only */
    int64_t t_ms;    /* CLOCK_REALTIME ms (shown to people) */
    uint16_t len;    /* bytes used in data (text is NUL-terminated beyond len) */
    uint8_t data[BUS_DATA_MAX];
};

struct bus_metrics {
    uint64_t published;
    uint64_t delivered;
    uint64_t dropped;
    unsigned subscribers;
};

struct bus;
struct bus_sub;

/* Called (from the publisher's thread, outside the bus locks) after a message was queued for the
 * subscriber. Must not block: write an eventfd, call lws_cancel_service(), ... */
typedef void (*bus_notify_fn)(void *ctx);

struct bus *bus_new(void);
void bus_free(struct bus *b);

/* Subscribe to a mask of topics with a ring of capacity messages. NULL on allocation failure. */
struct bus_sub *bus_subscribe(struct bus *b, uint32_t topics, unsigned capacity,
                              bus_notify_fn notify, void *ctx);
void bus_unsubscribe(struct bus *b, struct bus_sub *sub);

/* Publish (copies *msg; t_ms is filled in when 0). */
void bus_publish(struct bus *b, const struct bus_msg *msg);

/* Helpers that build and publish a message. text is truncated to BUS_DATA_MAX - 1. */
void bus_publish_text(struct bus *b, enum bus_topic topic, int source, const char *text);
void bus_publish_bytes(struct bus *b, enum bus_topic topic, enum bus_dir dir, int source,
                       uint32_t can_id, const void *data, unsigned len);

/* True when someone listens to one of the topics (skip building messages otherwise). */
bool bus_has_subscribers(struct bus *b, uint32_t topics);

/* Take the oldest queued message. Returns true when *out was filled. */
bool bus_pop(struct bus_sub *sub, struct bus_msg *out);

/* Messages this subscriber lost because its ring was full. */
uint64_t bus_sub_dropped(struct bus_sub *sub);

void bus_get_metrics(struct bus *b, struct bus_metrics *m);

#endif
