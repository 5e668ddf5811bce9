/* SPDX-License-Identifier: MIT */
/* can_proto.h — a CAN protocol: one frame table plus its encoders, receive rule, names, DBC. */
#ifndef BMSGW_CAN_PROTO_H
#define BMSGW_CAN_PROTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"

/*
 * Everything the CAN service, the scheduler, the output rules, the REST and WebSocket views and
 * the doc generator know of what goes on the bus comes from the selected protocol's struct
 * can_proto (can.protocol): its frames (ID, DLC, default period, signals, encoder, urgency and
 * measurement flags), the frames it receives and how it handles them, the names it refuses,
 * how the model's alarms map onto its alarm frame, and its DBC. Frames are addressed by their
 * position in the table ("frame index"), never by a typed ID. Victron "CAN-bus BMS"
 * (victron.h) is the first protocol. Signals are packed little-endian, rounded to the signal's
 * scale and clamped at the type's limits (or rolled over), and unpacked again by the same table.
 */

#define CAN_PROTO_DLC         8
#define CAN_PROTO_MAX_SIGNALS 32
#define CAN_PROTO_FRAMES_MAX  BMSGW_CAN_FRAMES_MAX
#define CAN_PROTO_RX_MAX      8

enum can_sig_kind {
    CAN_SIG_UNSIGNED = 0,
    CAN_SIG_SIGNED,
    CAN_SIG_ASCII,  /* bits / 8 characters, NUL-padded, printable ASCII */
    CAN_SIG_FIELD2, /* a 2-bit status field: 0 n/a, 1 active, 2 ok, 3 reserved */
};

struct can_signal {
    const char *name;  /* snake_case, with the unit: "cvl_v" */
    uint8_t start_bit; /* of the least significant bit, little-endian numbering */
    uint8_t bits;
    uint8_t kind;     /* enum can_sig_kind */
    bool wrap;        /* roll over at 2^bits instead of clamping */
    int8_t round_dir; /* to the resolution: 0 nearest, -1 down, +1 up (toward the safe side) */
    double scale;     /* physical = raw * scale + offset */
    double offset;
    double min, max;  /* physical range (DBC) */
    const char *unit; /* "" when none */
};

/* The physical values of a frame's signals, in table order. ASCII signals use text. */
struct can_values {
    double v[CAN_PROTO_MAX_SIGNALS];
    char text[CAN_PROTO_DLC + 1];
};

/* What the encoders read. limits and alarms are normally &sys->limits / &sys->alarms; the CAN
 * thread passes its own copies when a stale or operator block applies. */
struct can_proto_input {
    const struct bmsgw_system *sys;    /* aggregated */
    const struct bmsgw_aggregate *agg; /* the counts and measurements sent; NULL: &sys->agg */
    const struct bmsgw_limits *limits;
    const struct bmsgw_alarms *alarms;
    const struct cfg_can *can; /* names, serial, model id, hardware version */
    uint8_t fw_major;          /* the gateway's firmware version */
    uint8_t fw_minor;
};

/* Fill the physical values of a frame. Returns 0 or -EINVAL when the frame must not be sent. */
typedef int (*can_fill_fn)(const struct can_proto_input *in, struct can_values *out);
/* An urgent frame's payload next against the last one sent: true when it must go out now. */
typedef bool (*can_urgent_fn)(const uint8_t prev[CAN_PROTO_DLC], const uint8_t next[CAN_PROTO_DLC]);

struct can_proto_frame {
    uint16_t id;
    uint8_t dlc;
    uint16_t period_ms;     /* the default (the config keys can.period_<id>_ms default to it) */
    uint16_t max_period_ms; /* 0, or the longest period allowed while data is fresh */
    bool measurement;       /* carries measurements: withheld in block mode, never sent frozen */
    can_urgent_fn urgent;   /* NULL: sent at its period only */
    const char *name;       /* "limits", "soc_soh", ... */
    const char *title;      /* one line for the DBC and the dashboard */
    const struct can_signal *signals;
    uint8_t n_signals;
    can_fill_fn fill; /* NULL for the frames the protocol only receives */
};

struct can_proto {
    const char *name;                     /* the value of can.protocol: "victron" */
    const char *title;                    /* "Victron CAN-bus BMS" */
    const char *peer;                     /* what is at the other end, for the logs: "Victron GX" */
    uint32_t bitrate;                     /* the bitrate the peer expects */
    const struct can_proto_frame *frames; /* sent, in schedule order */
    unsigned n_frames;                    /* <= CAN_PROTO_FRAMES_MAX */
    const struct can_proto_frame *rx;     /* received only (decoded, never sent) */
    unsigned n_rx;                        /* <= CAN_PROTO_RX_MAX; the receive filter */
    /* A received frame (one of rx): update the peer fields of h (inverter seen / identified). */
    void (*receive)(const struct can_proto_frame *f, const uint8_t *data, unsigned len,
                    int64_t now_ms, struct bmsgw_can_health *h);
    /* The part of a name the peer would misread (e.g. take for another product), or NULL. */
    const char *(*name_rule)(const char *text);
    /* Why a name refused by name_rule is refused (after "contains X: "). */
    const char *name_rule_why;
    /* Per model alarm id (enum bmsgw_alarm_id): its field in the protocol's alarm frame, or -1
     * when the protocol has none for it. */
    const int8_t *alarm_fields;
    /* The frame of the charge limits and how to read its CVL back (the block rule's memory). */
    int limits_frame;
    double (*sent_cvl_v)(const uint8_t data[CAN_PROTO_DLC]);
    /* The DBC comment of the whole database and the nodes' names. */
    const char *dbc_title, *dbc_node_self, *dbc_node_peer, *dbc_node_self_title,
        *dbc_node_peer_title;
};

/* The protocols built in (can_protocols.c), NULL-terminated; the first is the default. */
extern const struct can_proto *const can_protocols[];

/* The protocol selected by cfg->can.protocol (the default when out of range). */
const struct can_proto *can_proto_of(const struct cfg_can *can);
/* The protocol called name, or NULL. */
const struct can_proto *can_proto_find(const char *name);

/* Index of the sent frame with CAN ID can_id, or -1. */
int can_proto_index(const struct can_proto *p, uint32_t can_id);
/* Sent or received frame with CAN ID can_id, or NULL. */
const struct can_proto_frame *can_proto_frame_by_id(const struct can_proto *p, uint32_t can_id);
/* True when the received-frame filter takes can_id. */
bool can_proto_receives(const struct can_proto *p, uint32_t can_id);
/* The configured period of frame i: cfg->period_ms at the key of its ID (config.h). */
int can_proto_period_ms(const struct can_proto *p, const struct cfg_can *can, unsigned i);

/* Encode frame i into data[8] (unused bytes 0): the DLC, or -EINVAL when it must not be sent. */
int can_proto_encode(const struct can_proto *p, unsigned i, const struct can_proto_input *in,
                     uint8_t data[CAN_PROTO_DLC]);

/* The packer and unpacker behind can_proto_encode / the decoder. */
void can_proto_pack(const struct can_proto_frame *f, const struct can_values *v,
                    uint8_t data[CAN_PROTO_DLC]);
void can_proto_unpack(const struct can_proto_frame *f, const uint8_t data[CAN_PROTO_DLC],
                      struct can_values *v);

/* "n/a", "active", "ok", "reserved". */
const char *can_field2_name(unsigned v);

/*
 * Decode a received or sent frame for /ws/can: an object of signal name -> value (numbers in
 * the signal's unit, text for ASCII, field names for 2-bit fields), or {"error": "..."} when len
 * is not the frame's DLC. Returns NULL for an ID that is not one of the protocol's (caller owns
 * the reference). Numbers are doubles: dump with JSON_REAL_PRECISION to print them short.
 */
json_t *can_proto_decode_json(const struct can_proto *p, uint32_t can_id, const uint8_t *data,
                              unsigned len);

/* Write the DBC describing every frame and signal of p. */
void can_proto_write_dbc(const struct can_proto *p, FILE *out);

#endif
