/* SPDX-License-Identifier: MIT */
/* compose.c — aggregation (and later stages) applied to every snapshot commit. */
#include "bmsgw/compose.h"

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

void composer_run(struct bmsgw_system *sys, int64_t now_ms, void *ctx)
{
    struct composer *c = ctx;
    if (c->store && config_store_generation(c->store) != c->cfg_generation)
        c->cfg_generation = config_store_get(c->store, &c->cfg);
    bmsgw_system_aggregate(sys, now_ms, c->cfg.bms.stale_after_ms);
}
