/* SPDX-License-Identifier: MIT */
/* app.c — helpers on the daemon's shared context. */
#include "bmsgw/app.h"

#include <unistd.h>

#include "bmsgw/clock.h"

const struct bmsgw_clock *app_clock(const struct bmsgw_app *app)
{
    return app && app->clock ? app->clock : &clock_system;
}

void app_request_exit(struct bmsgw_app *app)
{
    uint64_t one = 1;
    if (app->exit_efd >= 0 && write(app->exit_efd, &one, sizeof(one)) < 0) {
        /* the counter can only saturate; the main loop is woken either way */
    }
}
