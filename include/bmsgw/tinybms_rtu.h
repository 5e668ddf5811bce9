/* SPDX-License-Identifier: MIT */
/* tinybms_rtu.h — TinyBMS serial frames: Modbus RTU FC3/FC16, its own ACK/error replies, and
 * the proprietary reset/clear commands; for the poller (master) and the simulator (slave). */
#ifndef BMSGW_TINYBMS_RTU_H
#define BMSGW_TINYBMS_RTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every frame starts with 0xAA (the Modbus slave id 170) and ends with a CRC-16/Modbus, low byte
 * first. Besides the standard FC3/FC16 frames the BMS sends two of its own:
 *   error reply  AA 00 <cmd> <err> CRC   (err 0 = command error, 1 = CRC error): not standard
 *                                         Modbus; reported as "BMS rejected the command"
 *   ACK          AA 01 <cmd> CRC          (answer to the proprietary AA 02 <option> commands)
 * Pure functions: no I/O.
 */

#define TINYBMS_SLAVE       0xAA
#define TINYBMS_FC_READ     0x03
#define TINYBMS_FC_WRITE    0x10
#define TINYBMS_CMD_NACK    0x00
#define TINYBMS_CMD_ACK     0x01
#define TINYBMS_CMD_CONTROL 0x02 /* AA 02 <option>: reset, clear events, clear statistics */
#define TINYBMS_READ_MAX    127
#define TINYBMS_WRITE_MAX   100
#define TINYBMS_FRAME_MAX   (5 + 2 * TINYBMS_READ_MAX) /* 259: the longest read reply */
#define TINYBMS_ERR_COMMAND 0
#define TINYBMS_ERR_CRC     1

enum tinybms_control_option {
    TINYBMS_CLEAR_EVENTS = 0x01,
    TINYBMS_CLEAR_STATS = 0x02,
    TINYBMS_RESET = 0x05,
};

/* A request: FC3 (addr, count), FC16 (addr, count, values) or the control command (option). */
struct tinybms_req {
    uint8_t fc;
    uint16_t addr;
    uint16_t count;
    uint8_t option;
    const uint16_t *values; /* FC16: count values */
};

uint16_t tinybms_crc16(const uint8_t *p, size_t n);

/* Wire time in microseconds of n bytes at 115200 baud 8N1 (10 bits per byte). */
uint32_t tinybms_wire_us(size_t n_bytes);

/* ---- master side -------------------------------------------------------------------------- */

/* Encode a request with its CRC. Returns the frame length, or 0 when it does not fit or the
 * request breaks a limit (count 1..127 for reads, 1..100 for writes). */
size_t tinybms_req_encode(const struct tinybms_req *req, uint8_t *out, size_t size);

/* Length of the full reply to req (so the receive timeout can be sized). */
size_t tinybms_reply_size(const struct tinybms_req *req);

/*
 * Framing a reply to req from the n bytes received so far (buf[0] is the candidate first byte).
 * Returns > 0: the frame's total length (complete when <= n); 0: more bytes are needed to tell;
 * -EBADMSG: buf cannot start a reply to req (the caller drops one byte and tries again, which
 * resynchronises after garbage or unsolicited ASCII output).
 */
int tinybms_reply_len(const struct tinybms_req *req, const uint8_t *buf, size_t n);

/*
 * Check a complete reply frame to req. For FC3, regs receives count registers. Returns 0,
 * -EILSEQ (CRC mismatch), -EREMOTEIO (the BMS's error reply; *bms_err = its code), or -EPROTO (a
 * valid frame that does not answer req: other function, count or address).
 */
int tinybms_reply_decode(const struct tinybms_req *req, const uint8_t *frame, size_t len,
                         uint16_t *regs, uint8_t *bms_err);

/*
 * Finding the reply to req in a receive buffer that may also hold garbage, unsolicited ASCII
 * output or corrupt frames. Call again with the same scan state after more bytes arrived.
 * Returns:
 *   TINYBMS_SCAN_MORE     more bytes are needed
 *   TINYBMS_SCAN_CORRUPT  a frame-shaped candidate at [*at, *at + *len) failed its CRC; the
 *                         next call scans on from its second byte (it may have been garbage)
 *   0                     the reply is at [*at, *at + *len); regs (FC3) are filled
 *   -EREMOTEIO / -EPROTO  a well-formed frame at [*at, *at + *len) that is the BMS's error
 *                         reply (*bms_err) or that answers another request
 * s->garbage counts the bytes skipped so far. buf may move between calls as long as the bytes
 * from s->off on stay in place relative to each other (the caller adjusts s->off).
 */
struct tinybms_scan {
    size_t off;     /* where scanning continues */
    size_t garbage; /* bytes skipped */
};

enum { TINYBMS_SCAN_MORE = 1, TINYBMS_SCAN_CORRUPT = 2 };

int tinybms_reply_scan(struct tinybms_scan *s, const struct tinybms_req *req, const uint8_t *buf,
                       size_t n, size_t *at, size_t *len, uint16_t *regs, uint8_t *bms_err);

/* ---- slave side (the simulator) ----------------------------------------------------------- */

/*
 * Framing a request: > 0 its total length (complete when <= n), 0 more bytes needed,
 * -EBADMSG not a frame start (drop a byte), -ENOTSUP a command whose length is unknown (the
 * slave answers with the error reply once the line is quiet).
 */
int tinybms_request_len(const uint8_t *buf, size_t n);

/* Decode a complete request frame. values (room for TINYBMS_WRITE_MAX) receives FC16 data and
 * req->values points at it. Returns 0, -EILSEQ (CRC), -EBADMSG (malformed). */
int tinybms_request_decode(const uint8_t *frame, size_t len, struct tinybms_req *req,
                           uint16_t *values);

/* Replies; each returns its length (0 when size is too small). */
size_t tinybms_read_reply(const uint16_t *regs, unsigned count, uint8_t *out, size_t size);
size_t tinybms_write_reply(uint16_t addr, uint16_t count, uint8_t *out, size_t size);
size_t tinybms_ack_reply(uint8_t cmd, uint8_t *out, size_t size);
size_t tinybms_error_reply(uint8_t cmd, uint8_t err, uint8_t *out, size_t size);

#endif
