/* SPDX-License-Identifier: MIT */
/* control.h — operator commands from outside (Modbus coils, pack12s commands, the API). */
#ifndef BMSGW_CONTROL_H
#define BMSGW_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Operator blocks force CCL (charge) or DCL (discharge) to 0 until released; the limits
 * controller and the CAN thread apply them. Alert acknowledgements requested over Modbus are
 * counted here and consumed by the alerts owner. All calls are thread-safe and never block long.
 */

enum control_dir {
    CONTROL_CHARGE = 0,
    CONTROL_DISCHARGE,
};

struct control_state {
    bool charge_blocked;
    bool discharge_blocked;
    char charge_by[32]; /* who set the block ("modbus coil 100", "pack12s cmd03", "api") */
    char discharge_by[32];
    int64_t charge_since_ms; /* monotonic */
    int64_t discharge_since_ms;
    uint64_t ack_requests; /* total "acknowledge all alerts" requests */
};

struct control;

struct control *control_new(void);
void control_free(struct control *c);

/* Set or release a block; by names the source. Returns true when the state changed. */
bool control_set_block(struct control *c, enum control_dir dir, bool blocked, const char *by,
                       int64_t now_ms);
bool control_blocked(struct control *c, enum control_dir dir);
void control_get(struct control *c, struct control_state *out);

void control_request_ack_all(struct control *c);
uint64_t control_ack_requests(struct control *c);

#endif
