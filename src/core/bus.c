/* SPDX-License-Identifier: MIT */
/* bus.c — fan-out of small fixed-size messages into bounded per-subscriber rings. */
#include "bmsgw/bus.h"

#include "bmsgw/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SUBS 32

struct bus_sub {
    uint32_t topics;
    bus_notify_fn notify;
    void *ctx;
    pthread_mutex_t lock;
    struct bus_msg *ring;
    unsigned cap, head, len;
    uint64_t dropped;
};

struct bus {
    pthread_rwlock_t lock; /* the subscriber list */
    struct bus_sub *subs[MAX_SUBS];
    unsigned nsubs;
    _Atomic uint32_t topic_mask; /* union of subscribed topics */
    _Atomic uint64_t published, delivered, dropped;
};

struct bus *bus_new(void)
{
    struct bus *b = calloc(1, sizeof(*b));
    if (b)
        pthread_rwlock_init(&b->lock, NULL);
    return b;
}

void bus_free(struct bus *b)
{
    if (!b)
        return;
    for (unsigned i = 0; i < b->nsubs; i++) {
        pthread_mutex_destroy(&b->subs[i]->lock);
        free(b->subs[i]->ring);
        free(b->subs[i]);
    }
    pthread_rwlock_destroy(&b->lock);
    free(b);
}

static void recompute_mask(struct bus *b)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < b->nsubs; i++)
        m |= b->subs[i]->topics;
    atomic_store(&b->topic_mask, m);
}

struct bus_sub *bus_subscribe(struct bus *b, uint32_t topics, unsigned capacity,
                              bus_notify_fn notify, void *ctx)
{
    struct bus_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->ring = calloc(capacity ? capacity : 1, sizeof(*s->ring));
    if (!s->ring) {
        free(s);
        return NULL;
    }
    s->cap = capacity ? capacity : 1;
    s->topics = topics;
    s->notify = notify;
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);

    pthread_rwlock_wrlock(&b->lock);
    if (b->nsubs == MAX_SUBS) {
        pthread_rwlock_unlock(&b->lock);
        pthread_mutex_destroy(&s->lock);
        free(s->ring);
        free(s);
        return NULL;
    }
    b->subs[b->nsubs++] = s;
    recompute_mask(b);
    pthread_rwlock_unlock(&b->lock);
    return s;
}

void bus_unsubscribe(struct bus *b, struct bus_sub *sub)
{
    if (!sub)
        return;
    pthread_rwlock_wrlock(&b->lock);
    for (unsigned i = 0; i < b->nsubs; i++) {
        if (b->subs[i] == sub) {
            b->subs[i] = b->subs[--b->nsubs];
            break;
        }
    }
    recompute_mask(b);
    pthread_rwlock_unlock(&b->lock);
    pthread_mutex_destroy(&sub->lock);
    free(sub->ring);
    free(sub);
}

bool bus_has_subscribers(struct bus *b, uint32_t topics)
{
    return (atomic_load(&b->topic_mask) & topics) != 0;
}

static bool sub_push(struct bus_sub *s, const struct bus_msg *msg)
{
    bool ok;
    pthread_mutex_lock(&s->lock);
    ok = s->len < s->cap;
    if (ok) {
        s->ring[(s->head + s->len) % s->cap] = *msg;
        s->len++;
    } else {
        s->dropped++;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void bus_publish(struct bus *b, const struct bus_msg *msg)
{
    struct bus_msg m;
    struct bus_sub *woken[MAX_SUBS];
    unsigned nwoken = 0;

    atomic_fetch_add(&b->published, 1);
    if (!(atomic_load(&b->topic_mask) & msg->topic))
        return;
    m = *msg;
    if (m.t_ms == 0)
        m.t_ms = clock_real_ms();
    pthread_rwlock_rdlock(&b->lock);
    for (unsigned i = 0; i < b->nsubs; i++) {
        struct bus_sub *s = b->subs[i];
        if (!(s->topics & m.topic))
            continue;
        if (sub_push(s, &m)) {
            atomic_fetch_add(&b->delivered, 1);
            if (s->notify)
                woken[nwoken++] = s;
        } else {
            atomic_fetch_add(&b->dropped, 1);
        }
    }
    /* notify while still holding the read lock so a subscriber cannot vanish in between */
    for (unsigned i = 0; i < nwoken; i++)
        woken[i]->notify(woken[i]->ctx);
    pthread_rwlock_unlock(&b->lock);
}

void bus_publish_text(struct bus *b, enum bus_topic topic, int source, const char *text)
{
    struct bus_msg m = { .topic = topic, .source = (int16_t)source };
    size_t n = strlen(text);
    if (n > BUS_DATA_MAX - 1)
        n = BUS_DATA_MAX - 1;
    memcpy(m.data, text, n);
    m.data[n] = '\0';
    m.len = (uint16_t)n;
    bus_publish(b, &m);
}

void bus_publish_bytes(struct bus *b, enum bus_topic topic, enum bus_dir dir, int source,
                       uint32_t can_id, const void *data, unsigned len)
{
    if (!bus_has_subscribers(b, topic)) {
        atomic_fetch_add(&b->published, 1);
        return;
    }
    struct bus_msg m = {
        .topic = topic, .dir = (uint8_t)dir, .source = (int16_t)source, .can_id = can_id
    };
    if (len > BUS_DATA_MAX)
        len = BUS_DATA_MAX;
    memcpy(m.data, data, len);
    m.len = (uint16_t)len;
    bus_publish(b, &m);
}

bool bus_pop(struct bus_sub *sub, struct bus_msg *out)
{
    bool ok;
    pthread_mutex_lock(&sub->lock);
    ok = sub->len > 0;
    if (ok) {
        *out = sub->ring[sub->head];
        sub->head = (sub->head + 1) % sub->cap;
        sub->len--;
    }
    pthread_mutex_unlock(&sub->lock);
    return ok;
}

uint64_t bus_sub_dropped(struct bus_sub *sub)
{
    pthread_mutex_lock(&sub->lock);
    uint64_t d = sub->dropped;
    pthread_mutex_unlock(&sub->lock);
    return d;
}

void bus_get_metrics(struct bus *b, struct bus_metrics *m)
{
    m->published = atomic_load(&b->published);
    m->delivered = atomic_load(&b->delivered);
    m->dropped = atomic_load(&b->dropped);
    pthread_rwlock_rdlock(&b->lock);
    m->subscribers = b->nsubs;
    pthread_rwlock_unlock(&b->lock);
}
