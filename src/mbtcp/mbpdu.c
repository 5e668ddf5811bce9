/* SPDX-License-Identifier: MIT */
/* mbpdu.c — MBAP framing and the request PDUs of every function code the maps support (pure). */
#include "bmsgw/mbpdu.h"

#include <errno.h>
#include <string.h>

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

int mbap_frame_len(const uint8_t *buf, size_t len)
{
    if (len >= 4 && be16(buf + 2) != 0)
        return -EPROTO;
    if (len < 6)
        return 0;
    unsigned n = be16(buf + 4); /* unit id + PDU */
    if (n < 2 || n > MBPDU_MAX_LEN + 1)
        return -EPROTO;
    size_t total = 6 + n;
    return len >= total ? (int)total : 0;
}

size_t mbpdu_exception(uint8_t fc, uint8_t code, uint8_t *resp)
{
    resp[0] = (uint8_t)(fc | 0x80);
    resp[1] = code;
    return 2;
}

bool mbpdu_is_write(uint8_t fc)
{
    return fc == MBPDU_WRITE_COIL || fc == MBPDU_WRITE_REGISTER || fc == MBPDU_WRITE_COILS ||
           fc == MBPDU_WRITE_REGISTERS;
}

/* A read request's length, quantity, addresses and staleness. Returns the exception code or 0
 * with *addr and *qty set. */
static int check_read(const struct mbpdu_target *t, const uint8_t *req, size_t len, int table,
                      unsigned *addr, unsigned *qty)
{
    unsigned any, all;
    unsigned max = table == MBMAP_REGS ? MBMAP_MAX_READ_REGS : MBMAP_MAX_READ_BITS;
    if (len != 5)
        return MBMAP_EX_ILLEGAL_VALUE;
    *addr = be16(req + 1);
    *qty = be16(req + 3);
    if (*qty < 1 || *qty > max)
        return MBMAP_EX_ILLEGAL_VALUE;
    if (*addr + *qty > MBMAP_ADDR_SPACE)
        return MBMAP_EX_ILLEGAL_ADDRESS;
    mbmap_image_flags(t->img, table, *addr, *qty, &any, &all);
    if (!(all & MBMAP_A_DECLARED))
        return MBMAP_EX_ILLEGAL_ADDRESS;
    if ((any & MBMAP_A_LIVE) && t->stale && !t->serve_stale)
        return MBMAP_EX_DEVICE_FAILURE;
    return 0;
}

static size_t read_bits(const struct mbpdu_target *t, const uint8_t *req, size_t len, uint8_t *resp)
{
    uint8_t fc = req[0];
    int table = fc == MBPDU_READ_COILS ? MBMAP_COILS : MBMAP_DISCRETE;
    unsigned addr, qty;
    int ex = check_read(t, req, len, table, &addr, &qty);
    if (ex)
        return mbpdu_exception(fc, (uint8_t)ex, resp);
    unsigned nbytes = (qty + 7) / 8;
    const uint8_t *bits = t->img->bits[table] + addr;
    resp[0] = fc;
    resp[1] = (uint8_t)nbytes;
    memset(resp + 2, 0, nbytes);
    for (unsigned i = 0; i < qty; i++)
        if (bits[i])
            resp[2 + i / 8] |= (uint8_t)(1u << (i % 8));
    return 2 + nbytes;
}

static size_t read_regs(const struct mbpdu_target *t, const uint8_t *req, size_t len, uint8_t *resp)
{
    uint8_t fc = req[0];
    unsigned addr, qty;
    int ex = check_read(t, req, len, MBMAP_REGS, &addr, &qty);
    if (ex)
        return mbpdu_exception(fc, (uint8_t)ex, resp);
    const uint16_t *regs = t->img->regs + addr;
    resp[0] = fc;
    resp[1] = (uint8_t)(2 * qty);
    for (unsigned i = 0; i < qty; i++) {
        resp[2 + 2 * i] = (uint8_t)(regs[i] >> 8);
        resp[3 + 2 * i] = (uint8_t)regs[i];
    }
    return 2 + 2 * qty;
}

/* Decode, validate and hand the values to the owner. Returns an exception code or 0. */
static int apply_write(const struct mbpdu_target *t, int table, unsigned addr, unsigned qty,
                       const uint16_t *regs, const uint8_t *bits)
{
    unsigned n;
    if (addr + qty > MBMAP_ADDR_SPACE)
        return MBMAP_EX_ILLEGAL_ADDRESS;
    int ex = mbmap_write_decode(t->img, table, addr, qty, regs, bits, t->sim_writes, t->wbuf,
                                MBMAP_MAX_WRITE_BITS, &n);
    if (ex)
        return ex;
    return t->write ? t->write(t->write_ctx, t->wbuf, n) : MBMAP_EX_DEVICE_FAILURE;
}

static size_t write_single(const struct mbpdu_target *t, const uint8_t *req, size_t len,
                           uint8_t *resp)
{
    uint8_t fc = req[0];
    if (len != 5)
        return mbpdu_exception(fc, MBMAP_EX_ILLEGAL_VALUE, resp);
    unsigned addr = be16(req + 1), value = be16(req + 3);
    int ex;
    if (fc == MBPDU_WRITE_COIL) {
        if (value != 0x0000 && value != 0xFF00)
            return mbpdu_exception(fc, MBMAP_EX_ILLEGAL_VALUE, resp);
        uint8_t bit = value != 0;
        ex = apply_write(t, MBMAP_COILS, addr, 1, NULL, &bit);
    } else {
        uint16_t reg = (uint16_t)value;
        ex = apply_write(t, MBMAP_REGS, addr, 1, &reg, NULL);
    }
    if (ex)
        return mbpdu_exception(fc, (uint8_t)ex, resp);
    memcpy(resp, req, 5); /* the echo */
    return 5;
}

static size_t write_multiple(const struct mbpdu_target *t, const uint8_t *req, size_t len,
                             uint8_t *resp)
{
    uint8_t fc = req[0];
    if (len < 6)
        return mbpdu_exception(fc, MBMAP_EX_ILLEGAL_VALUE, resp);
    unsigned addr = be16(req + 1), qty = be16(req + 3), nbytes = req[5];
    bool coils = fc == MBPDU_WRITE_COILS;
    unsigned max = coils ? MBMAP_MAX_WRITE_BITS : MBMAP_MAX_WRITE_REGS;
    unsigned want = coils ? (qty + 7) / 8 : 2 * qty;
    if (qty < 1 || qty > max || nbytes != want || len != 6 + nbytes)
        return mbpdu_exception(fc, MBMAP_EX_ILLEGAL_VALUE, resp);
    const uint8_t *data = req + 6;
    int ex;
    if (coils) {
        uint8_t bits[MBMAP_MAX_WRITE_BITS];
        for (unsigned i = 0; i < qty; i++)
            bits[i] = (data[i / 8] >> (i % 8)) & 1;
        ex = apply_write(t, MBMAP_COILS, addr, qty, NULL, bits);
    } else {
        uint16_t regs[MBMAP_MAX_WRITE_REGS];
        for (unsigned i = 0; i < qty; i++)
            regs[i] = (uint16_t)be16(data + 2 * i);
        ex = apply_write(t, MBMAP_REGS, addr, qty, regs, NULL);
    }
    if (ex)
        return mbpdu_exception(fc, (uint8_t)ex, resp);
    memcpy(resp, req, 5); /* function, address, quantity */
    return 5;
}

size_t mbpdu_answer(const struct mbpdu_target *t, const uint8_t *req, size_t len, uint8_t *resp)
{
    if (len < 1)
        return mbpdu_exception(0, MBMAP_EX_ILLEGAL_FUNCTION, resp);
    uint8_t fc = req[0];
    if (mbpdu_is_write(fc) && !t->allow_writes)
        return mbpdu_exception(fc, MBMAP_EX_ILLEGAL_FUNCTION, resp);
    switch (fc) {
    case MBPDU_READ_COILS:
    case MBPDU_READ_DISCRETE:
        return read_bits(t, req, len, resp);
    case MBPDU_READ_HOLDING:
    case MBPDU_READ_INPUT:
        return read_regs(t, req, len, resp);
    case MBPDU_WRITE_COIL:
    case MBPDU_WRITE_REGISTER:
        return write_single(t, req, len, resp);
    case MBPDU_WRITE_COILS:
    case MBPDU_WRITE_REGISTERS:
        return write_multiple(t, req, len, resp);
    default:
        return mbpdu_exception(fc, MBMAP_EX_ILLEGAL_FUNCTION, resp);
    }
}
