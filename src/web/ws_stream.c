/* SPDX-License-Identifier: MIT */
/* ws_stream.c — bus messages as the JSON of the /ws/events, /ws/uart, /ws/can, /ws/alerts streams.
 */
#include "bmsgw/ws_stream.h"

#include <stdio.h>
#include <string.h>

#include "bmsgw/alerts.h"
#include "bmsgw/event.h"

#include "bmsgw/can_proto.h"

static json_t *hex_json(const uint8_t *data, unsigned len)
{
    char hex[2 * BUS_DATA_MAX + 1];
    if (len > BUS_DATA_MAX)
        len = BUS_DATA_MAX;
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", data[i]);
    hex[2 * len] = '\0';
    return json_string(hex);
}

static const char *dir_name(uint8_t dir)
{
    return dir == BUS_DIR_TX ? "tx" : dir == BUS_DIR_RX ? "rx" : "none";
}

/* Named and decoded by the configured protocol p (raw only without one). */
static json_t *can_json(const struct bus_msg *b, const struct can_proto *p)
{
    const struct can_proto_frame *f = p ? can_proto_frame_by_id(p, b->can_id) : NULL;
    char id[12];
    snprintf(id, sizeof(id), "0x%03X", (unsigned)b->can_id);
    json_t *dec = p ? can_proto_decode_json(p, b->can_id, b->data, b->len) : NULL;
    return json_pack("{s:s,s:s,s:i,s:o,s:s?,s:o,s:I}", "dir", dir_name(b->dir), "id", id, "dlc",
                     (int)b->len, "hex", hex_json(b->data, b->len), "name", f ? f->name : NULL,
                     "decoded", dec ? dec : json_null(), "t_ms", (json_int_t)b->t_ms);
}

json_t *ws_stream_json(const struct bus_msg *b, const struct can_proto *can)
{
    json_t *j = NULL;
    switch (b->topic) {
    case BUS_EVENT: {
        struct bmsgw_event e;
        /* strings travel on the bus as indexes; people count them from 1 */
        return bmsgw_event_from_msg(b, &e) ? bmsgw_event_to_json(&e, 1, b->t_ms) : NULL;
    }
    case BUS_ALERT: {
        struct alert_change c;
        if (b->len != sizeof(c))
            return NULL;
        memcpy(&c, b->data, sizeof(c));
        j = alert_change_to_json(&c);
        if (j && !json_object_get(j, "t_ms"))
            json_object_set_new(j, "t_ms", json_integer(b->t_ms));
        return j;
    }
    case BUS_UART:
        return json_pack("{s:s,s:o,s:I,s:o}", "dir", dir_name(b->dir), "string",
                         b->source >= 0 ? json_integer(b->source + 1) : json_null(), "t_ms",
                         (json_int_t)b->t_ms, "hex", hex_json(b->data, b->len));
    case BUS_CAN:
        return can_json(b, can);
    default:
        return NULL;
    }
}
