/* SPDX-License-Identifier: MIT */
/* tinybms_driver.c — the TinyBMS as a BMS driver: 115200 8N1, its fixed address. */
#include "bmsgw/bms_driver.h"
#include "bmsgw/tinybms_rtu.h"

const struct bms_driver tinybms_driver = {
    .name = "tinybms",
    .link = { .baud = 115200,
              .parity = 'N',
              .data_bits = 8,
              .stop_bits = 1,
              .slave = TINYBMS_SLAVE },
};
