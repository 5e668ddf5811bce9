/* SPDX-License-Identifier: MIT */
/* victron.c — packing, unpacking and decoding of the Victron frames (pure). */
#include "bmsgw/victron.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Frames only the GX sends: recognised and decoded, never transmitted. */
static const struct victron_signal sig_307[] = {
    { .name = "identification",
      .start_bit = 32,
      .bits = 24,
      .kind = VICTRON_SIG_ASCII,
      .scale = 1,
      .unit = "" },
};
static const struct victron_frame rx_frames[] = {
    { .id = VICTRON_ID_KEEPALIVE,
      .dlc = 0,
      .name = "inverter_keepalive",
      .title = "Keepalive from the GX (any payload)" },
    { .id = VICTRON_ID_INVERTER,
      .dlc = VICTRON_DLC,
      .name = "inverter_identification",
      .title = "Identification from the GX: bytes 4-6 \"VIC\"",
      .signals = sig_307,
      .n_signals = 1 },
};

const struct victron_frame *victron_frame_by_id(uint32_t can_id)
{
    for (unsigned i = 0; i < BMSGW_CAN_FRAME_COUNT; i++)
        if (victron_frames[i].id == can_id)
            return &victron_frames[i];
    for (unsigned i = 0; i < sizeof(rx_frames) / sizeof(rx_frames[0]); i++)
        if (rx_frames[i].id == can_id)
            return &rx_frames[i];
    return NULL;
}

uint8_t victron_alarm_field(uint8_t level)
{
    if (level == BMSGW_LEVEL_UNSUPPORTED)
        return VICTRON_FIELD_NA;
    return level == BMSGW_LEVEL_ALARM ? VICTRON_FIELD_ACTIVE : VICTRON_FIELD_OK;
}

uint8_t victron_warning_field(uint8_t level)
{
    if (level == BMSGW_LEVEL_UNSUPPORTED)
        return VICTRON_FIELD_NA;
    return level >= BMSGW_LEVEL_WARNING ? VICTRON_FIELD_ACTIVE : VICTRON_FIELD_OK;
}

const char *victron_field2_name(unsigned v)
{
    static const char *const names[] = { "n/a", "active", "ok", "reserved" };
    return names[v & 3];
}

/* Resolution steps closer than this to a whole step count as on it (54.9 / 0.1 is not 548). */
#define STEP_EPSILON 1e-6

/* phys / scale rounded the signal's way: to nearest, down or up. */
static double steps_of(const struct victron_signal *s, double phys)
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
static uint64_t raw_of(const struct victron_signal *s, double phys)
{
    double span = ldexp(1.0, s->bits);
    double r = steps_of(s, phys);
    if (s->wrap) {
        if (!isfinite(r))
            return 0; /* a counter has no meaningful value at infinity */
        r = fmod(r, span);
        return (uint64_t)(r < 0 ? r + span : r);
    }
    double lo = s->kind == VICTRON_SIG_SIGNED ? -span / 2 : 0;
    double hi = s->kind == VICTRON_SIG_SIGNED ? span / 2 - 1 : span - 1;
    r = r < lo ? lo : r > hi ? hi : r;
    return (uint64_t)(int64_t)r;
}

static uint64_t mask_of(unsigned bits)
{
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static void pack_text(const struct victron_signal *s, const char *text, uint8_t *data)
{
    bool end = false;
    for (unsigned i = 0; i < s->bits / 8u && s->start_bit / 8u + i < VICTRON_DLC; i++) {
        unsigned char c = end ? 0 : (unsigned char)text[i];
        if (c == 0)
            end = true;
        else if (c < 0x20 || c > 0x7E)
            c = '?';
        data[s->start_bit / 8 + i] = c;
    }
}

void victron_pack(const struct victron_frame *f, const struct victron_values *v,
                  uint8_t data[VICTRON_DLC])
{
    uint64_t word = 0;
    memset(data, 0, VICTRON_DLC);
    for (unsigned i = 0; i < f->n_signals; i++) {
        const struct victron_signal *s = &f->signals[i];
        if (s->kind != VICTRON_SIG_ASCII)
            word |= (raw_of(s, v->v[i]) & mask_of(s->bits)) << s->start_bit;
    }
    for (unsigned b = 0; b < VICTRON_DLC; b++)
        data[b] = (uint8_t)(word >> (8 * b));
    for (unsigned i = 0; i < f->n_signals; i++)
        if (f->signals[i].kind == VICTRON_SIG_ASCII)
            pack_text(&f->signals[i], v->text, data);
}

void victron_unpack(const struct victron_frame *f, const uint8_t data[VICTRON_DLC],
                    struct victron_values *v)
{
    uint64_t word = 0;
    memset(v, 0, sizeof(*v));
    for (unsigned b = 0; b < VICTRON_DLC; b++)
        word |= (uint64_t)data[b] << (8 * b);
    for (unsigned i = 0; i < f->n_signals && i < VICTRON_MAX_SIGNALS; i++) {
        const struct victron_signal *s = &f->signals[i];
        if (s->kind == VICTRON_SIG_ASCII) {
            unsigned n = s->bits / 8u;
            for (unsigned k = 0; k < n && k < VICTRON_DLC; k++)
                v->text[k] = (char)data[s->start_bit / 8 + k];
            continue;
        }
        uint64_t raw = (word >> s->start_bit) & mask_of(s->bits);
        double r = (double)raw;
        if (s->kind == VICTRON_SIG_SIGNED && (raw >> (s->bits - 1)) & 1)
            r -= ldexp(1.0, s->bits);
        v->v[i] = r * s->scale + s->offset;
    }
}

/* Printable text of an ASCII signal (others as '?'), for JSON. */
static json_t *text_json(const char *t)
{
    char buf[VICTRON_DLC + 1];
    unsigned n = 0;
    for (; n < VICTRON_DLC && t[n]; n++)
        buf[n] = t[n] >= 0x20 && t[n] <= 0x7E ? t[n] : '?';
    buf[n] = '\0';
    return json_string(buf);
}

/* A physical value rounded to the signal's resolution (shortest decimal that round-trips). */
static double tidy(const struct victron_signal *s, double phys)
{
    int decimals = s->scale < 1 ? (int)ceil(-log10(s->scale) - 1e-9) : 0;
    if (s->offset != 0 && s->offset != floor(s->offset))
        decimals = decimals < 2 ? 2 : decimals;
    double p = pow(10, decimals);
    return round(phys * p) / p;
}

json_t *victron_decode_json(uint32_t can_id, const uint8_t *data, unsigned len)
{
    const struct victron_frame *f = victron_frame_by_id(can_id);
    if (!f)
        return NULL;
    json_t *o = json_object();
    if (f->dlc && len != f->dlc) {
        char why[64];
        snprintf(why, sizeof(why), "DLC %u, expected %u", len, f->dlc);
        json_object_set_new(o, "error", json_string(why));
        return o;
    }
    uint8_t buf[VICTRON_DLC] = { 0 };
    memcpy(buf, data, len < VICTRON_DLC ? len : VICTRON_DLC);
    struct victron_values v;
    victron_unpack(f, buf, &v);
    for (unsigned i = 0; i < f->n_signals; i++) {
        const struct victron_signal *s = &f->signals[i];
        json_t *val;
        if (s->kind == VICTRON_SIG_ASCII)
            val = text_json(v.text);
        else if (s->kind == VICTRON_SIG_FIELD2)
            val = json_string(victron_field2_name((unsigned)v.v[i]));
        else
            val = json_real(tidy(s, v.v[i]));
        json_object_set_new(o, s->name, val);
    }
    return o;
}

bool victron_is_vic(const uint8_t *data, unsigned len)
{
    return len >= 7 && memcmp(data + 4, "VIC", 3) == 0;
}
