/* SPDX-License-Identifier: MIT */
/* web_metrics.c — runtime figures as JSON (/api/metrics/runtime) and Prometheus text (/metrics). */
#include "bmsgw/web_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/status_json.h"

static json_t *poll_json(const struct bmsgw_system *sys)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < sys->string_count && i < BMSGW_MAX_STRINGS; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        const struct bmsgw_link *l = &st->link;
        json_array_append_new(
            arr, json_pack("{s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "string", i + 1,
                           "name", st->name, "link", bmsgw_link_state_name(l->state), "count",
                           (json_int_t)l->requests, "errors",
                           (json_int_t)(l->timeouts + l->crc_errors + l->exceptions), "timeouts",
                           (json_int_t)l->timeouts, "crc_errors", (json_int_t)l->crc_errors,
                           "exceptions", (json_int_t)l->exceptions, "reconnects",
                           (json_int_t)l->reconnects, "cycle_last_ms",
                           json_rounded(l->cycle_last_us / 1000.0, 3), "cycle_p50_ms",
                           json_rounded(l->cycle_p50_us / 1000.0, 3), "cycle_p99_ms",
                           json_rounded(l->cycle_p99_us / 1000.0, 3)));
    }
    return arr;
}

static json_t *services_json(const struct web_metrics *m)
{
    json_t *o = json_object();
    for (unsigned i = 0; i < m->service_count; i++)
        json_object_set_new(o, m->services[i].name,
                            json_string(service_state_name(m->services[i].state)));
    return o;
}

json_t *web_metrics_bus_json(const struct bus_metrics *b)
{
    return json_pack("{s:I,s:I,s:I,s:i}", "published", (json_int_t)b->published, "delivered",
                     (json_int_t)b->delivered, "dropped", (json_int_t)b->dropped, "subscribers",
                     (int)b->subscribers);
}

json_t *web_metrics_runtime_json(const struct web_metrics *m, const struct bmsgw_system *sys)
{
    const struct bmsgw_can_health *c = &sys->can;
    json_t *root = json_object();
    json_object_set_new(root, "uptime_s", json_rounded(m->uptime_ms / 1000.0, 3));
    json_object_set_new(root, "cpu_user_s", json_rounded(m->proc.cpu_user_s, 3));
    json_object_set_new(root, "cpu_system_s", json_rounded(m->proc.cpu_system_s, 3));
    json_object_set_new(root, "cpu_s", json_rounded(m->proc.cpu_user_s + m->proc.cpu_system_s, 3));
    json_object_set_new(root, "rss_bytes", json_integer((json_int_t)m->proc.rss_bytes));
    json_object_set_new(root, "vm_bytes", json_integer((json_int_t)m->proc.vm_bytes));
    json_object_set_new(root, "threads", json_integer(m->proc.threads));
    json_object_set_new(root, "poll", poll_json(sys));
    json_object_set_new(root, "can",
                        json_pack("{s:I,s:I,s:I,s:I,s:I}", "tx_frames", (json_int_t)c->tx_frames,
                                  "rx_frames", (json_int_t)c->rx_frames, "tx_dropped",
                                  (json_int_t)c->tx_dropped, "bus_errors",
                                  (json_int_t)c->bus_errors, "restarts", (json_int_t)c->restarts));
    json_object_set_new(
        root, "http",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "requests", (json_int_t)m->http.requests,
                  "status_2xx", (json_int_t)m->http.status_2xx, "status_3xx",
                  (json_int_t)m->http.status_3xx, "status_4xx", (json_int_t)m->http.status_4xx,
                  "status_5xx", (json_int_t)m->http.status_5xx, "rate_limited",
                  (json_int_t)m->http.rate_limited, "auth_failed",
                  (json_int_t)m->http.auth_failed));
    json_object_set_new(root, "event_bus", web_metrics_bus_json(&m->bus));
    json_object_set_new(
        root, "ws",
        m->ws.running ? json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "clients",
                                  (int)m->ws.clients, "connections", (json_int_t)m->ws.connections,
                                  "messages_sent", (json_int_t)m->ws.messages_sent,
                                  "messages_dropped", (json_int_t)m->ws.messages_dropped,
                                  "clients_dropped", (json_int_t)m->ws.clients_dropped,
                                  "clients_refused", (json_int_t)m->ws.clients_refused,
                                  "closed_policy", (json_int_t)m->ws.closed_policy,
                                  "telemetry_messages", (json_int_t)m->ws.telemetry_messages)
                      : json_null());
    json_object_set_new(root, "alerts",
                        m->alerts_running
                            ? json_pack("{s:i,s:I}", "active", (int)m->alerts_active,
                                        "raised_total", (json_int_t)m->alerts_raised_total)
                            : json_null());
    json_object_set_new(root, "log_dropped", json_integer((json_int_t)m->log_dropped));
    json_object_set_new(root, "services", services_json(m));
    return root;
}

/* ---- Prometheus text ---------------------------------------------------------------------- */

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped. */
static void prom_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void prom_value(FILE *f, double v);

/* A service's own figures as bmsgw_<service>_<name>. */
static void prom_service_counters(FILE *f, const struct service_status *st)
{
    for (unsigned k = 0; k < st->counter_count; k++) {
        const struct service_counter *c = &st->counters[k];
        char name[96];
        snprintf(name, sizeof(name), "bmsgw_%s_%s", st->name, c->name);
        prom_head(f, name, c->gauge ? "gauge" : "counter", c->help);
        fprintf(f, "%s %llu\n", name, (unsigned long long)c->value);
    }
}

static void prom_value(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, " %.10g\n", v);
    else
        fputs(isnan(v) ? " NaN\n" : v > 0 ? " +Inf\n" : " -Inf\n", f);
}

static void prom_scalar(FILE *f, const char *name, const char *type, const char *help, double v)
{
    prom_head(f, name, type, help);
    fputs(name, f);
    prom_value(f, v);
}

/* name{string="1",name="house"} v */
static void prom_string_sample(FILE *f, const char *name, const struct bmsgw_system *sys,
                               unsigned i, const char *extra, double v)
{
    fprintf(f, "%s{string=\"%u\",name=\"", name, i + 1);
    prom_label(f, sys->strings[i].name);
    fprintf(f, "\"%s}", extra ? extra : "");
    prom_value(f, v);
}

struct sys_gauge {
    const char *name;
    const char *help;
    double (*get)(const struct bmsgw_system *sys);
    bool needs_cells;
};

static double g_soc(const struct bmsgw_system *s)
{
    return s->agg.soc_pct;
}
static double g_soh(const struct bmsgw_system *s)
{
    return s->agg.soh_pct;
}
static double g_volt(const struct bmsgw_system *s)
{
    return s->agg.pack_v;
}
static double g_curr(const struct bmsgw_system *s)
{
    return s->agg.current_a;
}
static double g_power(const struct bmsgw_system *s)
{
    return s->agg.pack_v * s->agg.current_a;
}
static double g_cap(const struct bmsgw_system *s)
{
    return s->agg.capacity_ah;
}
static double g_min_cell(const struct bmsgw_system *s)
{
    return s->agg.min_cell_mv / 1000.0;
}
static double g_max_cell(const struct bmsgw_system *s)
{
    return s->agg.max_cell_mv / 1000.0;
}

static const struct sys_gauge sys_gauges[] = {
    { "bmsgw_soc_percent", "State of charge of the battery system.", g_soc, false },
    { "bmsgw_soh_percent", "State of health of the battery system.", g_soh, false },
    { "bmsgw_pack_voltage_volts", "Pack voltage.", g_volt, false },
    { "bmsgw_current_amperes", "Battery current (positive = charging).", g_curr, false },
    { "bmsgw_power_watts", "Battery power (positive = charging).", g_power, false },
    { "bmsgw_capacity_amperehours", "Installed capacity of the online strings.", g_cap, false },
    { "bmsgw_cell_min_volts", "Lowest cell voltage.", g_min_cell, true },
    { "bmsgw_cell_max_volts", "Highest cell voltage.", g_max_cell, true },
};

static void prom_system(FILE *f, const struct bmsgw_system *sys, int64_t now_ms, int stale_ms)
{
    int64_t age = bmsgw_system_age_ms(sys, now_ms);
    bool data = sys->agg.strings_online > 0;
    prom_scalar(f, "bmsgw_strings_online", "gauge", "Strings with fresh data.",
                sys->agg.strings_online);
    prom_scalar(f, "bmsgw_data_stale", "gauge", "1 when the battery data is stale.",
                age > stale_ms);
    if (age != INT64_MAX)
        prom_scalar(f, "bmsgw_data_age_seconds", "gauge", "Age of the oldest online sample.",
                    age / 1000.0);
    for (unsigned i = 0; data && i < sizeof(sys_gauges) / sizeof(sys_gauges[0]); i++)
        if (!sys_gauges[i].needs_cells || sys->agg.min_cell.string >= 0)
            prom_scalar(f, sys_gauges[i].name, "gauge", sys_gauges[i].help, sys_gauges[i].get(sys));
    if (data && sys->agg.temp_count) {
        prom_scalar(f, "bmsgw_temperature_min_celsius", "gauge", "Lowest battery temperature.",
                    sys->agg.min_temp_dc / 10.0);
        prom_scalar(f, "bmsgw_temperature_max_celsius", "gauge", "Highest battery temperature.",
                    sys->agg.max_temp_dc / 10.0);
    }
    prom_scalar(f, "bmsgw_energy_charged_watthours_total", "counter", "Energy charged.",
                sys->agg.charged_wh);
    prom_scalar(f, "bmsgw_energy_discharged_watthours_total", "counter", "Energy discharged.",
                sys->agg.discharged_wh);
}

static void prom_limits_alarms(FILE *f, const struct bmsgw_system *sys)
{
    const struct bmsgw_limits *l = &sys->limits;
    if (l->valid) {
        prom_scalar(f, "bmsgw_charge_voltage_limit_volts", "gauge", "CVL sent to the inverter.",
                    l->cvl_v);
        prom_scalar(f, "bmsgw_charge_current_limit_amperes", "gauge", "CCL sent to the inverter.",
                    l->ccl_a);
        prom_scalar(f, "bmsgw_discharge_current_limit_amperes", "gauge",
                    "DCL sent to the inverter.", l->dcl_a);
    }
    prom_head(f, "bmsgw_alarm_level", "gauge",
              "Alarm condition: 0 ok, 1 warning, 2 alarm (unmonitored ones are left out).");
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        uint8_t lv = sys->alarms.a[i].level;
        if (lv == BMSGW_LEVEL_UNSUPPORTED)
            continue;
        fprintf(f, "bmsgw_alarm_level{alarm=\"%s\"}", bmsgw_alarm_name(i));
        prom_value(f, lv == BMSGW_LEVEL_ALARM ? 2 : lv == BMSGW_LEVEL_WARNING ? 1 : 0);
    }
}

static void prom_cells(FILE *f, const struct bmsgw_system *sys, unsigned n)
{
    char extra[48];
    prom_head(f, "bmsgw_cell_voltage_volts", "gauge", "Cell voltage.");
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        for (unsigned c = 0; c < st->cell_count && st->cell_first + c < BMSGW_MAX_CELLS; c++) {
            if (!st->online || !sys->cell_mv[st->cell_first + c])
                continue;
            snprintf(extra, sizeof(extra), ",cell=\"%u\"", c + 1);
            prom_string_sample(f, "bmsgw_cell_voltage_volts", sys, i, extra,
                               sys->cell_mv[st->cell_first + c] / 1000.0);
        }
    }
    prom_head(f, "bmsgw_temperature_celsius", "gauge", "Battery temperature sensor.");
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        for (unsigned t = 0; t < st->sensor_count && st->sensor_first + t < BMSGW_MAX_SENSORS;
             t++) {
            int16_t dc = sys->sensor_dc[st->sensor_first + t];
            if (!st->online || dc == BMSGW_TEMP_ABSENT)
                continue;
            snprintf(extra, sizeof(extra), ",sensor=\"%u\"", t + 1);
            prom_string_sample(f, "bmsgw_temperature_celsius", sys, i, extra, dc / 10.0);
        }
    }
}

/* Per-string link counters, as data. */
static const struct link_counter {
    const char *name;
    const char *help;
    size_t offset;
} link_counters[] = {
    { "bmsgw_bms_requests_total", "Requests sent to the BMS.",
      offsetof(struct bmsgw_link, requests) },
    { "bmsgw_bms_timeouts_total", "Requests the BMS did not answer in time.",
      offsetof(struct bmsgw_link, timeouts) },
    { "bmsgw_bms_crc_errors_total", "Replies with a bad CRC.",
      offsetof(struct bmsgw_link, crc_errors) },
    { "bmsgw_bms_exceptions_total", "Requests the BMS rejected.",
      offsetof(struct bmsgw_link, exceptions) },
    { "bmsgw_bms_reconnects_total", "Times the serial device was reopened.",
      offsetof(struct bmsgw_link, reconnects) },
    { "bmsgw_bms_rejected_samples_total", "Samples that failed the plausibility checks.",
      offsetof(struct bmsgw_link, rejected_samples) },
};

static void prom_links(FILE *f, const struct bmsgw_system *sys, unsigned n)
{
    prom_head(f, "bmsgw_string_online", "gauge", "1 while the string's BMS link delivers data.");
    for (unsigned i = 0; i < n; i++)
        prom_string_sample(f, "bmsgw_string_online", sys, i, NULL, sys->strings[i].online);
    for (unsigned k = 0; k < sizeof(link_counters) / sizeof(link_counters[0]); k++) {
        prom_head(f, link_counters[k].name, "counter", link_counters[k].help);
        for (unsigned i = 0; i < n; i++) {
            const char *l = (const char *)&sys->strings[i].link;
            prom_string_sample(f, link_counters[k].name, sys, i, NULL,
                               (double)*(const uint64_t *)(l + link_counters[k].offset));
        }
    }
    prom_head(f, "bmsgw_bms_poll_cycle_seconds", "gauge", "Poll cycle time quantiles.");
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_link *l = &sys->strings[i].link;
        prom_string_sample(f, "bmsgw_bms_poll_cycle_seconds", sys, i, ",quantile=\"0.5\"",
                           l->cycle_p50_us / 1e6);
        prom_string_sample(f, "bmsgw_bms_poll_cycle_seconds", sys, i, ",quantile=\"0.99\"",
                           l->cycle_p99_us / 1e6);
    }
}

static void prom_can(FILE *f, const struct bmsgw_can_health *c)
{
    prom_scalar(f, "bmsgw_can_sending", "gauge", "1 while frames go to the inverter.", c->sending);
    prom_scalar(f, "bmsgw_can_tx_frames_total", "counter", "CAN frames sent.",
                (double)c->tx_frames);
    prom_scalar(f, "bmsgw_can_rx_frames_total", "counter", "CAN frames received.",
                (double)c->rx_frames);
    prom_scalar(f, "bmsgw_can_tx_dropped_total", "counter", "CAN frames that could not be sent.",
                (double)c->tx_dropped);
    prom_scalar(f, "bmsgw_can_bus_errors_total", "counter", "CAN bus errors.",
                (double)c->bus_errors);
    prom_scalar(f, "bmsgw_can_restarts_total", "counter", "CAN interface restarts.",
                (double)c->restarts);
}

static void prom_process(FILE *f, const struct web_metrics *m)
{
    prom_scalar(f, "bmsgw_uptime_seconds", "gauge", "Time since the daemon started.",
                m->uptime_ms / 1000.0);
    prom_scalar(f, "process_cpu_seconds_total", "counter", "User and system CPU time.",
                m->proc.cpu_user_s + m->proc.cpu_system_s);
    prom_scalar(f, "process_resident_memory_bytes", "gauge", "Resident memory.",
                (double)m->proc.rss_bytes);
    prom_scalar(f, "process_virtual_memory_bytes", "gauge", "Virtual memory.",
                (double)m->proc.vm_bytes);
    prom_scalar(f, "bmsgw_threads", "gauge", "Threads of the daemon.", m->proc.threads);
    prom_head(f, "bmsgw_http_responses_total", "counter", "HTTP answers by status class.");
    fprintf(f, "bmsgw_http_responses_total{code=\"2xx\"} %llu\n",
            (unsigned long long)m->http.status_2xx);
    fprintf(f, "bmsgw_http_responses_total{code=\"3xx\"} %llu\n",
            (unsigned long long)m->http.status_3xx);
    fprintf(f, "bmsgw_http_responses_total{code=\"4xx\"} %llu\n",
            (unsigned long long)m->http.status_4xx);
    fprintf(f, "bmsgw_http_responses_total{code=\"5xx\"} %llu\n",
            (unsigned long long)m->http.status_5xx);
    prom_scalar(f, "bmsgw_http_rate_limited_total", "counter", "Requests refused with 429.",
                (double)m->http.rate_limited);
    prom_scalar(f, "bmsgw_event_bus_published_total", "counter", "Event bus messages published.",
                (double)m->bus.published);
    prom_scalar(f, "bmsgw_event_bus_dropped_total", "counter",
                "Event bus messages lost to full subscriber queues.", (double)m->bus.dropped);
    if (m->ws.running) {
        prom_scalar(f, "bmsgw_ws_clients", "gauge", "WebSocket clients.", m->ws.clients);
        prom_scalar(f, "bmsgw_ws_messages_sent_total", "counter", "WebSocket messages sent.",
                    (double)m->ws.messages_sent);
        prom_scalar(f, "bmsgw_ws_messages_dropped_total", "counter",
                    "WebSocket messages lost to full client queues.",
                    (double)m->ws.messages_dropped);
        prom_scalar(f, "bmsgw_ws_clients_dropped_total", "counter",
                    "WebSocket clients closed for reading too slowly.",
                    (double)m->ws.clients_dropped);
    }
    if (m->alerts_running) {
        prom_scalar(f, "bmsgw_alerts_active", "gauge", "Active alerts.", m->alerts_active);
        prom_scalar(f, "bmsgw_alerts_raised_total", "counter", "Alerts raised.",
                    (double)m->alerts_raised_total);
    }
    prom_head(f, "bmsgw_service_running", "gauge", "1 while a service runs (degraded included).");
    for (unsigned i = 0; i < m->service_count; i++)
        fprintf(f, "bmsgw_service_running{service=\"%s\",state=\"%s\"} %d\n", m->services[i].name,
                service_state_name(m->services[i].state),
                m->services[i].state == SERVICE_RUNNING ||
                    m->services[i].state == SERVICE_DEGRADED);
    prom_head(f, "bmsgw_service_degraded", "gauge", "1 while a service is degraded, with why.");
    for (unsigned i = 0; i < m->service_count; i++) {
        const struct service_status *st = &m->services[i];
        fprintf(f, "bmsgw_service_degraded{service=\"%s\",reason=\"", st->name);
        prom_label(f, st->state == SERVICE_DEGRADED ? st->last_error : "");
        fprintf(f, "\"} %d\n", st->state == SERVICE_DEGRADED);
    }
    for (unsigned i = 0; i < m->service_count; i++)
        prom_service_counters(f, &m->services[i]);
}

char *web_metrics_prometheus(const struct web_metrics *m, const struct bmsgw_system *sys,
                             int64_t now_ms, int stale_after_ms, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;
    prom_system(f, sys, now_ms, stale_after_ms);
    prom_limits_alarms(f, sys);
    prom_cells(f, sys, n);
    prom_links(f, sys, n);
    prom_can(f, &sys->can);
    prom_process(f, m);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}
