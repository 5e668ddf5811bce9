/* SPDX-License-Identifier: MIT */
/* compose.h — the snapshot's composer: the stages run on every commit before readers see it. */
#ifndef BMSGW_COMPOSE_H
#define BMSGW_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/control.h"
#include "bmsgw/model.h"

struct config_store;

/* What every stage sees on one commit. */
struct compose_input {
    const struct bmsgw_config *cfg;      /* the composer's current configuration */
    const struct control_state *control; /* the operator blocks; NULL when there is no control */
    int64_t now_ms;                      /* monotonic */
    int stale_after_ms;                  /* cfg->bms.stale_after_ms */
};

/*
 * One stage of the composer, registered at start by the domain that owns it (the battery's
 * aggregation, alarms and limits: battery_stages.h). ctx is the stage's own state, ctx_size
 * zeroed bytes kept inside the composer; init (may be NULL) prepares it once at registration;
 * run updates the staging system. Stages run in registration order.
 */
struct snapshot_stage {
    const char *name;
    size_t ctx_size;
    void (*init)(void *ctx);
    void (*run)(void *ctx, struct bmsgw_system *sys, const struct compose_input *in);
};

#define COMPOSE_STAGES_MAX  8
#define COMPOSE_STATE_BYTES 4096

/*
 * Runs on the staging system of every commit, under the snapshot's writer lock (never the reader
 * lock): each registered stage in turn, with the configuration of the store (re-read when its
 * generation changed) and the operator blocks of control.h. Its state belongs to the single
 * writer that holds the lock.
 */
struct composer {
    struct config_store *store; /* NULL: cfg is used as set */
    struct control *control;    /* may be NULL */
    uint64_t cfg_generation;
    struct bmsgw_config cfg;
    unsigned n_stages;
    struct {
        const struct snapshot_stage *stage;
        void *ctx;
    } stages[COMPOSE_STAGES_MAX];
    size_t state_used;
    _Alignas(max_align_t) unsigned char state[COMPOSE_STATE_BYTES];
};

/* Starts with no stage: the creator registers them (battery_stages_register()). */
void composer_init(struct composer *c, struct config_store *store, struct control *control);

/* Append a stage. Returns 0, or -ENOSPC when COMPOSE_STAGES_MAX stages or COMPOSE_STATE_BYTES of
 * contexts are used up. s must outlive the composer. */
int compose_stage_register(struct composer *c, const struct snapshot_stage *s);

/* snapshot_composer_fn: ctx is a struct composer. */
void composer_run(struct bmsgw_system *sys, int64_t now_ms, void *ctx);

#endif
