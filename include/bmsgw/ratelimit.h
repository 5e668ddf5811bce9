/* SPDX-License-Identifier: MIT */
/* ratelimit.h — per-client token buckets (pure: time is passed in, the caller locks). */
#ifndef BMSGW_RATELIMIT_H
#define BMSGW_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_CLIENTS 128
#define RATELIMIT_KEY_MAX 64

struct ratelimit_entry {
    char key[RATELIMIT_KEY_MAX];
    double tokens;
    int64_t last_ms;
};

/* A bucket per client holds up to per_min tokens and refills per_min tokens a minute; when the
 * table is full the least recently seen client is forgotten. */
struct ratelimit {
    unsigned n;
    struct ratelimit_entry e[RATELIMIT_CLIENTS];
};

void ratelimit_init(struct ratelimit *rl);

/* Take a token for key at now_ms. Returns 0 when allowed, or the whole seconds (>= 1) until the
 * next token (the request is refused and nothing is taken). per_min < 1 counts as 1. */
int ratelimit_take(struct ratelimit *rl, const char *key, int per_min, int64_t now_ms);

#endif
