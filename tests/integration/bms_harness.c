/* SPDX-License-Identifier: MIT */
/* bms_harness.c — test-only: the real "bms" service with the real snapshot (and its composer),
 * event bus and command queues, driven line by line over stdin/stdout so integration tests can
 * read exactly what the service published.
 *
 *   snapshot                      the system as JSON (strings, their links, the aggregate)
 *   events                        BUS_EVENT messages since the last "events" (JSON array), each
 *                                 with tx_since_rx: requests sent since the last reply then
 *   uart                          BUS_UART frame and byte counts so far, messages the bus dropped
 *   gaps                          per string since the last "gaps", by the poller's own stamps
 *                                 (sample_ms): the longest time between two samples (max_ms)
 *                                 and the sum of those too long to integrate (unintegrated_ms)
 *   call STRING OP [ARG0 [ARG1]]  a bms_cmd.h request: write|read-settings|reset|
 *                                 clear-events|clear-stats; answers result, out[0], msg
 *   service                       the service's state and reason
 *   quit                          stop the service and exit
 *
 * usage: bms-harness CONFIG
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_cmd.h"
#include "bmsgw/bms_service.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/battery_stages.h"
#include "bmsgw/compose.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/event.h"
#include "bmsgw/energy.h"
#include "bmsgw/log.h"
#include "bmsgw/snapshot.h"

static const struct service_ops *const table[] = { &bms_service_ops, NULL };

struct harness {
    struct bmsgw_app app;
    struct service_registry services;
    struct composer composer;
    struct bus_sub *sub;
    json_t *events;
    uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes, tx_at_rx;
    struct bmsgw_system sys;
    /* sample gaps, kept by a snapshot watcher (the pollers' threads) */
    pthread_mutex_t gap_lock;
    struct bmsgw_system gap_sys;
    int max_gap_ms; /* energy_max_gap_ms() of the poll interval */
    int64_t gap_last[CFG_MAX_PORTS], gap_max[CFG_MAX_PORTS], gap_lost[CFG_MAX_PORTS];
};

static void on_commit(uint64_t gen, void *ctx)
{
    struct harness *h = ctx;
    (void)gen;
    pthread_mutex_lock(&h->gap_lock);
    snapshot_copy(h->app.snap, &h->gap_sys);
    for (unsigned i = 0; i < h->gap_sys.string_count && i < CFG_MAX_PORTS; i++) {
        int64_t t = h->gap_sys.strings[i].sample_ms;
        if (!t || t == h->gap_last[i])
            continue;
        int64_t gap = h->gap_last[i] ? t - h->gap_last[i] : 0;
        if (gap > h->gap_max[i])
            h->gap_max[i] = gap;
        if (gap > h->max_gap_ms)
            h->gap_lost[i] += gap;
        h->gap_last[i] = t;
    }
    pthread_mutex_unlock(&h->gap_lock);
}

static json_t *cmd_gaps(struct harness *h)
{
    json_t *a = json_array();
    pthread_mutex_lock(&h->gap_lock);
    for (unsigned i = 0; i < h->gap_sys.string_count && i < CFG_MAX_PORTS; i++) {
        json_array_append_new(a, json_pack("{s:I,s:I}", "max_ms", (json_int_t)h->gap_max[i],
                                           "unintegrated_ms", (json_int_t)h->gap_lost[i]));
        h->gap_max[i] = h->gap_lost[i] = 0;
    }
    pthread_mutex_unlock(&h->gap_lock);
    return a;
}

static void drain(struct harness *h)
{
    struct bus_msg m;
    while (bus_pop(h->sub, &m)) {
        if (m.topic == BUS_UART) {
            if (m.dir == BUS_DIR_TX) {
                h->tx_frames++;
                h->tx_bytes += m.len;
            } else {
                h->rx_frames++;
                h->rx_bytes += m.len;
                h->tx_at_rx = h->tx_frames;
            }
        } else if (m.topic == BUS_EVENT) {
            struct bmsgw_event ev;
            json_t *e = bmsgw_event_from_msg(&m, &ev) ? bmsgw_event_to_json(&ev, 0, 0) : NULL;
            if (json_is_object(e)) /* in bus order: the poller publishes both */
                json_object_set_new(e, "tx_since_rx",
                                    json_integer((json_int_t)(h->tx_frames - h->tx_at_rx)));
            json_array_append_new(h->events, e ? e : json_string("unknown event"));
        }
    }
}

static json_t *u16_array(const uint16_t *v, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *link_json(const struct bmsgw_link *l)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:s}", "state",
                     bmsgw_link_state_name(l->state), "since_ms", (json_int_t)l->since_ms,
                     "last_ok_ms", (json_int_t)l->last_ok_ms, "requests", (json_int_t)l->requests,
                     "timeouts", (json_int_t)l->timeouts, "crc_errors", (json_int_t)l->crc_errors,
                     "exceptions", (json_int_t)l->exceptions, "reconnects",
                     (json_int_t)l->reconnects, "rejected_samples", (json_int_t)l->rejected_samples,
                     "garbage_bytes", (json_int_t)l->garbage_bytes, "cycle_last_us",
                     (int)l->cycle_last_us, "cycle_p50_us", (int)l->cycle_p50_us, "cycle_p99_us",
                     (int)l->cycle_p99_us, "last_error", l->last_error);
}

static json_t *events_json(const struct bmsgw_string *st)
{
    json_t *a = json_array();
    for (unsigned k = 0; k < st->event_count; k++)
        json_array_append_new(a, json_pack("{s:I,s:i}", "timestamp_s",
                                           (json_int_t)st->events[k].timestamp_s, "id",
                                           st->events[k].id));
    return a;
}

static json_t *string_json(const struct bmsgw_system *sys, unsigned i, int64_t now)
{
    const struct bmsgw_string *st = &sys->strings[i];
    json_t *cells = json_array(), *flags = json_array(), *temps = json_array();
    for (unsigned c = 0; c < st->cell_count; c++) {
        json_array_append_new(cells, json_integer(sys->cell_mv[st->cell_first + c]));
        json_array_append_new(flags, json_integer(sys->cell_flags[st->cell_first + c]));
    }
    for (unsigned t = 0; t < st->sensor_count; t++)
        json_array_append_new(temps, json_integer(sys->sensor_dc[st->sensor_first + t]));
    json_t *o = json_pack("{s:s,s:b,s:I,s:i,s:i,s:o,s:o,s:i,s:o,s:f,s:f,s:f,s:f,s:f,s:i,s:i}",
                          "name", st->name, "online", st->online, "sample_age_ms",
                          (json_int_t)(st->sample_ms ? now - st->sample_ms : -1), "cell_first",
                          st->cell_first, "cell_count", st->cell_count, "cells_mv", cells,
                          "cell_flags", flags, "sensor_first", st->sensor_first, "sensors_dc",
                          temps, "pack_v", st->pack_v, "current_a", st->current_a, "soc_pct",
                          st->soc_pct, "soh_pct", st->soh_pct, "capacity_ah", st->capacity_ah,
                          "min_cell_no", st->min_cell_no, "max_cell_no", st->max_cell_no);
    json_object_update_new(
        o,
        json_pack(
            "{s:I,s:i,s:i,s:i,s:i,s:I,s:I,s:b,s:b,s:b,s:o,s:o,s:o,s:i,s:I,s:o,s:f,s:f,s:o}",
            "sample_ms", (json_int_t)st->sample_ms, "min_cell_mv", st->min_cell_mv, "max_cell_mv",
            st->max_cell_mv, "mosfet_temp_dc", st->mosfet_temp_dc, "status", st->status_code,
            "time_left_s", (json_int_t)st->time_left_s, "lifetime_s", (json_int_t)st->lifetime_s,
            "stats_valid", st->stats_valid, "settings_valid", st->settings_valid, "ident_valid",
            st->ident_valid, "stats_reg", u16_array(st->stats_reg, BMSGW_STATS_COUNT),
            "settings_reg", u16_array(st->settings_reg, BMSGW_SETTINGS_COUNT), "ident_reg",
            u16_array(st->ident_reg, BMSGW_IDENT_COUNT), "event_count", st->event_count,
            "event_seq", (json_int_t)st->event_seq, "events", events_json(st), "charged_wh",
            st->charged_wh, "discharged_wh", st->discharged_wh, "link", link_json(&st->link)));
    return o;
}

static json_t *agg_json(const struct bmsgw_aggregate *a)
{
    return json_pack("{s:i,s:i,s:f,s:f,s:f,s:f,s:i,s:i,s:{s:i,s:i},s:{s:i,s:i},s:i,s:i,s:f,s:f}",
                     "strings_configured", a->strings_configured, "strings_online",
                     a->strings_online, "pack_v", a->pack_v, "current_a", a->current_a, "soc_pct",
                     a->soc_pct, "capacity_ah", a->capacity_ah, "min_cell_mv", a->min_cell_mv,
                     "max_cell_mv", a->max_cell_mv, "min_cell", "string", a->min_cell.string, "no",
                     a->min_cell.no, "max_cell", "string", a->max_cell.string, "no", a->max_cell.no,
                     "min_temp_dc", a->min_temp_dc, "max_temp_dc", a->max_temp_dc, "charged_wh",
                     a->charged_wh, "discharged_wh", a->discharged_wh);
}

static json_t *cmd_snapshot(struct harness *h)
{
    uint64_t gen = snapshot_copy(h->app.snap, &h->sys);
    int64_t now = clock_mono_ms();
    json_t *strings = json_array();
    for (unsigned i = 0; i < h->sys.string_count; i++)
        json_array_append_new(strings, string_json(&h->sys, i, now));
    return json_pack("{s:I,s:i,s:i,s:o,s:o}", "generation", (json_int_t)gen, "cell_count",
                     h->sys.cell_count, "sensor_count", h->sys.sensor_count, "strings", strings,
                     "agg", agg_json(&h->sys.agg));
}

static const struct {
    const char *name;
    int op;
} ops[] = {
    { "write", BMS_CMD_WRITE_SETTING },
    { "read-settings", BMS_CMD_READ_SETTINGS },
    { "reset", BMS_CMD_RESET },
    { "clear-events", BMS_CMD_CLEAR_EVENTS },
    { "clear-stats", BMS_CMD_CLEAR_STATS },
    { "bogus", 999 },
};

static json_t *cmd_call(struct harness *h, char *args)
{
    char op[32] = "";
    int idx = -1;
    struct cmdq_req req;
    memset(&req, 0, sizeof(req));
    if (sscanf(args, "%d %31s %d %d", &idx, op, &req.arg[0], &req.arg[1]) < 2 || idx < 0 ||
        idx >= CFG_MAX_PORTS || !h->app.bms_cmdq[idx])
        return json_pack("{s:s}", "error", "call STRING OP [ARG0 [ARG1]]");
    req.op = -1;
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(op, ops[i].name) == 0)
            req.op = ops[i].op;
    int rc = cmdq_call(h->app.bms_cmdq[idx], &req, 60000); /* a give-up limit */
    return json_pack("{s:i,s:s,s:i,s:s}", "result", rc, "error", rc ? strerror(-rc) : "", "out0",
                     req.out[0], "msg", req.msg);
}

static json_t *cmd_service(struct harness *h)
{
    struct service_status st;
    service_get_status(&h->services.svc[0], &st);
    return json_pack("{s:s,s:s,s:I}", "state", service_state_name(st.state), "error", st.last_error,
                     "progress_age_ms", (json_int_t)(clock_mono_ms() - st.progress_ms));
}

static json_t *handle(struct harness *h, char *line)
{
    drain(h);
    if (strcmp(line, "snapshot") == 0)
        return cmd_snapshot(h);
    if (strcmp(line, "events") == 0) {
        json_t *e = h->events;
        h->events = json_array();
        return e;
    }
    if (strcmp(line, "uart") == 0)
        return json_pack("{s:I,s:I,s:I,s:I,s:I}", "tx_frames", (json_int_t)h->tx_frames,
                         "rx_frames", (json_int_t)h->rx_frames, "tx_bytes", (json_int_t)h->tx_bytes,
                         "rx_bytes", (json_int_t)h->rx_bytes, "dropped",
                         (json_int_t)bus_sub_dropped(h->sub));
    if (strcmp(line, "gaps") == 0)
        return cmd_gaps(h);
    if (strncmp(line, "call ", 5) == 0)
        return cmd_call(h, line + 5);
    if (strcmp(line, "service") == 0)
        return cmd_service(h);
    return json_pack("{s:s}", "error", "unknown command");
}

static int setup(struct harness *h, const char *path)
{
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    char msg[700];
    if (!cfg || config_load(cfg, path, "", &err) != 0) {
        fprintf(stderr, "bms-harness: %s\n", cfg ? cfg_error_str(&err, msg, sizeof(msg)) : "");
        free(cfg);
        return -EINVAL;
    }
    h->app.config = config_store_new(cfg, path);
    h->app.snap = snapshot_new();
    h->app.bus = bus_new();
    h->app.control = control_new();
    h->app.services = &h->services;
    h->app.exit_efd = -1;
    for (int i = 0; i < cfg->bms.port_count; i++)
        h->app.bms_cmdq[i] = cmdq_new(8);
    composer_init(&h->composer, h->app.config, h->app.control);
    battery_stages_register(&h->composer);
    snapshot_set_composer(h->app.snap, composer_run, &h->composer);
    h->sub = bus_subscribe(h->app.bus, BUS_UART | BUS_EVENT, 16384, NULL, NULL);
    h->events = json_array();
    pthread_mutex_init(&h->gap_lock, NULL);
    h->max_gap_ms = energy_max_gap_ms(cfg->bms.poll_interval_ms);
    if (snapshot_watch_add(h->app.snap, on_commit, h) != 0) {
        free(cfg);
        return -ENOSPC;
    }
    log_open(LOG_TARGET_STDERR, config_log_syslog_level(cfg));
    services_init(&h->services, &h->app, table);
    unsigned running = services_start(&h->services, cfg);
    free(cfg);
    return running == 1 ? 0 : -EIO;
}

static void teardown(struct harness *h)
{
    services_stop(&h->services, 30000);
    services_deinit(&h->services);
    snapshot_watch_remove(h->app.snap, on_commit, h);
    bus_unsubscribe(h->app.bus, h->sub);
    for (int i = 0; i < CFG_MAX_PORTS; i++)
        cmdq_free(h->app.bms_cmdq[i]);
    control_free(h->app.control);
    bus_free(h->app.bus);
    snapshot_free(h->app.snap);
    config_store_free(h->app.config);
    json_decref(h->events);
}

int main(int argc, char **argv)
{
    static struct harness h;
    char line[512];
    if (argc != 2) {
        fprintf(stderr, "usage: bms-harness CONFIG\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup(&h, argv[1]) != 0)
        return 1;
    printf("ready\n");
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "quit") == 0)
            break;
        json_t *o = handle(&h, line);
        char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
        printf("%s\n", text ? text : "{\"error\":\"encoding\"}");
        free(text);
        json_decref(o);
    }
    teardown(&h);
    return 0;
}
