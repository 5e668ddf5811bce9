/* SPDX-License-Identifier: MIT */
/* control.c — operator blocks and acknowledgement requests. */
#include "bmsgw/control.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct control {
    pthread_mutex_t lock;
    struct control_state st;
    _Atomic bool blocked[2];
    _Atomic uint64_t acks;
};

struct control *control_new(void)
{
    struct control *c = calloc(1, sizeof(*c));
    if (c)
        pthread_mutex_init(&c->lock, NULL);
    return c;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

bool control_set_block(struct control *c, enum control_dir dir, bool blocked, const char *by,
                       int64_t now_ms)
{
    bool changed;
    pthread_mutex_lock(&c->lock);
    bool *flag = dir == CONTROL_CHARGE ? &c->st.charge_blocked : &c->st.discharge_blocked;
    char *who = dir == CONTROL_CHARGE ? c->st.charge_by : c->st.discharge_by;
    int64_t *since = dir == CONTROL_CHARGE ? &c->st.charge_since_ms : &c->st.discharge_since_ms;
    changed = *flag != blocked;
    if (changed) {
        *flag = blocked;
        *since = now_ms;
        snprintf(who, sizeof(c->st.charge_by), "%s", blocked ? by : "");
        atomic_store(&c->blocked[dir], blocked);
    }
    pthread_mutex_unlock(&c->lock);
    return changed;
}

bool control_blocked(struct control *c, enum control_dir dir)
{
    return atomic_load(&c->blocked[dir]);
}

void control_get(struct control *c, struct control_state *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->st;
    pthread_mutex_unlock(&c->lock);
    out->ack_requests = atomic_load(&c->acks);
}

bool control_clamp_active(const struct control_clamp *c, int64_t now_ms)
{
    return c->set && now_ms < c->until_ms;
}

void control_set_clamp(struct control *c, enum control_dir dir, double limit_a, int64_t until_ms,
                       const char *by)
{
    pthread_mutex_lock(&c->lock);
    struct control_clamp *cl = &c->st.clamp[dir == CONTROL_CHARGE ? 0 : 1];
    cl->set = true;
    cl->limit_a = limit_a < 0 ? 0 : limit_a;
    cl->until_ms = until_ms;
    snprintf(cl->by, sizeof(cl->by), "%s", by ? by : "");
    pthread_mutex_unlock(&c->lock);
}

void control_request_ack_all(struct control *c)
{
    atomic_fetch_add(&c->acks, 1);
}

uint64_t control_ack_requests(struct control *c)
{
    return atomic_load(&c->acks);
}
