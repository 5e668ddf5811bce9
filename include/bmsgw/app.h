/* SPDX-License-Identifier: MIT */
/* app.h — what the daemon hands to every service: the shared objects, by pointer. */
#ifndef BMSGW_APP_H
#define BMSGW_APP_H

#include <stdint.h>

#include "bmsgw/config.h"

struct config_store;
struct snapshot;
struct bus;
struct control;
struct cmdq;
struct service_registry;
struct alerts;
struct bmsgw_clock;

struct bms_driver;

struct bmsgw_app {
    struct config_store *config; /* current configuration (copy it out) */
    struct snapshot *snap;       /* the battery system */
    struct bus *bus;             /* raw traffic, events, alerts */
    struct control *control;     /* operator blocks, acknowledgement requests */
    struct service_registry *services;
    /* One command queue per configured serial port (string index), created by the daemon and
     * served by that port's poller (TinyBMS settings writes, resets). */
    struct cmdq *bms_cmdq[CFG_MAX_PORTS];
    /* The alerts (alerts.h): set by the "alerts" service while it runs (it starts before and
     * stops after the http and ws services that read it), NULL otherwise. */
    struct alerts *alerts;
    /* The clock services schedule by (clock.h); NULL = clock_system. Read it with app_clock(). */
    const struct bmsgw_clock *clock;
    /* The BMS drivers bms.ports[].type indexes (bms_driver.h), NULL-terminated; NULL = the ones
     * built in. A test gives its own. */
    const struct bms_driver *const *bms_drivers;
    int64_t start_ms;      /* monotonic ms at start */
    int64_t start_real_ms; /* wall clock at start */
    /* A service asks the daemon to exit cleanly (e.g. POST /api/system/restart; systemd starts
     * it again): write 1 to this eventfd. */
    int exit_efd;
};

/* The app's clock: app->clock, or clock_system when none was set. */
const struct bmsgw_clock *app_clock(const struct bmsgw_app *app);

/* Ask the main loop to exit cleanly. */
void app_request_exit(struct bmsgw_app *app);

#endif
