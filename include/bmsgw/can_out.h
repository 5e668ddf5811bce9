/* SPDX-License-Identifier: MIT */
/* can_out.h — what the CAN output sends, decided from the composed system (pure). */
#ifndef BMSGW_CAN_OUT_H
#define BMSGW_CAN_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/control.h"
#include "bmsgw/model.h"
#include "bmsgw/can_proto.h"

/*
 * The last step between the snapshot and the bus, shared by the CAN thread and the tests. From
 * the composed system (aggregate, alarms, limits), the operator blocks of this moment (they may
 * be newer than the last commit) and the data's age it decides the mode and the limits and
 * alarms the encoders read, enforcing spec/victron-can.md "Safety invariants" at the output:
 *
 *   normal  fresh data and valid limits: the controller's limits; an operator block forces
 *           CCL or DCL to 0 at once.
 *   silent  stale (no string fresh at this moment, or no valid limits), can.on_stale =
 *           "silence": nothing is sent.
 *   block   stale, can.on_stale = "block": CCL = DCL = 0, CVL = min(last CVL sent, last fresh
 *           pack voltage) (block mode never raises CVL), the general alarm, every string
 *           counted offline and blocking; the measurement frames are withheld.
 *
 * Whenever CCL is 0 (for any reason) CVL is at most V, the lowest fresh pack voltage over the
 * online strings (the last one seen when stale), rounded down to 0.1 V, and at least one string
 * is counted blocking charge (Victron: 0x372); DCL = 0 likewise counts a string blocking
 * discharge.
 */

enum can_out_mode {
    CAN_OUT_NORMAL = 0,
    CAN_OUT_SILENT,
    CAN_OUT_BLOCK,
};

/* Carried from one decision to the next (one per output). */
struct can_out_state {
    enum can_out_mode mode;
    double fresh_pack_v; /* V of the newest fresh data, 0 = none yet */
    double sent_cvl_v;   /* CVL of the last 0x351 sent, 0 = none yet */
};

/* What the encoders read for one send pass. */
struct can_out {
    enum can_out_mode mode;
    bool blocked; /* a stale or operator block applies */
    struct bmsgw_limits lim;
    struct bmsgw_alarms al;
    struct bmsgw_aggregate agg; /* the system's, with nothing online in block mode */
};

void can_out_init(struct can_out_state *st);

/* The lowest pack voltage over the strings fresh at now_ms, or 0 when none is. */
double can_out_fresh_pack_v(const struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms);

/*
 * Decide the output at now_ms for sys (composed) with the operator state cs (may be NULL):
 * fills *out and updates *st. cfg gives can.on_stale and bms.stale_after_ms.
 */
void can_out_decide(const struct bmsgw_config *cfg, const struct bmsgw_system *sys,
                    const struct control_state *cs, int64_t now_ms, struct can_out_state *st,
                    struct can_out *out);

/* The encoders' input for out (sys: the same composed system; the aggregate the frames count
 * is taken from out). */
void can_out_input(const struct can_out *out, const struct bmsgw_system *sys,
                   const struct cfg_can *can, struct can_proto_input *in);

/* Frame f of protocol p with payload data went on the bus: remembers the CVL of the limits
 * frame. */
void can_out_sent(struct can_out_state *st, const struct can_proto *p, unsigned f,
                  const uint8_t data[CAN_PROTO_DLC]);

/* True when frame f of p carries measurements (withheld in block mode rather than sent
 * frozen). */
bool can_out_measurement_frame(const struct can_proto *p, unsigned f);

#endif
