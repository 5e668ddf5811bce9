/* SPDX-License-Identifier: MIT */
/* bms_driver.h — what a BMS type tells the generic link and poller (in the style of libmodbus's
 * backend table). So far: its name and the serial parameters of its link; the poll plan, decode,
 * settings, commands and event log are still TinyBMS code in src/bms/. */
#ifndef BMSGW_BMS_DRIVER_H
#define BMSGW_BMS_DRIVER_H

#include <stdint.h>

struct bms_link_params {
    int baud;
    char parity; /* 'N', 'E' or 'O', as modbus_new_rtu() takes it */
    int data_bits;
    int stop_bits;
    int slave; /* the Modbus address the link talks to */
};

struct bms_driver {
    const char *name; /* the value of bms.ports[].type */
    struct bms_link_params link;
};

/* The TinyBMS (src/bms/tinybms_driver.c). */
extern const struct bms_driver tinybms_driver;

/* The drivers built in, NULL-terminated; the first is the default (src/bms/bms_drivers.c). */
extern const struct bms_driver *const bms_drivers[];

struct cfg_port;
/* The driver bms.ports[].type of this port selects (the default one for an index out of range,
 * which validation never lets through). */
const struct bms_driver *bms_driver_of(const struct cfg_port *port);

#endif
