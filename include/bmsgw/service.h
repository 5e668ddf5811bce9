/* SPDX-License-Identifier: MIT */
/* service.h — the shape every service (bms, can, mbtcp, http, ws) has, and their registry. */
#ifndef BMSGW_SERVICE_H
#define BMSGW_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/config.h"

enum service_state {
    SERVICE_DISABLED = 0, /* switched off in the configuration */
    SERVICE_STARTING,
    SERVICE_RUNNING,
    SERVICE_DEGRADED, /* running but not doing its job fully (device missing, retrying) */
    SERVICE_DOWN,     /* failed to start or its thread ended; the daemon goes on */
    SERVICE_STOPPED,
};

struct bmsgw_app;
struct service;

struct service_ops {
    const char *name; /* "bms", "can", "mbtcp", "http", "ws" */
    bool (*enabled)(const struct bmsgw_config *cfg);
    /* Start the service's thread(s); they call service_progress() regularly. Returns 0, or -errno
     * (the service is then down, with the reason set through service_set_state). */
    int (*start)(struct service *svc);
    /* Stop and join within timeout_ms. Returns 0 or -ETIMEDOUT (threads left behind). */
    int (*stop)(struct service *svc, int timeout_ms);
    /* Optional: a new configuration was swapped in (SIGHUP, API). Apply what can be applied live;
     * keys marked restart-required are only logged by the caller. */
    void (*reload)(struct service *svc, const struct bmsgw_config *cfg);
    int watchdog_ms; /* longest allowed gap between two service_progress() calls */
};

struct service {
    const struct service_ops *ops;
    struct bmsgw_app *app;
    void *priv; /* the service's own state */
    /* below: maintained by service.c */
    pthread_mutex_t lock;
    enum service_state state;
    int64_t since_ms;
    char last_error[160];
    _Atomic int64_t progress_ms;
};

struct service_status {
    const char *name;
    enum service_state state;
    int64_t since_ms;    /* monotonic */
    int64_t progress_ms; /* monotonic ms of the last progress report */
    char last_error[160];
};

const char *service_state_name(enum service_state s);

void service_init(struct service *svc, const struct service_ops *ops, struct bmsgw_app *app);
void service_deinit(struct service *svc);

/* Change state; logs the change. reason may be NULL (keeps no error). */
void service_set_state(struct service *svc, enum service_state st, const char *reason_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The service's threads report that they are alive and looping (watchdog). */
void service_progress(struct service *svc);

void service_get_status(struct service *svc, struct service_status *out);

/* True unless the service should be running and its progress is older than its watchdog_ms. */
bool service_healthy(struct service *svc, int64_t now_ms);

/* ---- registry ----------------------------------------------------------------------------- */

#define SERVICES_MAX 8

struct service_registry {
    unsigned count;
    struct service svc[SERVICES_MAX];
};

/* The services compiled into this daemon, in start order (services.c). */
extern const struct service_ops *const bmsgw_service_table[];

/* Register the services of a NULL-terminated table (normally bmsgw_service_table). */
void services_init(struct service_registry *r, struct bmsgw_app *app,
                   const struct service_ops *const *table);
/* Start every enabled service in order; failures leave that service down. Returns how many run. */
unsigned services_start(struct service_registry *r, const struct bmsgw_config *cfg);
/* Stop in reverse order within a total of timeout_ms. */
void services_stop(struct service_registry *r, int timeout_ms);
void services_reload(struct service_registry *r, const struct bmsgw_config *cfg);
/* One line "bms running, can degraded (no can0), ..." for STATUS= and logs. */
void services_summary(struct service_registry *r, char *buf, unsigned size);
/* Name of the first unhealthy service, or NULL when all are healthy. */
const char *services_unhealthy(struct service_registry *r, int64_t now_ms);
struct service *services_find(struct service_registry *r, const char *name);
void services_deinit(struct service_registry *r);

#endif
