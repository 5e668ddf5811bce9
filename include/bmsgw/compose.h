/* SPDX-License-Identifier: MIT */
/* compose.h — the snapshot's composer: what runs on every commit before readers see it. */
#ifndef BMSGW_COMPOSE_H
#define BMSGW_COMPOSE_H

#include <stdint.h>

#include "bmsgw/alarms.h"
#include "bmsgw/config.h"
#include "bmsgw/limits.h"
#include "bmsgw/model.h"

struct config_store;
struct control;

/*
 * Runs on the staging system of every commit, under the snapshot's writer lock (never the reader
 * lock): system aggregation (sys->agg), alarm evaluation (sys->alarms, alarms.h), then the
 * charge-limit controller (sys->limits, limits.h) with the operator blocks of control.h. Its
 * state belongs to the single writer that holds the lock.
 */
struct composer {
    struct config_store *store; /* NULL: cfg is used as set */
    struct control *control;    /* may be NULL */
    uint64_t cfg_generation;
    struct bmsgw_config cfg;
    struct alarms_state alarms;
    struct limits_state limits;
};

void composer_init(struct composer *c, struct config_store *store, struct control *control);

/* snapshot_composer_fn: ctx is a struct composer. */
void composer_run(struct bmsgw_system *sys, int64_t now_ms, void *ctx);

#endif
