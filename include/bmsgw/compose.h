/* SPDX-License-Identifier: MIT */
/* compose.h — the snapshot's composer: what runs on every commit before readers see it. */
#ifndef BMSGW_COMPOSE_H
#define BMSGW_COMPOSE_H

#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"

struct config_store;
struct control;

/*
 * Runs on the staging system of every commit, under the snapshot's writer lock (never the reader
 * lock): system aggregation, then the stages other modules add (alarm evaluation, charge
 * limits). Its state belongs to the single writer that holds the lock.
 */
struct composer {
    struct config_store *store; /* NULL: cfg is used as set */
    struct control *control;    /* may be NULL */
    uint64_t cfg_generation;
    struct bmsgw_config cfg;
};

void composer_init(struct composer *c, struct config_store *store, struct control *control);

/* snapshot_composer_fn: ctx is a struct composer. */
void composer_run(struct bmsgw_system *sys, int64_t now_ms, void *ctx);

#endif
