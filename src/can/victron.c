/* SPDX-License-Identifier: MIT */
/* victron.c — the Victron protocol: received frames, 0x35A fields, urgency, names (pure). */
#include "bmsgw/victron.h"

#include <ctype.h>
#include <string.h>

#include "bmsgw/log.h"

/* Frames only the GX sends: recognised and decoded, never transmitted. */
static const struct can_signal sig_307[] = {
    { .name = "identification",
      .start_bit = 32,
      .bits = 24,
      .kind = CAN_SIG_ASCII,
      .scale = 1,
      .unit = "" },
};
static const struct can_proto_frame rx_frames[] = {
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

const struct can_proto_frame *victron_frame_by_id(uint32_t can_id)
{
    return can_proto_frame_by_id(&can_proto_victron, can_id);
}

json_t *victron_decode_json(uint32_t can_id, const uint8_t *data, unsigned len)
{
    return can_proto_decode_json(&can_proto_victron, can_id, data, len);
}

int victron_encode(enum victron_frame_idx f, const struct can_proto_input *in,
                   uint8_t data[VICTRON_DLC])
{
    return can_proto_encode(&can_proto_victron, (unsigned)f, in, data);
}

void victron_write_dbc(FILE *out)
{
    can_proto_write_dbc(&can_proto_victron, out);
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

static int32_t le16(const uint8_t *b, bool is_signed)
{
    uint16_t v = (uint16_t)(b[0] | b[1] << 8);
    return is_signed ? (int16_t)v : v;
}

bool victron_limits_dropped(const uint8_t prev[8], const uint8_t next[8])
{
    for (unsigned k = 0; k < 4; k++) {
        bool sgn = k == 1 || k == 2; /* CCL, DCL */
        if (le16(next + 2 * k, sgn) < le16(prev + 2 * k, sgn))
            return true;
    }
    return false;
}

bool victron_alarm_raised(const uint8_t prev[8], const uint8_t next[8])
{
    for (unsigned b = 0; b < 8; b++)
        for (unsigned k = 0; k < 4; k++)
            if (((next[b] >> (2 * k)) & 3) == 1 && ((prev[b] >> (2 * k)) & 3) != 1)
                return true;
    return false;
}

bool victron_is_vic(const uint8_t *data, unsigned len)
{
    return len >= 7 && memcmp(data + 4, "VIC", 3) == 0;
}

/* spec/victron-can.md "What the GX does with the names": PYLON, BYD or PELIO anywhere, LG as a
 * word of its own. */
const char *victron_gx_quirk_name(const char *text)
{
    static const char *const anywhere[] = { "PYLON", "BYD", "PELIO" };
    for (unsigned i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++)
        if (strcasestr(text, anywhere[i]))
            return anywhere[i];
    for (const char *p = text; (p = strcasestr(p, "LG")) != NULL; p++) {
        bool start = p == text || !isalnum((unsigned char)p[-1]);
        if (start && !isalnum((unsigned char)p[2]))
            return "LG";
    }
    return NULL;
}

/* 0x305: the GX is there; 0x307: it says who it is. It never stops the sending. */
static void victron_receive(const struct can_proto_frame *f, const uint8_t *data, unsigned len,
                            int64_t now_ms, struct bmsgw_can_health *h)
{
    if (f->id == VICTRON_ID_KEEPALIVE) {
        if (h->last_keepalive_ms == 0)
            log_notice("inverter present: keepalive 0x305 received");
        h->last_keepalive_ms = now_ms;
    } else if (f->id == VICTRON_ID_INVERTER) {
        bool vic = victron_is_vic(data, len);
        if (vic && !h->inverter_identified)
            log_notice("inverter identified as Victron (0x307 \"VIC\")");
        h->last_identify_ms = now_ms;
        h->inverter_identified = vic;
    }
}

static double victron_sent_cvl_v(const uint8_t data[VICTRON_DLC])
{
    return (data[0] | data[1] << 8) / 10.0;
}

/* The model's alarms onto the 0x35A fields (bits 2k..2k+1 of bytes 0-3, warnings 4-7). */
static const int8_t alarm_fields[BMSGW_ALARM_COUNT] = {
    [BMSGW_ALARM_GENERAL] = 0,
    [BMSGW_ALARM_HIGH_VOLTAGE] = 1,
    [BMSGW_ALARM_LOW_VOLTAGE] = 2,
    [BMSGW_ALARM_HIGH_TEMP] = 3,
    [BMSGW_ALARM_LOW_TEMP] = 4,
    [BMSGW_ALARM_HIGH_TEMP_CHARGE] = 5,
    [BMSGW_ALARM_LOW_TEMP_CHARGE] = 6,
    [BMSGW_ALARM_HIGH_DISCHARGE_CURRENT] = 7,
    [BMSGW_ALARM_HIGH_CHARGE_CURRENT] = 8,
    [BMSGW_ALARM_CONTACTOR] = 9,
    [BMSGW_ALARM_SHORT_CIRCUIT] = 10,
    [BMSGW_ALARM_BMS_INTERNAL] = 11,
    [BMSGW_ALARM_CELL_IMBALANCE] = 12,
};

const struct can_proto can_proto_victron = {
    .name = "victron",
    .title = "Victron CAN-bus BMS",
    .peer = "Victron GX",
    .bitrate = 500000,
    .frames = victron_frames,
    .n_frames = VICTRON_FRAME_COUNT,
    .rx = rx_frames,
    .n_rx = sizeof(rx_frames) / sizeof(rx_frames[0]),
    .receive = victron_receive,
    .name_rule = victron_gx_quirk_name,
    .name_rule_why = "the GX would take the battery for that product and replace our limits "
                     "with its own rules (allowed: any other ASCII name, e.g. \"TinyBMS\")",
    .alarm_fields = alarm_fields,
    .limits_frame = VICTRON_351,
    .sent_cvl_v = victron_sent_cvl_v,
    .dbc_title = "Victron CAN-bus BMS frames sent by bmsgw (500 kbit/s, 11-bit IDs, "
                 "little-endian). Generated from the frame table; see spec/victron-can.md.",
    .dbc_node_self = "BMSGW",
    .dbc_node_peer = "GX",
    .dbc_node_self_title = "The gateway (the BMS side)",
    .dbc_node_peer_title = "Victron GX device (Cerbo GX, Venus OS)",
};
