/* SPDX-License-Identifier: MIT */
/* bms_link.h — one TinyBMS serial link: libmodbus owns the port (termios, RS485, RTS, sending);
 * replies are framed here, because the BMS's own replies are not standard Modbus. */
#ifndef BMSGW_BMS_LINK_H
#define BMSGW_BMS_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/bms_driver.h"
#include "bmsgw/config.h"
#include "bmsgw/tinybms_rtu.h"

struct bus;

struct bms_link_counters {
    uint64_t requests; /* frames sent */
    uint64_t timeouts; /* requests without a complete reply in time */
    uint64_t crc_errors;
    uint64_t exceptions;    /* error replies of the BMS, and replies that answer something else */
    uint64_t garbage_bytes; /* bytes skipped to find a frame (unsolicited output, noise) */
};

struct bms_link {
    void *ctx; /* modbus_t */
    int fd;
    int turnaround_ms; /* bms.timeout_ms: allowed on top of the wire time of request + reply */
    struct bus *bus;   /* raw frames go to BUS_UART (when someone listens) */
    int source;        /* string index */
    struct bms_link_counters n;
    char error[96]; /* the last failure, for people */
};

/* Open the port (the driver's baud, parity, bits and address; the adapter's RS485/RTS settings).
 * Returns 0 or -errno with link->error filled ("RS485 mode not applicable" is not an error:
 * *note says so). */
int bms_link_open(struct bms_link *l, const struct bms_driver *drv, const struct cfg_port *port,
                  char *note, unsigned note_size);
void bms_link_close(struct bms_link *l);
bool bms_link_is_open(const struct bms_link *l);

/*
 * One request and its reply, with the wake-up rule: a request that times out is sent once more
 * (a sleeping TinyBMS ignores the first command), after waiting one maximum frame time and
 * flushing whatever arrived late. For FC3, regs receives req->count registers.
 * Returns 0, -ETIMEDOUT, -EILSEQ (CRC), -EREMOTEIO (the BMS rejected the command; *bms_err),
 * -EPROTO (a reply that answers something else), -ENODEV (the device went away) or -EIO.
 * link->error describes every failure.
 */
int bms_link_request(struct bms_link *l, const struct tinybms_req *req, uint16_t *regs,
                     uint8_t *bms_err);

/* Read count registers at addr (split in requests of at most 127). */
int bms_link_read(struct bms_link *l, uint16_t addr, uint16_t count, uint16_t *regs);

#endif
