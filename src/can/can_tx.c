/* SPDX-License-Identifier: MIT */
/* can_tx.c — what the CAN thread sends: stale policy, operator blocks, due and urgent frames. */
#include "can_priv.h"

#include <errno.h>
#include <string.h>

#include "bmsgw-build.h"
#include "bmsgw/bus.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/victron.h"

/* Frames that carry measurements: withheld in block mode rather than sent frozen. */
static bool measurement_frame(unsigned f)
{
    return f == BMSGW_CAN_355 || f == BMSGW_CAN_356 || (f >= BMSGW_CAN_373 && f <= BMSGW_CAN_378);
}

bool can_tx_link_lost(int err)
{
    return err == ENETDOWN || err == ENODEV || err == ENXIO || err == EBADF;
}

static enum can_mode decide_mode(const struct can_svc *c, int64_t now_ms)
{
    if (!bmsgw_system_is_stale(c->sys, now_ms, c->cfg.bms.stale_after_ms) && c->sys->limits.valid)
        return CAN_MODE_NORMAL;
    return c->cfg.can.on_stale == CFG_STALE_BLOCK ? CAN_MODE_BLOCK : CAN_MODE_SILENT;
}

struct tx_input {
    struct bmsgw_limits lim;
    struct bmsgw_alarms al;
    struct victron_input in;
};

static void build_input(struct can_svc *c, enum can_mode mode, struct tx_input *t)
{
    struct control_state cs = { 0 };
    struct bmsgw_aggregate *agg = &c->sys->agg;
    if (c->app->control)
        control_get(c->app->control, &cs);
    t->lim = c->sys->limits;
    t->al = c->sys->alarms;
    if (cs.charge_blocked) {
        t->lim.ccl_a = 0;
        t->lim.strings_blocking_charge = agg->strings_online;
    }
    if (cs.discharge_blocked) {
        t->lim.dcl_a = 0;
        t->lim.strings_blocking_discharge = agg->strings_online;
    }
    if (mode == CAN_MODE_BLOCK) {
        t->lim.ccl_a = t->lim.dcl_a = 0;
        t->lim.cvl_v = c->fresh_pack_v > 0 ? c->fresh_pack_v : c->sys->limits.cvl_v;
        t->lim.strings_blocking_charge = t->lim.strings_blocking_discharge =
            agg->strings_configured;
        t->al.a[BMSGW_ALARM_GENERAL].level = BMSGW_LEVEL_ALARM;
        agg->strings_online = 0; /* the thread's own copy: nothing is online when stale */
        agg->capacity_ah = 0;
    }
    c->h.blocked = mode == CAN_MODE_BLOCK || cs.charge_blocked || cs.discharge_blocked;
    t->in = (struct victron_input){
        .sys = c->sys, .limits = &t->lim, .alarms = &t->al, .can = &c->cfg.can
    };
    t->in.fw_major = BMSGW_VERSION_MAJOR;
    t->in.fw_minor = BMSGW_VERSION_MINOR;
}

/* A lower limit or a new alarm goes out now rather than at the next period. */
static void check_urgent(struct can_svc *c, const struct victron_input *in, int64_t now_ms)
{
    uint8_t d[VICTRON_DLC];
    if (c->have351 && victron_encode(BMSGW_CAN_351, in, d) > 0 && can_limits_dropped(c->last351, d))
        can_sched_expedite(&c->sched, BMSGW_CAN_351, now_ms);
    if (c->have35a && victron_encode(BMSGW_CAN_35A, in, d) > 0 && can_alarm_raised(c->last35a, d))
        can_sched_expedite(&c->sched, BMSGW_CAN_35A, now_ms);
}

static void sent_ok(struct can_svc *c, unsigned f, const struct can_frame_io *fr, int64_t now_ms)
{
    c->h.tx_frames++;
    c->h.frame_last_ms[f] = now_ms;
    c->h.link.last_ok_ms = now_ms;
    if (f == BMSGW_CAN_351) {
        memcpy(c->last351, fr->data, VICTRON_DLC);
        c->have351 = true;
    } else if (f == BMSGW_CAN_35A) {
        memcpy(c->last35a, fr->data, VICTRON_DLC);
        c->have35a = true;
    }
    bus_publish_bytes(c->app->bus, BUS_CAN, BUS_DIR_TX, -1, fr->id, fr->data, fr->dlc);
}

static void send_frame(struct can_svc *c, unsigned f, const struct victron_input *in,
                       int64_t now_ms)
{
    struct can_frame_io fr = { .id = victron_frames[f].id };
    int rc = victron_encode((enum bmsgw_can_frame)f, in, fr.data);
    if (rc < 0)
        return; /* e.g. no CVL known: 0x351 is withheld, never sent with 0 */
    fr.dlc = (uint8_t)rc;
    c->h.link.requests++;
    rc = c->ops->send(c->ops_ctx, c->fd, &fr);
    if (rc == 0) {
        sent_ok(c, f, &fr, now_ms);
        return;
    }
    c->h.tx_dropped++;
    if (can_tx_link_lost(-rc))
        can_link_lost(c, now_ms, -rc);
    else if (rc != -ENOBUFS && rc != -EAGAIN)
        log_ratelimited(LOG_WARNING, 10000, "CAN send of 0x%03X failed: %s", fr.id, strerror(-rc));
}

static void mode_changed(struct can_svc *c, enum can_mode mode)
{
    static const char *const what[] = {
        [CAN_MODE_NORMAL] = "fresh BMS data: sending every frame",
        [CAN_MODE_SILENT] = "no fresh BMS data: CAN frames silenced",
        [CAN_MODE_BLOCK] = "no fresh BMS data: sending blocked limits (CCL = DCL = 0)",
    };
    if (mode == CAN_MODE_NORMAL)
        log_notice("%s", what[mode]);
    else
        log_warn("%s", what[mode]);
    c->mode = mode;
}

void can_tx_step(struct can_svc *c, int64_t now_ms)
{
    enum can_mode mode = decide_mode(c, now_ms);
    if (mode != c->mode)
        mode_changed(c, mode);
    if (mode == CAN_MODE_NORMAL)
        c->fresh_pack_v = c->sys->agg.pack_v;
    c->h.sending = mode != CAN_MODE_SILENT;

    struct tx_input t;
    build_input(c, mode, &t);
    if (mode != CAN_MODE_SILENT)
        check_urgent(c, &t.in, now_ms);
    for (unsigned f = 0; f < BMSGW_CAN_FRAME_COUNT && c->fd >= 0; f++) {
        if (!can_sched_due(&c->sched, (enum bmsgw_can_frame)f, now_ms))
            continue;
        if (mode == CAN_MODE_NORMAL || (mode == CAN_MODE_BLOCK && !measurement_frame(f)))
            send_frame(c, f, &t.in, now_ms);
        if (c->fd >= 0) /* silenced frames keep their cadence too: no burst on resume */
            can_sched_done(&c->sched, (enum bmsgw_can_frame)f, now_ms);
    }
}
