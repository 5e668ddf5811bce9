/* SPDX-License-Identifier: MIT */
/* can_sched.c — when each frame of a protocol is due; error frames to bus states (pure). */
#include "bmsgw/can.h"

#include <linux/can.h>
#include <linux/can/error.h>
#include <stdint.h>
#include <string.h>

void can_sched_init(struct can_sched *s, const struct can_proto *p, const int *period_ms,
                    int64_t now_ms)
{
    int shortest = 0;
    memset(s, 0, sizeof(*s));
    s->n = p->n_frames < CAN_PROTO_FRAMES_MAX ? p->n_frames : CAN_PROTO_FRAMES_MAX;
    for (unsigned f = 0; f < s->n; f++) {
        int per = period_ms[f] > 0 ? period_ms[f] : CAN_SCHED_DEFAULT_PERIOD_MS;
        if (p->frames[f].max_period_ms && per > p->frames[f].max_period_ms)
            per = p->frames[f].max_period_ms;
        s->period_ms[f] = per;
        if (shortest == 0 || per < shortest)
            shortest = per;
    }
    for (unsigned f = 0; f < s->n; f++)
        s->due_ms[f] = now_ms + (int64_t)f * shortest / s->n;
}

int64_t can_sched_next_ms(const struct can_sched *s)
{
    int64_t next = s->n ? s->due_ms[0] : INT64_MAX;
    for (unsigned f = 1; f < s->n; f++)
        if (s->due_ms[f] < next)
            next = s->due_ms[f];
    return next;
}

bool can_sched_due(const struct can_sched *s, unsigned f, int64_t now_ms)
{
    return s->due_ms[f] <= now_ms;
}

void can_sched_done(struct can_sched *s, unsigned f, int64_t now_ms)
{
    int64_t p = s->period_ms[f];
    s->last_ms[f] = now_ms;
    if (s->due_ms[f] > now_ms) { /* an early (immediate) send: one period from now */
        s->due_ms[f] = now_ms + p;
        return;
    }
    s->due_ms[f] += p;
    if (s->due_ms[f] <= now_ms) /* fell behind by more than a period: skip, keep the phase */
        s->due_ms[f] += ((now_ms - s->due_ms[f]) / p + 1) * p;
}

void can_sched_expedite(struct can_sched *s, unsigned f, int64_t now_ms)
{
    int64_t at = now_ms;
    if (s->last_ms[f] && s->last_ms[f] + CAN_SCHED_MIN_GAP_MS > at)
        at = s->last_ms[f] + CAN_SCHED_MIN_GAP_MS;
    if (at < s->due_ms[f])
        s->due_ms[f] = at;
}

int can_error_bus_state(const struct can_frame_io *f)
{
    if (!f->error)
        return -1;
    if (f->id & CAN_ERR_BUSOFF)
        return BMSGW_CAN_BUS_OFF;
    if (f->id & CAN_ERR_RESTARTED)
        return BMSGW_CAN_BUS_ERROR_ACTIVE;
    if (!(f->id & CAN_ERR_CRTL) || f->dlc < 2)
        return -1;
    uint8_t c = f->data[1];
    if (c & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE))
        return BMSGW_CAN_BUS_ERROR_PASSIVE;
    if (c & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING))
        return BMSGW_CAN_BUS_ERROR_WARNING;
    if (c & CAN_ERR_CRTL_ACTIVE)
        return BMSGW_CAN_BUS_ERROR_ACTIVE;
    return -1;
}
