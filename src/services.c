/* SPDX-License-Identifier: MIT */
/* services.c — the services compiled into this daemon, in start order (stopped in reverse). */
#include "bmsgw/service.h"

#include "bmsgw-build.h"
#include "bmsgw/alerts.h"
#include "bmsgw/bms_service.h"
#if BMSGW_WITH_CAN
#include "bmsgw/can.h"
#endif
#include "bmsgw/mbtcp_service.h"
#if BMSGW_WITH_HTTP
#include "bmsgw/http.h"
#endif
#if BMSGW_WITH_WS
#include "bmsgw/ws.h"
#endif

const struct service_ops *const bmsgw_service_table[] = {
#if BMSGW_WITH_BMS
    &bms_service_ops,
#endif
#if BMSGW_WITH_CAN
    &can_service_ops,
#endif
#if BMSGW_WITH_MBTCP
    &mbtcp_service_ops,
#endif
    &alerts_service, /* before http and ws, which read it */
#if BMSGW_WITH_HTTP
    &http_service,
#endif
#if BMSGW_WITH_WS
    &ws_service,
#endif
    NULL,
};
