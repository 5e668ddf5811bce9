/* SPDX-License-Identifier: MIT */
/* ws_stream.h — a bus message as the JSON its WebSocket stream sends (pure). */
#ifndef BMSGW_WS_STREAM_H
#define BMSGW_WS_STREAM_H

#include <jansson.h>

#include "bmsgw/bus.h"

/*
 * BUS_UART   {"dir":"tx"|"rx","string":N,"t_ms":...,"hex":"aa03..."} (string from 1, null for none)
 * BUS_CAN    {"dir","id":"0x351","dlc","hex","name","decoded":{signal: value},"t_ms"} (name and
 *            decoded null for an ID the frame table of can, the configured CAN protocol, does
 *            not know, and always without one)
 * BUS_EVENT  bmsgw_event_to_json() of the typed event (event.h) with "t_ms"; its "string" (a
 *            0-based index on the bus) is numbered from 1
 * BUS_ALERT  alert_change_to_json() of the struct alert_change it carries, with "t_ms" added
 * NULL for a message that carries no known event or alert change, or out of memory.
 */
struct can_proto;
json_t *ws_stream_json(const struct bus_msg *b, const struct can_proto *can);

#endif
