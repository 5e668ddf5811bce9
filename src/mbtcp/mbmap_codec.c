/* SPDX-License-Identifier: MIT */
/* mbmap_codec.c — register values: half floats, word orders, scaling and clamping, strings and
 * bit lists (pure). */
#include "bmsgw/mbmap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

uint16_t mbmap_half_from_double(double v)
{
    uint64_t x;
    memcpy(&x, &v, sizeof(x));
    uint16_t sign = (uint16_t)((x >> 48) & 0x8000);
    int exp = (int)((x >> 52) & 0x7ff);
    uint64_t mant = x & 0xfffffffffffffull;
    if (exp == 0x7ff)
        return sign | 0x7c00 | (mant ? 0x200 : 0);
    int e = exp - 1023 + 15;
    if (e >= 31)
        return sign | 0x7c00;
    uint64_t h, rem, halfway;
    if (e <= 0) {
        if (e < -10)
            return sign;
        unsigned shift = (unsigned)(43 - e);
        uint64_t m = mant | (1ull << 52);
        h = m >> shift;
        rem = m & ((1ull << shift) - 1);
        halfway = 1ull << (shift - 1);
    } else {
        h = ((uint64_t)e << 10) | (mant >> 42);
        rem = mant & ((1ull << 42) - 1);
        halfway = 1ull << 41;
    }
    if (rem > halfway || (rem == halfway && (h & 1)))
        h++; /* a carry into the exponent is right, up to infinity */
    return sign | (uint16_t)h;
}

double mbmap_half_to_double(uint16_t h)
{
    int exp = (h >> 10) & 0x1f;
    unsigned mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp(mant + 1024, exp - 25);
    return (h & 0x8000) ? -v : v;
}

static void put_words(uint16_t *regs, uint64_t v, unsigned n, int order)
{
    for (unsigned k = 0; k < n; k++) {
        uint16_t w = (uint16_t)(v >> (16 * (n - 1 - k))); /* k = 0: most significant */
        regs[order == MBMAP_WORDS_CDAB ? n - 1 - k : k] = w;
    }
}

static uint64_t get_words(const uint16_t *regs, unsigned n, int order)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v = (v << 16) | regs[order == MBMAP_WORDS_CDAB ? n - 1 - k : k];
    return v;
}

static double clamp_round(double v, double lo, double hi)
{
    if (isnan(v))
        return 0;
    v = round(v);
    return v < lo ? lo : v > hi ? hi : v;
}

void mbmap_encode(const struct mbmap_field *f, double value, int word_order, uint16_t *regs)
{
    double v = value / mbmap_field_scale(f);
    switch (f->type) {
    case MBMAP_U16:
        regs[0] = (uint16_t)clamp_round(v, 0, UINT16_MAX);
        break;
    case MBMAP_S16:
        regs[0] = (uint16_t)(int16_t)clamp_round(v, INT16_MIN, INT16_MAX);
        break;
    case MBMAP_U32:
        put_words(regs, (uint32_t)clamp_round(v, 0, UINT32_MAX), 2, word_order);
        break;
    case MBMAP_S32:
        put_words(regs, (uint32_t)(int32_t)clamp_round(v, INT32_MIN, INT32_MAX), 2, word_order);
        break;
    case MBMAP_F16:
        regs[0] = mbmap_half_from_double(v);
        break;
    case MBMAP_F32: {
        float fl = (float)v;
        uint32_t bits;
        memcpy(&bits, &fl, sizeof(bits));
        put_words(regs, bits, 2, word_order);
        break;
    }
    case MBMAP_F64: {
        uint64_t bits;
        memcpy(&bits, &v, sizeof(bits));
        put_words(regs, bits, 4, word_order);
        break;
    }
    case MBMAP_BIT:
        regs[0] = !isnan(value) && value != 0;
        break;
    default:
        break;
    }
}

static double decode_raw(const struct mbmap_field *f, const uint16_t *regs, int word_order)
{
    switch (f->type) {
    case MBMAP_U16:
        return regs[0];
    case MBMAP_S16:
        return (int16_t)regs[0];
    case MBMAP_U32:
        return (uint32_t)get_words(regs, 2, word_order);
    case MBMAP_S32:
        return (int32_t)(uint32_t)get_words(regs, 2, word_order);
    case MBMAP_F16:
        return mbmap_half_to_double(regs[0]);
    case MBMAP_F32: {
        uint32_t bits = (uint32_t)get_words(regs, 2, word_order);
        float fl;
        memcpy(&fl, &bits, sizeof(fl));
        return fl;
    }
    case MBMAP_F64: {
        uint64_t bits = get_words(regs, 4, word_order);
        double d;
        memcpy(&d, &bits, sizeof(d));
        return d;
    }
    case MBMAP_BIT:
        return regs[0] != 0;
    default:
        return NAN;
    }
}

int mbmap_decode(const struct mbmap_field *f, const uint16_t *regs, int word_order, double *value)
{
    if ((f->flags & MBMAP_ABSENT) && regs[0] == f->absent_raw) {
        *value = NAN;
        return 1;
    }
    double raw = decode_raw(f, regs, word_order);
    *value = f->type == MBMAP_BIT ? raw : raw * mbmap_field_scale(f);
    return 0;
}

const char *mbmap_decode_str(const struct mbmap_field *f, const uint16_t *regs, char *buf,
                             size_t size)
{
    size_t n = 0;
    for (unsigned r = 0; r < f->str_regs && n + 1 < size; r++) {
        char c[2] = { (char)(regs[r] >> 8), (char)(regs[r] & 0xff) };
        for (unsigned k = 0; k < 2 && n + 1 < size; k++) {
            if (c[k] == 0)
                goto done;
            buf[n++] = c[k];
        }
    }
done:
    if (size)
        buf[n] = 0;
    return buf;
}

const char *mbmap_bit_list(const struct mbmap_field *f, unsigned raw, char *buf, size_t size)
{
    size_t n = 0;
    if (size)
        buf[0] = 0;
    for (unsigned b = 0; b < 16 && n < size; b++) {
        if (!(raw & (1u << b)))
            continue;
        const char *name = f->bit_names ? f->bit_names[b] : NULL;
        int w = name ? snprintf(buf + n, size - n, "%s%s", n ? ", " : "", name)
                     : snprintf(buf + n, size - n, "%sbit %u", n ? ", " : "", b);
        n += w > 0 ? (size_t)w : 0;
    }
    return buf;
}
