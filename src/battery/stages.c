/* SPDX-License-Identifier: MIT */
/* stages.c — aggregation, alarms and limits as the composer's stages (pure). */
#include "bmsgw/battery_stages.h"

#include "bmsgw/aggregate.h"
#include "bmsgw/alarms.h"
#include "bmsgw/limits.h"

static void aggregate_run(void *ctx, struct bmsgw_system *sys, const struct compose_input *in)
{
    (void)ctx;
    bmsgw_system_aggregate(sys, in->now_ms, in->stale_after_ms);
}

static void alarms_stage_init(void *ctx)
{
    alarms_init(ctx);
}

static void alarms_run(void *ctx, struct bmsgw_system *sys, const struct compose_input *in)
{
    alarms_evaluate(&in->cfg->alarms, sys, in->now_ms, in->stale_after_ms, ctx, &sys->alarms);
}

static void limits_stage_init(void *ctx)
{
    limits_init(ctx);
}

static void limits_run(void *ctx, struct bmsgw_system *sys, const struct compose_input *in)
{
    struct limits_blocks blocks = { 0 };
    const struct control_state *cs = in->control;

    if (cs)
        blocks = (struct limits_blocks){ .charge = cs->charge_blocked,
                                         .discharge = cs->discharge_blocked,
                                         .charge_by = cs->charge_by,
                                         .discharge_by = cs->discharge_by };
    limits_compute(&in->cfg->limits, &in->cfg->alarms, sys, &blocks, in->now_ms, in->stale_after_ms,
                   ctx, &sys->limits);
}

static const struct snapshot_stage battery_stages[] = {
    { .name = "aggregate", .ctx_size = 0, .run = aggregate_run },
    { .name = "alarms",
      .ctx_size = sizeof(struct alarms_state),
      .init = alarms_stage_init,
      .run = alarms_run },
    { .name = "limits",
      .ctx_size = sizeof(struct limits_state),
      .init = limits_stage_init,
      .run = limits_run },
};

_Static_assert(sizeof(struct alarms_state) + sizeof(struct limits_state) + 64 <=
                   COMPOSE_STATE_BYTES,
               "the battery's stage state fits the composer");

int battery_stages_register(struct composer *c)
{
    for (unsigned i = 0; i < sizeof(battery_stages) / sizeof(battery_stages[0]); i++) {
        int rc = compose_stage_register(c, &battery_stages[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}
