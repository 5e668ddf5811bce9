/* SPDX-License-Identifier: MIT */
/* tinybms_link.h — TinyBMS requests on a BMS link (the driver's framing). Private to src/bms. */
#ifndef BMSGW_TINYBMS_LINK_H
#define BMSGW_TINYBMS_LINK_H

#include <stdint.h>

#include "bms_link.h"
#include "bmsgw/tinybms_rtu.h"

/*
 * One request and its reply, with the wake-up rule: a request that times out is sent once more
 * (a sleeping TinyBMS ignores the first command), after waiting one maximum frame time and
 * flushing whatever arrived late. For FC3, regs receives req->count registers.
 * Returns 0, -ETIMEDOUT, -EILSEQ (CRC), -EREMOTEIO (the BMS rejected the command; *bms_err),
 * -EPROTO (a reply that answers something else), -ENODEV (the device went away) or -EIO.
 * link->error describes every failure.
 */
int tinybms_link_request(struct bms_link *l, const struct tinybms_req *req, uint16_t *regs,
                         uint8_t *bms_err);

/* Read count registers at addr (split in requests of at most 127). */
int tinybms_link_read(struct bms_link *l, uint16_t addr, uint16_t count, uint16_t *regs);

#endif
