/* SPDX-License-Identifier: MIT */
/* ws_stream.h — a bus message as the JSON its WebSocket stream sends (pure). */
#ifndef BMSGW_WS_STREAM_H
#define BMSGW_WS_STREAM_H

#include <jansson.h>

#include "bmsgw/bus.h"

/*
 * BUS_UART   {"dir":"tx"|"rx","string":N,"t_ms":...,"hex":"aa03..."} (string from 1, null for none)
 * BUS_CAN    {"dir","id":"0x351","dlc","hex","name","decoded":{signal: value},"t_ms"} (name and
 *            decoded null for an ID the Victron frame table does not know)
 * BUS_EVENT, BUS_ALERT  the published JSON object with "t_ms" added when it has none; an
 *            event's "string" (a 0-based index on the bus) is numbered from 1
 * NULL for a text that is not a JSON object, or out of memory.
 */
json_t *ws_stream_json(const struct bus_msg *b);

#endif
