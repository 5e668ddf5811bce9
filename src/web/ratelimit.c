/* SPDX-License-Identifier: MIT */
/* ratelimit.c — token buckets keyed by client address, least recently seen evicted. */
#include "bmsgw/ratelimit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void ratelimit_init(struct ratelimit *rl)
{
    memset(rl, 0, sizeof(*rl));
}

static struct ratelimit_entry *find_or_add(struct ratelimit *rl, const char *key, double full,
                                           int64_t now_ms)
{
    unsigned oldest = 0;
    for (unsigned i = 0; i < rl->n; i++) {
        if (strncmp(rl->e[i].key, key, RATELIMIT_KEY_MAX - 1) == 0)
            return &rl->e[i];
        if (rl->e[i].last_ms < rl->e[oldest].last_ms)
            oldest = i;
    }
    struct ratelimit_entry *e = rl->n < RATELIMIT_CLIENTS ? &rl->e[rl->n++] : &rl->e[oldest];
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->tokens = full;
    e->last_ms = now_ms;
    return e;
}

int ratelimit_take(struct ratelimit *rl, const char *key, int per_min, int64_t now_ms)
{
    double full = per_min < 1 ? 1.0 : (double)per_min;
    double per_ms = full / 60000.0;
    struct ratelimit_entry *e = find_or_add(rl, key ? key : "", full, now_ms);

    if (now_ms > e->last_ms)
        e->tokens += (double)(now_ms - e->last_ms) * per_ms;
    if (e->tokens > full)
        e->tokens = full;
    e->last_ms = now_ms;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return 0;
    }
    double wait_ms = (1.0 - e->tokens) / per_ms;
    int s = (int)ceil(wait_ms / 1000.0);
    return s < 1 ? 1 : s;
}
