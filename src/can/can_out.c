/* SPDX-License-Identifier: MIT */
/* can_out.c — the output's mode, stale and operator blocks, the charge-block rule (pure). */
#include "bmsgw/can_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void can_out_init(struct can_out_state *st)
{
    memset(st, 0, sizeof(*st));
}

bool can_out_measurement_frame(const struct can_proto *p, unsigned f)
{
    return f < p->n_frames && p->frames[f].measurement;
}

double can_out_fresh_pack_v(const struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms)
{
    double v = 0;
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        if (bmsgw_string_is_fresh(st, now_ms, stale_after_ms) && st->pack_v > 0 &&
            (v == 0 || st->pack_v < v))
            v = st->pack_v;
    }
    return v;
}

/* v rounded down to the 0.1 V of 0x351. */
static double floor_tenth(double v)
{
    return floor(v * 10.0 + 1e-6) / 10.0;
}

/* Charging blocked: CVL at most v (0 = unknown: left as it is, the frame rules apply). */
static void hold_cvl_at(struct bmsgw_limits *l, double v, const char *why)
{
    if (!(v > 0))
        return;
    double cap = floor_tenth(v);
    if (l->cvl_v > cap) {
        l->cvl_v = cap;
        snprintf(l->cvl_reason, sizeof(l->cvl_reason), "CVL %.1f V — held at pack voltage, %s", cap,
                 why);
    }
}

static void operator_blocks(const struct control_state *cs, uint16_t online, struct can_out *out)
{
    if (!cs)
        return;
    if (cs->charge_blocked) {
        out->lim.ccl_a = 0;
        out->lim.strings_blocking_charge = online;
        snprintf(out->lim.ccl_reason, sizeof(out->lim.ccl_reason), "CCL 0 A — blocked by %s",
                 cs->charge_by[0] ? cs->charge_by : "the operator");
    }
    if (cs->discharge_blocked) {
        out->lim.dcl_a = 0;
        out->lim.strings_blocking_discharge = online;
        snprintf(out->lim.dcl_reason, sizeof(out->lim.dcl_reason), "DCL 0 A — blocked by %s",
                 cs->discharge_by[0] ? cs->discharge_by : "the operator");
    }
    out->blocked = cs->charge_blocked || cs->discharge_blocked;
}

/* Stale data, on_stale = block: nothing charges or discharges, CVL never rises. */
static void stale_block(const struct can_out_state *st, struct can_out *out)
{
    struct bmsgw_limits *l = &out->lim;
    double v = st->fresh_pack_v;
    if (st->sent_cvl_v > 0 && (v == 0 || st->sent_cvl_v < v))
        v = st->sent_cvl_v;
    l->cvl_v = v > 0 ? floor_tenth(v) : 0;
    snprintf(l->cvl_reason, sizeof(l->cvl_reason),
             "CVL %.1f V — no fresh BMS data: last pack voltage or last CVL sent", l->cvl_v);
    l->ccl_a = l->dcl_a = 0;
    snprintf(l->ccl_reason, sizeof(l->ccl_reason), "CCL 0 A — no fresh BMS data");
    snprintf(l->dcl_reason, sizeof(l->dcl_reason), "DCL 0 A — no fresh BMS data");
    l->strings_blocking_charge = l->strings_blocking_discharge = out->agg.strings_configured;
    out->al.a[BMSGW_ALARM_GENERAL].level = BMSGW_LEVEL_ALARM;
    out->agg.strings_online = 0; /* nothing is online when stale */
    out->agg.capacity_ah = 0;
    out->blocked = true;
}

/* Invariant 1 at the output: CCL 0 means CVL <= V and a string counted as blocking. */
static void charge_block_rule(double v, struct can_out *out)
{
    struct bmsgw_limits *l = &out->lim;
    uint16_t n = out->agg.strings_configured ? out->agg.strings_configured : 1;
    if (floor_tenth(l->ccl_a) <= 0) {
        l->ccl_a = 0;
        hold_cvl_at(l, v, "charge blocked");
        if (l->strings_blocking_charge == 0)
            l->strings_blocking_charge = out->agg.strings_online ? out->agg.strings_online : n;
    }
    if (floor_tenth(l->dcl_a) <= 0) {
        l->dcl_a = 0;
        if (l->strings_blocking_discharge == 0)
            l->strings_blocking_discharge = out->agg.strings_online ? out->agg.strings_online : n;
    }
}

void can_out_decide(const struct bmsgw_config *cfg, const struct bmsgw_system *sys,
                    const struct control_state *cs, int64_t now_ms, struct can_out_state *st,
                    struct can_out *out)
{
    int stale_ms = cfg->bms.stale_after_ms;
    double v = can_out_fresh_pack_v(sys, now_ms, stale_ms);
    memset(out, 0, sizeof(*out));
    out->lim = sys->limits;
    out->al = sys->alarms;
    out->agg = sys->agg;
    /* stale = no string is fresh: a string gone stale among fresh ones is left out of the
     * limits and counted offline, the others go on (its data is never used) */
    if (sys->limits.valid && v > 0) {
        out->mode = CAN_OUT_NORMAL;
        st->fresh_pack_v = v;
    } else {
        out->mode = cfg->can.on_stale == CFG_STALE_BLOCK ? CAN_OUT_BLOCK : CAN_OUT_SILENT;
        v = st->fresh_pack_v;
    }
    st->mode = out->mode;
    if (out->mode == CAN_OUT_SILENT)
        return;
    operator_blocks(cs, out->agg.strings_online, out);
    if (out->mode == CAN_OUT_BLOCK)
        stale_block(st, out);
    charge_block_rule(v, out);
}

void can_out_input(const struct can_out *out, const struct bmsgw_system *sys,
                   const struct cfg_can *can, struct can_proto_input *in)
{
    *in = (struct can_proto_input){
        .sys = sys, .agg = &out->agg, .limits = &out->lim, .alarms = &out->al, .can = can
    };
}

void can_out_sent(struct can_out_state *st, const struct can_proto *p, unsigned f,
                  const uint8_t data[CAN_PROTO_DLC])
{
    if ((int)f == p->limits_frame && p->sent_cvl_v)
        st->sent_cvl_v = p->sent_cvl_v(data);
}
