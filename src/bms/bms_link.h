/* SPDX-License-Identifier: MIT */
/* bms_link.h — one serial link to a BMS: libmodbus owns the port (termios, RS485, RTS, sending);
 * the driver frames its requests and replies on it (a BMS's replies need not be standard
 * Modbus). Private to src/bms. */
#ifndef BMSGW_BMS_LINK_H
#define BMSGW_BMS_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/bms_driver.h"
#include "bmsgw/bus.h"
#include "bmsgw/config.h"

struct bms_link_counters {
    uint64_t requests; /* frames sent */
    uint64_t timeouts; /* requests without a complete reply in time */
    uint64_t crc_errors;
    uint64_t exceptions;    /* error replies of the BMS, and replies that answer something else */
    uint64_t garbage_bytes; /* bytes skipped to find a frame (unsolicited output, noise) */
};

struct bms_link {
    bool is_open;
    void *ctx; /* modbus_t of a serial link */
    int fd;
    int turnaround_ms; /* bms.timeout_ms: allowed on top of the wire time of request + reply */
    struct bus *bus;   /* raw frames go to BUS_UART (when someone listens) */
    int source;        /* string index */
    unsigned quirks;   /* the driver's own flags for this connection (0 after open) */
    struct bms_link_counters n;
    char error[96]; /* the last failure, for people */
};

/* The serial open of a driver (its baud, parity, bits and address; the adapter's RS485/RTS
 * settings). Returns 0 or -errno with link->error filled ("RS485 mode not applicable" is not an
 * error: *note says so). */
int bms_link_open_serial(struct bms_link *l, const struct bms_driver *drv,
                         const struct cfg_port *port, char *note, unsigned note_size);
void bms_link_close_serial(struct bms_link *l);

/* Through the driver: open clears l->quirks and marks the link open; the counters go on. */
int bms_link_open(struct bms_link *l, const struct bms_driver *drv, const struct cfg_port *port,
                  char *note, unsigned note_size);
void bms_link_close(struct bms_link *l, const struct bms_driver *drv);
bool bms_link_is_open(const struct bms_link *l);

/* Raw bytes of the link for the bus (BUS_UART), when someone listens. */
void bms_link_publish(struct bms_link *l, enum bus_dir dir, const uint8_t *p, size_t n);

#endif
