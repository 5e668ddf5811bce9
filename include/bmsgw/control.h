/* SPDX-License-Identifier: MIT */
/* control.h — operator commands from outside (Modbus coils, pack12s commands, the API). */
#ifndef BMSGW_CONTROL_H
#define BMSGW_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Operator blocks force CCL (charge) or DCL (discharge) to 0 until released; the limits
 * controller and the CAN thread apply them. A clamp (MQTT commands) caps CCL or DCL at a value
 * until a deadline and then ends by itself: the limits controller sends min(its limit, clamp),
 * so a clamp only ever lowers a limit. Alert acknowledgements requested over Modbus are
 * counted here and consumed by the alerts owner. All calls are thread-safe and never block long.
 */

enum control_dir {
    CONTROL_CHARGE = 0,
    CONTROL_DISCHARGE,
};

struct control_clamp {
    bool set;         /* a clamp was set; it holds while now < until_ms */
    double limit_a;   /* >= 0 */
    int64_t until_ms; /* monotonic */
    char by[32];      /* "mqtt" */
};

struct control_state {
    bool charge_blocked;
    bool discharge_blocked;
    char charge_by[32]; /* who set the block ("modbus coil 100", "pack12s cmd03", "api") */
    char discharge_by[32];
    int64_t charge_since_ms; /* monotonic */
    int64_t discharge_since_ms;
    uint64_t ack_requests;         /* total "acknowledge all alerts" requests */
    struct control_clamp clamp[2]; /* by enum control_dir */
};

/* True when clamp c holds at now_ms. */
bool control_clamp_active(const struct control_clamp *c, int64_t now_ms);

struct control;

struct control *control_new(void);
void control_free(struct control *c);

/* Set or release a block; by names the source. Returns true when the state changed. */
bool control_set_block(struct control *c, enum control_dir dir, bool blocked, const char *by,
                       int64_t now_ms);
bool control_blocked(struct control *c, enum control_dir dir);
void control_get(struct control *c, struct control_state *out);

/* Cap dir's current limit at limit_a (>= 0) until until_ms (monotonic), replacing the clamp
 * before; by names the source. */
void control_set_clamp(struct control *c, enum control_dir dir, double limit_a, int64_t until_ms,
                       const char *by);

void control_request_ack_all(struct control *c);
uint64_t control_ack_requests(struct control *c);

#endif
