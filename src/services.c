/* SPDX-License-Identifier: MIT */
/* services.c — the services compiled into this daemon, in start order (stopped in reverse). */
#include "bmsgw/service.h"

#include "bmsgw-build.h"

const struct service_ops *const bmsgw_service_table[] = {
    NULL,
};
