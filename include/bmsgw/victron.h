/* SPDX-License-Identifier: MIT */
/* victron.h — the Victron CAN-bus BMS frames: one table, encoders, decoder, DBC (pure). */
#ifndef BMSGW_VICTRON_H
#define BMSGW_VICTRON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"

/*
 * spec/victron-can.md. Every frame is described once, in victron_frames[] (indexed by
 * enum bmsgw_can_frame): its ID, DLC, default period, name and signals. A frame's encoder
 * computes the physical value of each signal; one packer turns them into bytes (little-endian,
 * rounded to the signal's scale, clamped at the type's limits, or rolled over for the energy
 * counters); one unpacker decodes them again for /ws/can and the tests; the same table writes
 * docs/victron-bms.dbc.
 */

#define VICTRON_DLC          8
#define VICTRON_MAX_SIGNALS  32
#define VICTRON_ID_KEEPALIVE 0x305 /* sent by the GX, never by the gateway */
#define VICTRON_ID_INVERTER  0x307 /* sent by the GX: bytes 4-6 "VIC" */

enum victron_sig_kind {
    VICTRON_SIG_UNSIGNED = 0,
    VICTRON_SIG_SIGNED,
    VICTRON_SIG_ASCII,  /* bits / 8 characters, NUL-padded, printable ASCII */
    VICTRON_SIG_FIELD2, /* a 2-bit 0x35A field: 0 n/a, 1 active, 2 ok, 3 reserved */
};

/* 2-bit 0x35A field values. */
enum victron_field2 {
    VICTRON_FIELD_NA = 0,
    VICTRON_FIELD_ACTIVE = 1,
    VICTRON_FIELD_OK = 2,
    VICTRON_FIELD_RESERVED = 3,
};

struct victron_signal {
    const char *name;  /* snake_case, with the unit: "cvl_v" */
    uint8_t start_bit; /* of the least significant bit, little-endian numbering */
    uint8_t bits;
    uint8_t kind;     /* enum victron_sig_kind */
    bool wrap;        /* roll over at 2^bits instead of clamping */
    int8_t round_dir; /* to the resolution: 0 nearest, -1 down, +1 up (toward the safe side) */
    double scale;     /* physical = raw * scale + offset */
    double offset;
    double min, max;  /* physical range (DBC) */
    const char *unit; /* "" when none */
};

/* The physical values of a frame's signals, in table order. ASCII signals use text. */
struct victron_values {
    double v[VICTRON_MAX_SIGNALS];
    char text[VICTRON_DLC + 1];
};

/* What the encoders read. limits and alarms are normally &sys->limits / &sys->alarms; the CAN
 * thread passes its own copies when a stale or operator block applies. */
struct victron_input {
    const struct bmsgw_system *sys;    /* aggregated */
    const struct bmsgw_aggregate *agg; /* the counts and measurements sent; NULL: &sys->agg */
    const struct bmsgw_limits *limits;
    const struct bmsgw_alarms *alarms;
    const struct cfg_can *can; /* names, serial, model id, hardware version */
    uint8_t fw_major;          /* 0x35F firmware version: the gateway's */
    uint8_t fw_minor;
};

/* Fill the physical values of a frame. Returns 0 or -EINVAL when the frame must not be sent. */
typedef int (*victron_fill_fn)(const struct victron_input *in, struct victron_values *out);

struct victron_frame {
    uint16_t id;
    uint8_t dlc;
    uint16_t period_ms; /* the spec's default (the config keys can.period_<id>_ms default to it) */
    const char *name;   /* "limits", "soc_soh", ... */
    const char *title;  /* one line for the DBC and the dashboard */
    const struct victron_signal *signals;
    uint8_t n_signals;
    victron_fill_fn fill;
};

extern const struct victron_frame victron_frames[BMSGW_CAN_FRAME_COUNT];

/* Frame by CAN ID (the 19, plus 0x305 and 0x307 which only the GX sends), or NULL. */
const struct victron_frame *victron_frame_by_id(uint32_t can_id);

/*
 * Encode frame f into data[8] (unused bytes 0). Returns the DLC, or -EINVAL when the frame
 * must not be sent: 0x351 without a CVL above 0 (a GX discharges hard on CVL = 0), a NaN limit.
 * Rules: CCL/DCL are sent as magnitudes >= 0; SOC byte 0-1 = floor(SOC 0.01 % / 100); 0x356
 * temperature = mean of the connected battery sensors, or the mean BMS internal temperature
 * when no battery sensor is connected (0 degC, and 0 K in 0x373, when neither); 0x373 K =
 * round(degC + 273.15); cell and sensor ids "S<string>C<cell, 2 digits>" / "S<string>T<sensor, 2
 * digits>" ("S<string>BMS" for an internal sensor); 0x35F capacity = online strings, 0x379 = every
 * configured string; 0x378 = floor(Wh / 100) modulo 2^32; text is printable ASCII ('?' replaces
 * others).
 */
int victron_encode(enum bmsgw_can_frame f, const struct victron_input *in,
                   uint8_t data[VICTRON_DLC]);

/* The packer and unpacker behind victron_encode / the decoder. */
void victron_pack(const struct victron_frame *f, const struct victron_values *v,
                  uint8_t data[VICTRON_DLC]);
void victron_unpack(const struct victron_frame *f, const uint8_t data[VICTRON_DLC],
                    struct victron_values *v);

/* 0x35A field of a level: unsupported -> 0, alarm -> 1 in the alarm field (warning field 1 for
 * warning or alarm), otherwise 2. */
uint8_t victron_alarm_field(uint8_t level);
uint8_t victron_warning_field(uint8_t level);

/* "n/a", "active", "ok", "reserved". */
const char *victron_field2_name(unsigned v);

/*
 * Decode a received or sent frame for /ws/can: an object of signal name -> value (numbers in
 * the signal's unit, text for ASCII, field names for 0x35A), or {"error": "..."} when len is not
 * the frame's DLC. Returns NULL for an ID that is not one of the table's (caller owns the
 * reference). Numbers are doubles: dump with JSON_REAL_PRECISION to print them short.
 */
json_t *victron_decode_json(uint32_t can_id, const uint8_t *data, unsigned len);

/* 0x307 carries "VIC" in bytes 4-6. */
bool victron_is_vic(const uint8_t *data, unsigned len);

/* Write the DBC (docs/victron-bms.dbc) describing every frame and signal. */
void victron_write_dbc(FILE *out);

#endif
