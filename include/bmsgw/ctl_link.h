/* SPDX-License-Identifier: MIT */
/* ctl_link.h — bmsctl's Modbus TCP master: one libmodbus connection, batched reads, writes. */
#ifndef BMSGW_CTL_LINK_H
#define BMSGW_CTL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/ctl_query.h"
#include "bmsgw/mbmap.h"

/*
 * One connection to one device (host, port, unit id), opened on first use and again after an
 * I/O error. Every call either succeeds or leaves a failure record that says what was asked
 * (function code, addresses) and what went wrong (a Modbus exception, a timeout, a refused
 * connection), which ctl_failure_text() turns into words.
 */

struct ctl_link_cfg {
    char host[256];
    int port;
    int unit; /* 0..255 */
    int timeout_ms;
};

struct ctl_failure {
    int exception; /* Modbus exception code of the answer, 0 when there was none */
    int err;       /* errno (libmodbus's own codes included) when there was no answer */
    int fc;        /* function code of the request; 0 while connecting */
    unsigned addr, qty;
};

/* A documented outcome of the calls below: the device answered with an exception. */
#define CTL_LINK_EXCEPTION 1

struct ctl_link;

/* Returns NULL on allocation failure. Does not connect yet. */
struct ctl_link *ctl_link_new(const struct ctl_link_cfg *cfg);
void ctl_link_free(struct ctl_link *l);

/* Connect unless connected. Returns 0 or -errno (-EHOSTUNREACH... ; -ENOENT: unknown host). */
int ctl_link_connect(struct ctl_link *l);
void ctl_link_disconnect(struct ctl_link *l);

/* Read the spans of table (FC3, FC1 or FC2) into img, in order, stopping at the first failure.
 * Returns 0, CTL_LINK_EXCEPTION, or -errno (the connection is closed then). */
int ctl_link_read(struct ctl_link *l, int table, const struct mbmap_span *spans, unsigned n,
                  struct ctl_image *img);

/* FC5 / FC6 (one register) or FC16. Returns as ctl_link_read(). */
int ctl_link_write_coil(struct ctl_link *l, unsigned addr, bool on);
int ctl_link_write_regs(struct ctl_link *l, unsigned addr, const uint16_t *regs, unsigned n);

const struct ctl_failure *ctl_link_failure(const struct ctl_link *l);

/* "illegal data address 6002 (FC3 read of 1 register at 6002)", "connection refused", "no answer
 * within 1000 ms (FC1 read of 8 coils at 0-7)" into buf; returns buf. */
const char *ctl_failure_text(const struct ctl_failure *f, int timeout_ms, char *buf, size_t size);

#endif
