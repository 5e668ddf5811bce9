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
#include "bmsgw/victron.h"

bool can_tx_link_lost(int err)
{
    return err == ENETDOWN || err == ENODEV || err == ENXIO || err == EBADF;
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
    can_out_sent(&c->out, (enum bmsgw_can_frame)f, fr->data);
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
    struct victron_input in;
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
    for (unsigned f = 0; f < BMSGW_CAN_FRAME_COUNT && c->fd >= 0; f++) {
        if (!can_sched_due(&c->sched, (enum bmsgw_can_frame)f, now_ms))
            continue;
        if (out.mode == CAN_OUT_NORMAL ||
            (out.mode == CAN_OUT_BLOCK && !can_out_measurement_frame((enum bmsgw_can_frame)f)))
            send_frame(c, f, &in, now_ms);
        if (c->fd >= 0) /* silenced frames keep their cadence too: no burst on resume */
            can_sched_done(&c->sched, (enum bmsgw_can_frame)f, now_ms);
    }
}
