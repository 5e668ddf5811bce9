/* SPDX-License-Identifier: MIT */
/* victron.h — the Victron CAN-bus BMS protocol: its frame table, encoders, names (pure). */
#ifndef BMSGW_VICTRON_H
#define BMSGW_VICTRON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bmsgw/can_proto.h"

/*
 * spec/victron-can.md. Every frame is described once, in victron_frames[] (indexed by
 * enum victron_frame_idx): its ID, DLC, default period, name, signals and encoder; the
 * protocol can_proto_victron (can_proto.h) carries the table, the 0x305/0x307 receive rule,
 * the GX quirk-name rule, the model alarms' 0x35A fields and the DBC's texts.
 */

#define VICTRON_DLC          CAN_PROTO_DLC
#define VICTRON_ID_KEEPALIVE 0x305 /* sent by the GX, never by the gateway */
#define VICTRON_ID_INVERTER  0x307 /* sent by the GX: bytes 4-6 "VIC" */

/* The frames, in the order of the table (spec/victron-can.md). */
enum victron_frame_idx {
    VICTRON_351 = 0,
    VICTRON_355,
    VICTRON_356,
    VICTRON_35A,
    VICTRON_35E,
    VICTRON_35F,
    VICTRON_370,
    VICTRON_371,
    VICTRON_372,
    VICTRON_373,
    VICTRON_374,
    VICTRON_375,
    VICTRON_376,
    VICTRON_377,
    VICTRON_378,
    VICTRON_379,
    VICTRON_380,
    VICTRON_381,
    VICTRON_382,
    VICTRON_FRAME_COUNT
};

/* 2-bit 0x35A field values. */
enum victron_field2 {
    VICTRON_FIELD_NA = 0,
    VICTRON_FIELD_ACTIVE = 1,
    VICTRON_FIELD_OK = 2,
    VICTRON_FIELD_RESERVED = 3,
};

extern const struct can_proto_frame victron_frames[VICTRON_FRAME_COUNT];
extern const struct can_proto can_proto_victron;

/* Frame by CAN ID (the 19, plus 0x305 and 0x307 which only the GX sends), or NULL. */
const struct can_proto_frame *victron_frame_by_id(uint32_t can_id);

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
int victron_encode(enum victron_frame_idx f, const struct can_proto_input *in,
                   uint8_t data[VICTRON_DLC]);

/* 0x35A field of a level: unsupported -> 0, alarm -> 1 in the alarm field (warning field 1 for
 * warning or alarm), otherwise 2. */
uint8_t victron_alarm_field(uint8_t level);
uint8_t victron_warning_field(uint8_t level);

/* 0x351 payload next against prev: CVL, CCL, DCL or DVL lower. */
bool victron_limits_dropped(const uint8_t prev[8], const uint8_t next[8]);
/* 0x35A payload next against prev: a field became 1 (active). */
bool victron_alarm_raised(const uint8_t prev[8], const uint8_t next[8]);

/* The /ws/can decoder of this protocol (can_proto_decode_json). */
json_t *victron_decode_json(uint32_t can_id, const uint8_t *data, unsigned len);

/* 0x307 carries "VIC" in bytes 4-6. */
bool victron_is_vic(const uint8_t *data, unsigned len);

/* The part of a battery name that a Victron GX takes for a product it treats specially
 * ("PYLON", "BYD", "PELIO" anywhere, any case; "LG" as a word of its own), or NULL. */
const char *victron_gx_quirk_name(const char *text);

/* Write the DBC (docs/victron-bms.dbc) describing every frame and signal. */
void victron_write_dbc(FILE *out);

#endif
