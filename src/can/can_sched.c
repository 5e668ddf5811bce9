/* SPDX-License-Identifier: MIT */
/* can_sched.c — when each Victron frame is due, and when one must go out at once (pure). */
#include "bmsgw/can.h"

#include <linux/can.h>
#include <linux/can/error.h>
#include <string.h>

static bool in_group(unsigned f)
{
    return f == BMSGW_CAN_351 || f == BMSGW_CAN_355 || f == BMSGW_CAN_356 || f == BMSGW_CAN_35A;
}

void can_sched_init(struct can_sched *s, const int period_ms[BMSGW_CAN_FRAME_COUNT], int64_t now_ms)
{
    int shortest = 0;
    memset(s, 0, sizeof(*s));
    for (unsigned f = 0; f < BMSGW_CAN_FRAME_COUNT; f++) {
        int p = period_ms[f] > 0 ? period_ms[f] : CAN_GROUP_MAX_PERIOD_MS;
        if (in_group(f) && p > CAN_GROUP_MAX_PERIOD_MS)
            p = CAN_GROUP_MAX_PERIOD_MS;
        s->period_ms[f] = p;
        if (shortest == 0 || p < shortest)
            shortest = p;
    }
    for (unsigned f = 0; f < BMSGW_CAN_FRAME_COUNT; f++)
        s->due_ms[f] = now_ms + (int64_t)f * shortest / BMSGW_CAN_FRAME_COUNT;
}

int64_t can_sched_next_ms(const struct can_sched *s)
{
    int64_t next = s->due_ms[0];
    for (unsigned f = 1; f < BMSGW_CAN_FRAME_COUNT; f++)
        if (s->due_ms[f] < next)
            next = s->due_ms[f];
    return next;
}

bool can_sched_due(const struct can_sched *s, enum bmsgw_can_frame f, int64_t now_ms)
{
    return s->due_ms[f] <= now_ms;
}

void can_sched_done(struct can_sched *s, enum bmsgw_can_frame f, int64_t now_ms)
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

void can_sched_expedite(struct can_sched *s, enum bmsgw_can_frame f, int64_t now_ms)
{
    int64_t at = now_ms;
    if (s->last_ms[f] && s->last_ms[f] + CAN_SCHED_MIN_GAP_MS > at)
        at = s->last_ms[f] + CAN_SCHED_MIN_GAP_MS;
    if (at < s->due_ms[f])
        s->due_ms[f] = at;
}

static int32_t le16(const uint8_t *b, bool is_signed)
{
    uint16_t v = (uint16_t)(b[0] | b[1] << 8);
    return is_signed ? (int16_t)v : v;
}

bool can_limits_dropped(const uint8_t prev[8], const uint8_t next[8])
{
    for (unsigned k = 0; k < 4; k++) {
        bool sgn = k == 1 || k == 2; /* CCL, DCL */
        if (le16(next + 2 * k, sgn) < le16(prev + 2 * k, sgn))
            return true;
    }
    return false;
}

bool can_alarm_raised(const uint8_t prev[8], const uint8_t next[8])
{
    for (unsigned b = 0; b < 8; b++)
        for (unsigned k = 0; k < 4; k++)
            if (((next[b] >> (2 * k)) & 3) == 1 && ((prev[b] >> (2 * k)) & 3) != 1)
                return true;
    return false;
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
