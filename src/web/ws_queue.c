/* SPDX-License-Identifier: MIT */
/* ws_queue.c — shared messages, bounded client queues, inbound limits. */
#include "bmsgw/ws_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ws_msg *ws_msg_new(const char *text, size_t len, size_t pre)
{
    struct ws_msg *m = malloc(sizeof(*m) + pre + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->pre = pre;
    m->len = len;
    memcpy(m->buf + pre, text, len);
    m->buf[pre + len] = '\0';
    return m;
}

struct ws_msg *ws_msg_ref(struct ws_msg *m)
{
    m->refs++;
    return m;
}

void ws_msg_unref(struct ws_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

int ws_queue_init(struct ws_queue *q, unsigned cap)
{
    memset(q, 0, sizeof(*q));
    q->ring = calloc(cap ? cap : 1, sizeof(*q->ring));
    if (!q->ring)
        return -ENOMEM;
    q->cap = cap ? cap : 1;
    return 0;
}

void ws_queue_deinit(struct ws_queue *q)
{
    while (q->len) {
        ws_msg_unref(q->ring[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
    ws_msg_unref(q->latest);
    free(q->ring);
    memset(q, 0, sizeof(*q));
}

enum ws_push_result ws_queue_push(struct ws_queue *q, struct ws_msg *m, int64_t now_ms,
                                  int stuck_ms)
{
    if (q->len == q->cap) {
        q->dropped++;
        if (q->full_since_ms == 0)
            q->full_since_ms = now_ms;
        return now_ms - q->full_since_ms >= stuck_ms ? WS_PUSH_STUCK : WS_PUSH_DROPPED;
    }
    q->ring[(q->head + q->len) % q->cap] = ws_msg_ref(m);
    q->len++;
    if (q->len == q->cap && q->full_since_ms == 0)
        q->full_since_ms = now_ms;
    return WS_PUSH_OK;
}

void ws_queue_set_latest(struct ws_queue *q, struct ws_msg *m)
{
    ws_msg_unref(q->latest);
    q->latest = ws_msg_ref(m);
}

bool ws_queue_has_latest(const struct ws_queue *q)
{
    return q->latest != NULL;
}

struct ws_msg *ws_queue_pop(struct ws_queue *q, bool skip_latest)
{
    struct ws_msg *m = NULL;
    if (q->len) {
        m = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        q->full_since_ms = 0; /* room again */
    } else if (!skip_latest && q->latest) {
        m = q->latest;
        q->latest = NULL;
    }
    return m;
}

bool ws_queue_empty(const struct ws_queue *q)
{
    return q->len == 0 && !q->latest;
}

int ws_inbound_fragment(struct ws_inbound *in, int64_t now_ms, size_t len, bool first, bool final)
{
    if (first) {
        if (now_ms - in->window_ms >= 1000) {
            in->window_ms = now_ms;
            in->count = 0;
        }
        if (++in->count > WS_IN_MAX_PER_S)
            return 1008;
        in->bytes = 0;
    }
    in->bytes += len;
    if (in->bytes > WS_IN_MAX_BYTES)
        return 1009;
    if (final)
        in->bytes = 0;
    return 0;
}
