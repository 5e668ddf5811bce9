/* SPDX-License-Identifier: MIT */
/* can_proto.c — any protocol's table: lookup, packing, unpacking, decoding (pure). */
#include "bmsgw/can_proto.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const struct can_proto *can_proto_of(const struct cfg_can *can)
{
    unsigned n = 0;
    while (can_protocols[n])
        n++;
    return can->protocol >= 0 && (unsigned)can->protocol < n ? can_protocols[can->protocol]
                                                             : can_protocols[0];
}

const struct can_proto *can_proto_find(const char *name)
{
    for (unsigned i = 0; can_protocols[i]; i++)
        if (strcmp(can_protocols[i]->name, name) == 0)
            return can_protocols[i];
    return NULL;
}

int can_proto_index(const struct can_proto *p, uint32_t can_id)
{
    for (unsigned i = 0; i < p->n_frames; i++)
        if (p->frames[i].id == can_id)
            return (int)i;
    return -1;
}

const struct can_proto_frame *can_proto_frame_by_id(const struct can_proto *p, uint32_t can_id)
{
    int i = can_proto_index(p, can_id);
    if (i >= 0)
        return &p->frames[i];
    for (unsigned k = 0; k < p->n_rx; k++)
        if (p->rx[k].id == can_id)
            return &p->rx[k];
    return NULL;
}

bool can_proto_receives(const struct can_proto *p, uint32_t can_id)
{
    for (unsigned k = 0; k < p->n_rx; k++)
        if (p->rx[k].id == can_id)
            return true;
    return false;
}

int can_proto_period_ms(const struct can_proto *p, const struct cfg_can *can, unsigned i)
{
    int slot = i < p->n_frames ? cfg_can_period_slot(p->frames[i].id) : -1;
    return slot >= 0 ? can->period_ms[slot] : 0;
}

int can_proto_encode(const struct can_proto *p, unsigned i, const struct can_proto_input *in,
                     uint8_t data[CAN_PROTO_DLC])
{
    struct can_values v;
    memset(data, 0, CAN_PROTO_DLC);
    if (i >= p->n_frames || !p->frames[i].fill)
        return -EINVAL;
    memset(&v, 0, sizeof(v));
    int rc = p->frames[i].fill(in, &v);
    if (rc < 0)
        return rc;
    can_proto_pack(&p->frames[i], &v, data);
    return p->frames[i].dlc;
}

const char *can_field2_name(unsigned v)
{
    static const char *const names[] = { "n/a", "active", "ok", "reserved" };
    return names[v & 3];
}

/* Resolution steps closer than this to a whole step count as on it (54.9 / 0.1 is not 548). */
#define STEP_EPSILON 1e-6

/* phys / scale rounded the signal's way: to nearest, down or up. */
static double steps_of(const struct can_signal *s, double phys)
{
    double r = (phys - s->offset) / s->scale;
    if (isnan(r))
        return 0;
    if (s->round_dir < 0)
        return floor(r + STEP_EPSILON);
    if (s->round_dir > 0)
        return ceil(r - STEP_EPSILON);
    return round(r);
}

/* Raw value of a numeric signal: rounded, then clamped at the type's limits or rolled over. */
static uint64_t raw_of(const struct can_signal *s, double phys)
{
    double span = ldexp(1.0, s->bits);
    double r = steps_of(s, phys);
    if (s->wrap) {
        if (!isfinite(r))
            return 0; /* a counter has no meaningful value at infinity */
        r = fmod(r, span);
        return (uint64_t)(r < 0 ? r + span : r);
    }
    double lo = s->kind == CAN_SIG_SIGNED ? -span / 2 : 0;
    double hi = s->kind == CAN_SIG_SIGNED ? span / 2 - 1 : span - 1;
    r = r < lo ? lo : r > hi ? hi : r;
    return (uint64_t)(int64_t)r;
}

static uint64_t mask_of(unsigned bits)
{
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static void pack_text(const struct can_signal *s, const char *text, uint8_t *data)
{
    bool end = false;
    for (unsigned i = 0; i < s->bits / 8u && s->start_bit / 8u + i < CAN_PROTO_DLC; i++) {
        unsigned char c = end ? 0 : (unsigned char)text[i];
        if (c == 0)
            end = true;
        else if (c < 0x20 || c > 0x7E)
            c = '?';
        data[s->start_bit / 8 + i] = c;
    }
}

void can_proto_pack(const struct can_proto_frame *f, const struct can_values *v,
                    uint8_t data[CAN_PROTO_DLC])
{
    uint64_t word = 0;
    memset(data, 0, CAN_PROTO_DLC);
    for (unsigned i = 0; i < f->n_signals; i++) {
        const struct can_signal *s = &f->signals[i];
        if (s->kind != CAN_SIG_ASCII)
            word |= (raw_of(s, v->v[i]) & mask_of(s->bits)) << s->start_bit;
    }
    for (unsigned b = 0; b < CAN_PROTO_DLC; b++)
        data[b] = (uint8_t)(word >> (8 * b));
    for (unsigned i = 0; i < f->n_signals; i++)
        if (f->signals[i].kind == CAN_SIG_ASCII)
            pack_text(&f->signals[i], v->text, data);
}

void can_proto_unpack(const struct can_proto_frame *f, const uint8_t data[CAN_PROTO_DLC],
                      struct can_values *v)
{
    uint64_t word = 0;
    memset(v, 0, sizeof(*v));
    for (unsigned b = 0; b < CAN_PROTO_DLC; b++)
        word |= (uint64_t)data[b] << (8 * b);
    for (unsigned i = 0; i < f->n_signals && i < CAN_PROTO_MAX_SIGNALS; i++) {
        const struct can_signal *s = &f->signals[i];
        if (s->kind == CAN_SIG_ASCII) {
            unsigned n = s->bits / 8u;
            for (unsigned k = 0; k < n && k < CAN_PROTO_DLC; k++)
                v->text[k] = (char)data[s->start_bit / 8 + k];
            continue;
        }
        uint64_t raw = (word >> s->start_bit) & mask_of(s->bits);
        double r = (double)raw;
        if (s->kind == CAN_SIG_SIGNED && (raw >> (s->bits - 1)) & 1)
            r -= ldexp(1.0, s->bits);
        v->v[i] = r * s->scale + s->offset;
    }
}

/* Printable text of an ASCII signal (others as '?'), for JSON. */
static json_t *text_json(const char *t)
{
    char buf[CAN_PROTO_DLC + 1];
    unsigned n = 0;
    for (; n < CAN_PROTO_DLC && t[n]; n++)
        buf[n] = t[n] >= 0x20 && t[n] <= 0x7E ? t[n] : '?';
    buf[n] = '\0';
    return json_string(buf);
}

/* A physical value rounded to the signal's resolution (shortest decimal that round-trips). */
static double tidy(const struct can_signal *s, double phys)
{
    int decimals = s->scale < 1 ? (int)ceil(-log10(s->scale) - 1e-9) : 0;
    if (s->offset != 0 && s->offset != floor(s->offset))
        decimals = decimals < 2 ? 2 : decimals;
    double p = pow(10, decimals);
    return round(phys * p) / p;
}

json_t *can_proto_decode_json(const struct can_proto *p, uint32_t can_id, const uint8_t *data,
                              unsigned len)
{
    const struct can_proto_frame *f = can_proto_frame_by_id(p, can_id);
    if (!f)
        return NULL;
    json_t *o = json_object();
    if (f->dlc && len != f->dlc) {
        char why[64];
        snprintf(why, sizeof(why), "DLC %u, expected %u", len, f->dlc);
        json_object_set_new(o, "error", json_string(why));
        return o;
    }
    uint8_t buf[CAN_PROTO_DLC] = { 0 };
    memcpy(buf, data, len < CAN_PROTO_DLC ? len : CAN_PROTO_DLC);
    struct can_values v;
    can_proto_unpack(f, buf, &v);
    for (unsigned i = 0; i < f->n_signals; i++) {
        const struct can_signal *s = &f->signals[i];
        json_t *val;
        if (s->kind == CAN_SIG_ASCII)
            val = text_json(v.text);
        else if (s->kind == CAN_SIG_FIELD2)
            val = json_string(can_field2_name((unsigned)v.v[i]));
        else
            val = json_real(tidy(s, v.v[i]));
        json_object_set_new(o, s->name, val);
    }
    return o;
}
