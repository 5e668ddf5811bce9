/* SPDX-License-Identifier: MIT */
/* compose.c — the stages applied to every snapshot commit: aggregation, alarms, limits. */
#include "bmsgw/compose.h"

#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"

void composer_init(struct composer *c, struct config_store *store, struct control *control)
{
    memset(c, 0, sizeof(*c));
    c->store = store;
    c->control = control;
    if (store)
        c->cfg_generation = config_store_get(store, &c->cfg);
    else
        config_defaults(&c->cfg);
    alarms_init(&c->alarms);
    limits_init(&c->limits);
}

void composer_run(struct bmsgw_system *sys, int64_t now_ms, void *ctx)
{
    struct composer *c = ctx;
    struct control_state cs;
    struct limits_blocks blocks = { 0 };

    if (c->store && config_store_generation(c->store) != c->cfg_generation)
        c->cfg_generation = config_store_get(c->store, &c->cfg);
    int stale_ms = c->cfg.bms.stale_after_ms;
    bmsgw_system_aggregate(sys, now_ms, stale_ms);
    alarms_evaluate(&c->cfg.alarms, sys, now_ms, stale_ms, &c->alarms, &sys->alarms);
    if (c->control) {
        control_get(c->control, &cs);
        blocks = (struct limits_blocks){ .charge = cs.charge_blocked,
                                         .discharge = cs.discharge_blocked,
                                         .charge_by = cs.charge_by,
                                         .discharge_by = cs.discharge_by };
    }
    limits_compute(&c->cfg.limits, &c->cfg.alarms, sys, &blocks, now_ms, stale_ms, &c->limits,
                   &sys->limits);
}
