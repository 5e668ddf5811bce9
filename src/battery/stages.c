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

/* A clamp in force at now_ms as the controller takes it. */
static bool clamp_in(const struct control_clamp *c, int64_t now_ms, double *limit_a, int *left_s,
                     const char **by)
{
    if (!control_clamp_active(c, now_ms))
        return false;
    *limit_a = c->limit_a;
    *left_s = (int)((c->until_ms - now_ms + 999) / 1000);
    *by = c->by;
    return true;
}

static void limits_run(void *ctx, struct bmsgw_system *sys, const struct compose_input *in)
{
    struct limits_blocks blocks = { 0 };
    const struct control_state *cs = in->control;

    if (cs) {
        blocks.charge = cs->charge_blocked;
        blocks.discharge = cs->discharge_blocked;
        blocks.charge_by = cs->charge_by;
        blocks.discharge_by = cs->discharge_by;
        blocks.charge_clamped =
            clamp_in(&cs->clamp[CONTROL_CHARGE], in->now_ms, &blocks.charge_clamp_a,
                     &blocks.charge_clamp_left_s, &blocks.clamp_by);
        blocks.discharge_clamped =
            clamp_in(&cs->clamp[CONTROL_DISCHARGE], in->now_ms, &blocks.discharge_clamp_a,
                     &blocks.discharge_clamp_left_s, &blocks.clamp_by);
    }
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
