/* SPDX-License-Identifier: MIT */
/* ws_absent.c — the WebSocket figures of a daemon built without libwebsockets. */
#include "bmsgw/ws.h"

#include <string.h>

void ws_get_metrics(struct service_registry *services, struct ws_metrics *out)
{
    (void)services;
    memset(out, 0, sizeof(*out));
}
