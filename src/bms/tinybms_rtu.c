/* SPDX-License-Identifier: MIT */
/* tinybms_rtu.c — TinyBMS serial frames for both ends of the link (pure). */
#include "bmsgw/tinybms_rtu.h"

#include <errno.h>
#include <string.h>

uint16_t tinybms_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

uint32_t tinybms_wire_us(size_t n_bytes)
{
    return (uint32_t)((n_bytes * 10ull * 1000000ull + 115199ull) / 115200ull);
}

static size_t put_crc(uint8_t *out, size_t len)
{
    uint16_t crc = tinybms_crc16(out, len);
    out[len] = (uint8_t)(crc & 0xFF);
    out[len + 1] = (uint8_t)(crc >> 8);
    return len + 2;
}

static bool crc_ok(const uint8_t *frame, size_t len)
{
    if (len < 4)
        return false;
    uint16_t crc = tinybms_crc16(frame, len - 2);
    return frame[len - 2] == (crc & 0xFF) && frame[len - 1] == (crc >> 8);
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFF);
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

size_t tinybms_req_encode(const struct tinybms_req *req, uint8_t *out, size_t size)
{
    switch (req->fc) {
    case TINYBMS_FC_READ:
        if (size < 8 || req->count < 1 || req->count > TINYBMS_READ_MAX)
            return 0;
        out[0] = TINYBMS_SLAVE;
        out[1] = TINYBMS_FC_READ;
        put_u16(out + 2, req->addr);
        put_u16(out + 4, req->count);
        return put_crc(out, 6);
    case TINYBMS_FC_WRITE:
        if (req->count < 1 || req->count > TINYBMS_WRITE_MAX || !req->values ||
            size < 9u + 2u * req->count)
            return 0;
        out[0] = TINYBMS_SLAVE;
        out[1] = TINYBMS_FC_WRITE;
        put_u16(out + 2, req->addr);
        put_u16(out + 4, req->count);
        out[6] = (uint8_t)(2 * req->count);
        for (unsigned i = 0; i < req->count; i++)
            put_u16(out + 7 + 2 * i, req->values[i]);
        return put_crc(out, 7 + 2u * req->count);
    case TINYBMS_CMD_CONTROL:
        if (size < 5)
            return 0;
        out[0] = TINYBMS_SLAVE;
        out[1] = TINYBMS_CMD_CONTROL;
        out[2] = req->option;
        return put_crc(out, 3);
    default:
        return 0;
    }
}

size_t tinybms_reply_size(const struct tinybms_req *req)
{
    switch (req->fc) {
    case TINYBMS_FC_READ:
        return 5u + 2u * req->count;
    case TINYBMS_FC_WRITE:
        return 8;
    default:
        return 5;
    }
}

/* Every frame starts with 0xAA and a command byte: 1 when both are there, else 0 (more bytes
 * needed) or -EBADMSG (not a frame start). */
static int frame_start(const uint8_t *buf, size_t n)
{
    if (n >= 1 && buf[0] != TINYBMS_SLAVE)
        return -EBADMSG;
    return n >= 2 ? 1 : 0;
}

int tinybms_reply_len(const struct tinybms_req *req, const uint8_t *buf, size_t n)
{
    int start = frame_start(buf, n);
    if (start <= 0)
        return start;
    uint8_t fc = buf[1];
    if (fc == TINYBMS_CMD_NACK) {
        if (n < 3)
            return 0;
        return buf[2] == req->fc ? 6 : -EBADMSG;
    }
    if (fc == TINYBMS_CMD_ACK && req->fc == TINYBMS_CMD_CONTROL)
        return 5;
    if (fc != req->fc)
        return -EBADMSG;
    if (fc == TINYBMS_FC_WRITE)
        return 8;
    if (fc == TINYBMS_FC_READ) {
        if (n < 3)
            return 0;
        /* a byte count that cannot answer this request is not the start of its reply */
        if (buf[2] != 2 * req->count)
            return -EBADMSG;
        return 5 + buf[2];
    }
    return -EBADMSG;
}

int tinybms_reply_decode(const struct tinybms_req *req, const uint8_t *frame, size_t len,
                         uint16_t *regs, uint8_t *bms_err)
{
    if (len < 5 || frame[0] != TINYBMS_SLAVE)
        return -EPROTO;
    if (!crc_ok(frame, len))
        return -EILSEQ;
    uint8_t fc = frame[1];
    if (fc == TINYBMS_CMD_NACK && len == 6 && frame[2] == req->fc) {
        if (bms_err)
            *bms_err = frame[3];
        return -EREMOTEIO;
    }
    if (req->fc == TINYBMS_CMD_CONTROL)
        return fc == TINYBMS_CMD_ACK && len == 5 && frame[2] == TINYBMS_CMD_CONTROL ? 0 : -EPROTO;
    if (fc != req->fc)
        return -EPROTO;
    if (fc == TINYBMS_FC_WRITE)
        return len == 8 && get_u16(frame + 2) == req->addr && get_u16(frame + 4) == req->count
                   ? 0
                   : -EPROTO;
    if (frame[2] != 2 * req->count || len != 5u + frame[2])
        return -EPROTO;
    for (unsigned i = 0; i < req->count; i++)
        regs[i] = get_u16(frame + 3 + 2 * i);
    return 0;
}

int tinybms_reply_scan(struct tinybms_scan *s, const struct tinybms_req *req, const uint8_t *buf,
                       size_t n, size_t *at, size_t *len, uint16_t *regs, uint8_t *bms_err)
{
    while (s->off < n) {
        int l = tinybms_reply_len(req, buf + s->off, n - s->off);
        if (l == -EBADMSG) {
            s->off++;
            s->garbage++;
            continue;
        }
        if (l <= 0 || s->off + (size_t)l > n)
            return TINYBMS_SCAN_MORE;
        *at = s->off;
        *len = (size_t)l;
        int rc = tinybms_reply_decode(req, buf + s->off, (size_t)l, regs, bms_err);
        if (rc != -EILSEQ)
            return rc;
        s->off++; /* a corrupt reply, or garbage that looked like one */
        s->garbage++;
        return TINYBMS_SCAN_CORRUPT;
    }
    return TINYBMS_SCAN_MORE;
}

/* Lengths of the proprietary commands the slave knows, so it can consume them whole and answer
 * with the error reply (the simulator implements only FC3, FC16 and AA 02). */
static int proprietary_len(const uint8_t *buf, size_t n)
{
    uint8_t cmd = buf[1];
    if (cmd == 0x11 || cmd == 0x12 || (cmd >= 0x14 && cmd <= 0x20 && cmd != 0x1D))
        return 4;
    if (cmd == 0x07 || cmd == 0x1D)
        return 7;
    if (cmd == 0x09 || cmd == 0x0B || cmd == 0x0D) {
        if (n < 3)
            return 0;
        return 5 + (buf[2] & 0x7F);
    }
    return -ENOTSUP;
}

int tinybms_request_len(const uint8_t *buf, size_t n)
{
    int start = frame_start(buf, n);
    if (start <= 0)
        return start;
    switch (buf[1]) {
    case TINYBMS_FC_READ:
        return 8;
    case TINYBMS_FC_WRITE:
        if (n < 7)
            return 0;
        return 9 + buf[6];
    case TINYBMS_CMD_CONTROL:
        return 5;
    default:
        return proprietary_len(buf, n);
    }
}

int tinybms_request_decode(const uint8_t *frame, size_t len, struct tinybms_req *req,
                           uint16_t *values)
{
    memset(req, 0, sizeof(*req));
    if (len < 4 || frame[0] != TINYBMS_SLAVE)
        return -EBADMSG;
    req->fc = frame[1];
    if (!crc_ok(frame, len))
        return -EILSEQ;
    switch (req->fc) {
    case TINYBMS_FC_READ:
        if (len != 8)
            return -EBADMSG;
        req->addr = get_u16(frame + 2);
        req->count = get_u16(frame + 4);
        return 0;
    case TINYBMS_FC_WRITE:
        if (len < 9 || len != 9u + frame[6])
            return -EBADMSG;
        req->addr = get_u16(frame + 2);
        req->count = get_u16(frame + 4);
        if (frame[6] != 2 * req->count || req->count > TINYBMS_WRITE_MAX)
            return -EBADMSG;
        for (unsigned i = 0; i < req->count; i++)
            values[i] = get_u16(frame + 7 + 2 * i);
        req->values = values;
        return 0;
    case TINYBMS_CMD_CONTROL:
        if (len != 5)
            return -EBADMSG;
        req->option = frame[2];
        return 0;
    default:
        return 0; /* a proprietary command the caller does not implement */
    }
}

size_t tinybms_read_reply(const uint16_t *regs, unsigned count, uint8_t *out, size_t size)
{
    if (count > TINYBMS_READ_MAX || size < 5u + 2u * count)
        return 0;
    out[0] = TINYBMS_SLAVE;
    out[1] = TINYBMS_FC_READ;
    out[2] = (uint8_t)(2 * count);
    for (unsigned i = 0; i < count; i++)
        put_u16(out + 3 + 2 * i, regs[i]);
    return put_crc(out, 3 + 2u * count);
}

size_t tinybms_write_reply(uint16_t addr, uint16_t count, uint8_t *out, size_t size)
{
    if (size < 8)
        return 0;
    out[0] = TINYBMS_SLAVE;
    out[1] = TINYBMS_FC_WRITE;
    put_u16(out + 2, addr);
    put_u16(out + 4, count);
    return put_crc(out, 6);
}

size_t tinybms_ack_reply(uint8_t cmd, uint8_t *out, size_t size)
{
    if (size < 5)
        return 0;
    out[0] = TINYBMS_SLAVE;
    out[1] = TINYBMS_CMD_ACK;
    out[2] = cmd;
    return put_crc(out, 3);
}

size_t tinybms_error_reply(uint8_t cmd, uint8_t err, uint8_t *out, size_t size)
{
    if (size < 6)
        return 0;
    out[0] = TINYBMS_SLAVE;
    out[1] = TINYBMS_CMD_NACK;
    out[2] = cmd;
    out[3] = err;
    return put_crc(out, 4);
}
