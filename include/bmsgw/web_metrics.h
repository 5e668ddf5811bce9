/* SPDX-License-Identifier: MIT */
/* web_metrics.h — the daemon's runtime figures: collected once, encoded as JSON and Prometheus. */
#ifndef BMSGW_WEB_METRICS_H
#define BMSGW_WEB_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/bus.h"
#include "bmsgw/model.h"
#include "bmsgw/rest.h"
#include "bmsgw/service.h"
#include "bmsgw/sysinfo.h"
#include "bmsgw/ws.h"

struct web_metrics {
    int64_t uptime_ms;
    struct sysinfo_proc proc;
    struct bus_metrics bus;
    uint64_t log_dropped;
    struct rest_stats http;
    struct ws_metrics ws;
    bool alerts_running;
    unsigned alerts_active;
    uint64_t alerts_raised_total;
    unsigned service_count;
    struct service_status services[SERVICES_MAX];
};

/* GET /api/metrics/runtime (pure): uptime, CPU, memory, poll cycle statistics per string, CAN
 * counters, HTTP requests, services. */
/* The event bus figures ({published, delivered, dropped, subscribers}). */
json_t *web_metrics_bus_json(const struct bus_metrics *b);
json_t *web_metrics_runtime_json(const struct web_metrics *m, const struct bmsgw_system *sys);

/* GET /metrics (pure): the same figures and the battery values in the Prometheus text format
 * 0.0.4. now_ms is the monotonic clock for ages. Returns malloc'd text (*len bytes) or NULL. */
char *web_metrics_prometheus(const struct web_metrics *m, const struct bmsgw_system *sys,
                             int64_t now_ms, int stale_after_ms, size_t *len);

#endif
