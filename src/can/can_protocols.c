/* SPDX-License-Identifier: MIT */
/* can_protocols.c — the CAN protocols built in, and what the configuration asks of them. */
#include "bmsgw/can_proto.h"
#include "bmsgw/victron.h"

#include <stdio.h>

/* The first is the default of can.protocol. Adding a protocol: its files and one line here. */
const struct can_proto *const can_protocols[] = {
    &can_proto_victron,
    NULL,
};

/* ---- config.h's questions (core asks them without knowing any protocol) ------------------ */

unsigned cfg_can_protocol_count(void)
{
    return sizeof(can_protocols) / sizeof(can_protocols[0]) - 1;
}

const char *cfg_can_protocol_name(unsigned p)
{
    return p < cfg_can_protocol_count() ? can_protocols[p]->name : NULL;
}

unsigned cfg_can_frame_count(unsigned p)
{
    return p < cfg_can_protocol_count() ? can_protocols[p]->n_frames : 0;
}

void cfg_can_frame(unsigned p, unsigned i, unsigned *can_id, int *period_ms)
{
    const struct can_proto_frame *f = &can_protocols[p]->frames[i];
    *can_id = f->id;
    *period_ms = f->period_ms;
}

int cfg_can_name_check(int p, const char *text, char *why, size_t size)
{
    const struct can_proto *pr =
        can_protocols[p >= 0 && (unsigned)p < cfg_can_protocol_count() ? p : 0];
    const char *bad = pr->name_rule ? pr->name_rule(text) : NULL;
    if (!bad)
        return 0;
    snprintf(why, size, "contains %s: %s", bad, pr->name_rule_why);
    return 1;
}
