/* SPDX-License-Identifier: MIT */
/* rest_system.c — configuration, services, threads, restart and the endpoints Linux does not offer.
 */
#include "rest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_cmd.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_json.h"
#include "bmsgw/config_store.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"
#include "bmsgw/status_json.h"
#include "bmsgw/sysinfo.h"

#define BMS_CMD_TIMEOUT_MS 2000

static struct bmsgw_config *config_copy(struct rest_api *api, struct rest_response *rs)
{
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        rest_error(rs, 500, NULL, "out of memory");
    else
        config_store_get(api->app->config, cfg);
    return cfg;
}

void rest_h_config_get(struct rest_api *api, const struct rest_request *rq, json_t *body,
                       struct rest_response *rs)
{
    struct bmsgw_config *cfg = config_copy(api, rs);
    if (cfg)
        rest_ok(rs, config_to_json(cfg));
    free(cfg);
}

void rest_h_alerts_config_get(struct rest_api *api, const struct rest_request *rq, json_t *body,
                              struct rest_response *rs)
{
    struct bmsgw_config *cfg = config_copy(api, rs);
    if (!cfg)
        return;
    json_t *all = config_to_json(cfg);
    json_t *alarms = json_incref(json_object_get(all, "alarms"));
    json_decref(all);
    rest_ok(rs, alarms);
    free(cfg);
}

/* A comma-separated list as a JSON array of strings. */
static json_t *split_keys(const char *list)
{
    json_t *arr = json_array();
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && *p == ' ') {
            p++;
            n--;
        }
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p += n;
        if (*p == ',')
            p++;
    }
    return arr;
}

/* Publish an event on BUS_EVENT, for /ws/events: detail, and source or target ("" = none). */
static void publish_event(struct rest_api *api, enum bmsgw_event_type type, int string,
                          const char *who, const char *detail)
{
    struct bmsgw_event e = { .type = (uint8_t)type, .string = (int16_t)string };
    if (type == BMSGW_EV_CONFIG_CHANGED) {
        bmsgw_event_set_text(e.config.source, sizeof(e.config.source), who);
        bmsgw_event_set_text(e.config.detail, sizeof(e.config.detail), detail);
    } else {
        bmsgw_event_set_text(e.text.target, sizeof(e.text.target), who);
        bmsgw_event_set_text(e.text.detail, sizeof(e.text.detail), detail);
    }
    bmsgw_event_publish(api->app->bus, &e);
}

static void announce_change(struct rest_api *api, const char *detail)
{
    publish_event(api, BMSGW_EV_CONFIG_CHANGED, -1, "api", detail);
}

/* Apply the patch through the same validator as the file, persist the overlay, swap it in and
 * let the services apply what they can. *rs gets the answer. */
static void config_change(struct rest_api *api, json_t *patch, struct rest_response *rs)
{
    struct config_store *store = api->app->config;
    struct bmsgw_config *cur = malloc(sizeof(*cur)), *next = malloc(sizeof(*next));
    struct cfg_error err;
    char overlay[CFG_PATH_MAX + 16], keys[1024] = "", msg[700];

    if (!cur || !next) {
        rest_error(rs, 500, NULL, "out of memory");
        goto out;
    }
    config_store_lock_changes(store);
    config_store_get(store, cur);
    config_overlay_path(cur, overlay, sizeof(overlay));
    int rc = config_update(config_store_path(store), overlay, cur, patch, next, keys, sizeof(keys),
                           &err);
    if (rc == 0) {
        config_store_set(store, next);
        if (next->log.level != cur->log.level)
            log_set_level(config_log_syslog_level(next));
        services_reload(api->app->services, next);
    }
    config_store_unlock_changes(store);

    if (rc == -EINVAL && !err.file[0]) {
        rest_error(rs, 422, err.key[0] ? err.key : NULL, "%s%s%s", err.key, err.key[0] ? ": " : "",
                   err.msg);
    } else if (rc) {
        log_err("configuration change refused: %s", cfg_error_str(&err, msg, sizeof(msg)));
        rest_error(rs, 500, NULL, "%s", cfg_error_str(&err, msg, sizeof(msg)));
    } else {
        char *changed = json_dumps(patch, JSON_COMPACT);
        log_notice("configuration changed through the API: %s%s%s", changed ? changed : "",
                   keys[0] ? "; after a restart: " : "", keys);
        announce_change(api, keys[0] ? "changed; some keys need a restart" : "changed");
        free(changed);
        rest_ok(rs, json_pack("{s:o,s:o}", "restart_required", split_keys(keys), "config",
                              config_to_json(next)));
    }
out:
    free(cur);
    free(next);
}

void rest_h_config_post(struct rest_api *api, const struct rest_request *rq, json_t *body,
                        struct rest_response *rs)
{
    config_change(api, body, rs);
}

void rest_h_alerts_config_post(struct rest_api *api, const struct rest_request *rq, json_t *body,
                               struct rest_response *rs)
{
    json_t *patch = json_pack("{s:O}", "alarms", body);
    config_change(api, patch, rs);
    json_decref(patch);
    if (rs->status == 200 && rs->json) {
        /* answer with the alarms group only, like the GET */
        json_t *alarms =
            json_incref(json_object_get(json_object_get(rs->json, "config"), "alarms"));
        json_object_set_new(rs->json, "config", alarms);
    }
}

void rest_h_tasks(struct rest_api *api, const struct rest_request *rq, json_t *body,
                  struct rest_response *rs)
{
    json_t *tasks = sysinfo_tasks_json();
    if (!tasks)
        rest_error(rs, 500, NULL, "cannot read /proc/self/task: %s", strerror(errno));
    else
        rest_ok(rs, tasks);
}

/* A service's own figures, {name: value}. */
static json_t *counters_json(const struct service_status *st)
{
    json_t *o = json_object();
    for (unsigned k = 0; k < st->counter_count; k++)
        json_object_set_new(o, st->counters[k].name,
                            json_integer((json_int_t)st->counters[k].value));
    return o;
}

void rest_h_modules(struct rest_api *api, const struct rest_request *rq, json_t *body,
                    struct rest_response *rs)
{
    struct service_registry *reg = api->app->services;
    struct bmsgw_config *cfg = config_copy(api, rs);
    int64_t now = clock_mono_ms();
    if (!cfg)
        return;
    json_t *arr = json_array();
    for (unsigned i = 0; reg && i < reg->count; i++) {
        struct service_status st;
        service_get_status(&reg->svc[i], &st);
        int64_t since_real = api->app->start_real_ms + (st.since_ms - api->app->start_ms);
        json_array_append_new(
            arr, json_pack("{s:s,s:b,s:s,s:s?,s:I,s:I,s:o}", "name", st.name, "enabled",
                           reg->svc[i].ops->enabled(cfg), "state", service_state_name(st.state),
                           "last_error", st.last_error[0] ? st.last_error : NULL, "since_ms",
                           (json_int_t)since_real, "for_ms", (json_int_t)(now - st.since_ms),
                           "progress_age_ms", json_age_or_null(now, st.progress_ms)));
        if (st.counter_count)
            json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "counters",
                                counters_json(&st));
    }
    free(cfg);
    rest_ok(rs, arr);
}

static void restart_bms(struct rest_api *api, json_t *body, struct rest_response *rs)
{
    json_t *jstr = json_object_get(body, "string");
    int ports = 0;
    for (; ports < CFG_MAX_PORTS && api->app->bms_cmdq[ports]; ports++)
        ;
    if (!json_is_integer(jstr) || json_integer_value(jstr) < 1 ||
        json_integer_value(jstr) > ports) {
        rest_error(rs, 422, "string", "string must be an integer 1..%d (the configured ports)",
                   ports);
        return;
    }
    if (rest_bms_running(api, rs))
        return;
    int idx = (int)json_integer_value(jstr) - 1;
    struct cmdq_req req = { .op = BMS_CMD_RESET };
    int rc = cmdq_call(api->app->bms_cmdq[idx], &req, BMS_CMD_TIMEOUT_MS);
    if (rc) {
        rest_error(rs, rest_bms_cmd_status(rc), NULL, "BMS reset of string %d failed: %s", idx + 1,
                   req.msg[0] ? req.msg : strerror(-rc));
        return;
    }
    log_notice("the BMS of string %d reset through the API", idx + 1);
    publish_event(api, BMSGW_EV_BMS_RESET, idx, "", "requested through the API");
    rest_ok(rs, json_pack("{s:s,s:i}", "reset", "bms", "string", idx + 1));
}

void rest_h_restart(struct rest_api *api, const struct rest_request *rq, json_t *body,
                    struct rest_response *rs)
{
    const char *target = json_string_value(json_object_get(body, "target"));
    if (target && strcmp(target, "gateway") == 0) {
        log_notice("restart of the gateway requested through the API by %s",
                   rq->client ? rq->client : "a client");
        publish_event(api, BMSGW_EV_RESTART, -1, "gateway", "requested through the API");
        rest_ok(rs, json_pack("{s:s}", "restarting", "gateway"));
        rs->status = 202;
        rs->after = REST_AFTER_EXIT;
    } else if (target && strcmp(target, "bms") == 0) {
        restart_bms(api, body, rs);
    } else {
        rest_error(rs, 422, "target", "target must be \"gateway\" or \"bms\" (with \"string\")");
    }
}

void rest_h_ota(struct rest_api *api, const struct rest_request *rq, json_t *body,
                struct rest_response *rs)
{
    rest_error(rs, 501, NULL, "updates are installed with apt (.deb)");
}
