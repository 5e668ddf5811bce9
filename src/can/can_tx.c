/* SPDX-License-Identifier: MIT */
/* can_tx.c — what the CAN thread sends: stale policy, operator blocks, due and urgent frames. */
#include "can_priv.h"

#include <errno.h>
#include <string.h>

#include "bmsgw-build.h"
#include "bmsgw/bus.h"
#include "bmsgw/can_out.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"

bool can_tx_link_lost(int err)
{
    return err == ENETDOWN || err == ENODEV || err == ENXIO || err == EBADF;
}

void can_tx_sched_init(struct can_svc *c, int64_t now_ms)
{
    int period_ms[CAN_PROTO_FRAMES_MAX];
    for (unsigned f = 0; f < c->proto->n_frames && f < CAN_PROTO_FRAMES_MAX; f++)
        period_ms[f] = can_proto_period_ms(c->proto, &c->cfg.can, f);
    can_sched_init(&c->sched, c->proto, period_ms, now_ms);
}

/* An urgent frame whose payload says so (Victron: a lower limit, a new alarm) goes out now
 * rather than at the next period. */
static void check_urgent(struct can_svc *c, const struct can_proto_input *in, int64_t now_ms)
{
    uint8_t d[CAN_PROTO_DLC];
    for (unsigned f = 0; f < c->sched.n; f++) {
        can_urgent_fn urgent = c->proto->frames[f].urgent;
        if (urgent && c->have_sent[f] && can_proto_encode(c->proto, f, in, d) > 0 &&
            urgent(c->last_sent[f], d))
            can_sched_expedite(&c->sched, f, now_ms);
    }
}

static void sent_ok(struct can_svc *c, unsigned f, const struct can_frame_io *fr, int64_t now_ms)
{
    can_out_sent(&c->out, c->proto, f, fr->data);
    c->h.tx_frames++;
    c->h.frame_last_ms[f] = now_ms;
    c->h.link.last_ok_ms = now_ms;
    if (c->proto->frames[f].urgent) {
        memcpy(c->last_sent[f], fr->data, CAN_PROTO_DLC);
        c->have_sent[f] = true;
    }
    bus_publish_bytes(c->app->bus, BUS_CAN, BUS_DIR_TX, -1, fr->id, fr->data, fr->dlc);
}

static void send_frame(struct can_svc *c, unsigned f, const struct can_proto_input *in,
                       int64_t now_ms)
{
    struct can_frame_io fr = { .id = c->proto->frames[f].id };
    int rc = can_proto_encode(c->proto, f, in, fr.data);
    if (rc < 0)
        return; /* e.g. no CVL known: the limits frame is withheld, never sent with 0 */
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

static void mode_changed(enum can_out_mode mode)
{
    static const char *const what[] = {
        [CAN_OUT_NORMAL] = "fresh BMS data: sending every frame",
        [CAN_OUT_SILENT] = "no fresh BMS data: CAN frames silenced",
        [CAN_OUT_BLOCK] = "no fresh BMS data: sending blocked limits (CCL = DCL = 0)",
    };
    if (mode == CAN_OUT_NORMAL)
        log_notice("%s", what[mode]);
    else
        log_warn("%s", what[mode]);
}

void can_tx_step(struct can_svc *c, int64_t now_ms)
{
    struct control_state cs = { 0 };
    struct can_out out;
    struct can_proto_input in;
    enum can_out_mode before = c->out.mode;

    if (c->app->control)
        control_get(c->app->control, &cs);
    can_out_decide(&c->cfg, c->sys, &cs, now_ms, &c->out, &out);
    if (out.mode != before)
        mode_changed(out.mode);
    c->h.sending = out.mode != CAN_OUT_SILENT;
    c->h.blocked = out.blocked;
    can_out_input(&out, c->sys, &c->cfg.can, &in);
    in.fw_major = BMSGW_VERSION_MAJOR;
    in.fw_minor = BMSGW_VERSION_MINOR;
    if (out.mode != CAN_OUT_SILENT)
        check_urgent(c, &in, now_ms);
    for (unsigned f = 0; f < c->sched.n && c->fd >= 0; f++) {
        if (!can_sched_due(&c->sched, f, now_ms))
            continue;
        if (out.mode == CAN_OUT_NORMAL ||
            (out.mode == CAN_OUT_BLOCK && !can_out_measurement_frame(c->proto, f)))
            send_frame(c, f, &in, now_ms);
        if (c->fd >= 0) /* silenced frames keep their cadence too: no burst on resume */
            can_sched_done(&c->sched, f, now_ms);
    }
}
