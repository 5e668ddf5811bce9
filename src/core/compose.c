/* SPDX-License-Identifier: MIT */
/* compose.c — the stage table applied to every snapshot commit. */
#include "bmsgw/compose.h"

#include <errno.h>
#include <string.h>

#include "bmsgw/config_store.h"

void composer_init(struct composer *c, struct config_store *store, struct control *control)
{
    memset(c, 0, sizeof(*c));
    c->store = store;
    c->control = control;
    if (store)
        c->cfg_generation = config_store_get(store, &c->cfg);
    else
        config_defaults(&c->cfg);
}

int compose_stage_register(struct composer *c, const struct snapshot_stage *s)
{
    const size_t align = _Alignof(max_align_t);
    size_t size = (s->ctx_size + align - 1) / align * align;

    if (c->n_stages >= COMPOSE_STAGES_MAX || size > sizeof(c->state) - c->state_used)
        return -ENOSPC;
    void *ctx = size ? c->state + c->state_used : NULL;
    c->state_used += size;
    c->stages[c->n_stages].stage = s;
    c->stages[c->n_stages].ctx = ctx;
    c->n_stages++;
    if (s->init)
        s->init(ctx);
    return 0;
}

void composer_run(struct bmsgw_system *sys, int64_t now_ms, void *ctx)
{
    struct composer *c = ctx;
    struct control_state cs;

    if (c->store && config_store_generation(c->store) != c->cfg_generation)
        c->cfg_generation = config_store_get(c->store, &c->cfg);
    if (c->control)
        control_get(c->control, &cs);
    struct compose_input in = { .cfg = &c->cfg,
                                .control = c->control ? &cs : NULL,
                                .now_ms = now_ms,
                                .stale_after_ms = c->cfg.bms.stale_after_ms };
    for (unsigned i = 0; i < c->n_stages; i++)
        c->stages[i].stage->run(c->stages[i].ctx, sys, &in);
}
