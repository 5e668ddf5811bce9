/* SPDX-License-Identifier: MIT */
/* rest_status.c — read-only endpoints: status, history, metrics, event bus, CAN status. */
#include "rest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/alerts.h"
#include "bmsgw/app.h"
#include "bmsgw/can_proto.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/history.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/status_json.h"
#include "bmsgw/web_metrics.h"

void rest_h_status(struct rest_api *api, const struct rest_request *rq, json_t *body,
                   struct rest_response *rs)
{
    struct control_state ctl;
    struct bmsgw_system *sys = rest_system_copy(api, rs);
    if (!sys)
        return;
    control_get(api->app->control, &ctl);
    struct status_json_opts o = {
        .now_ms = clock_mono_ms(),
        .now_real_ms = clock_real_ms(),
        .stale_after_ms = rest_stale_after_ms(api),
        .control = &ctl,
    };
    rest_ok(rs, status_to_json(sys, &o));
    free(sys);
}

void rest_h_history(struct rest_api *api, const struct rest_request *rq, json_t *body,
                    struct rest_response *rs)
{
    long minutes;
    if (rest_query_int(rq, "minutes", 1, 24 * 60, 60, &minutes, rs))
        return;
    if (!api->history) {
        rest_error(rs, 503, NULL, "the history is not recorded");
        return;
    }
    rest_ok(rs, history_to_json(api->history, clock_real_ms() - minutes * 60000));
}

/* The figures of the process and the services, and a copy of the system (free() it); NULL with
 * a 500 in *rs when out of memory. */
static struct bmsgw_system *collect(struct rest_api *api, struct web_metrics *m,
                                    struct rest_response *rs)
{
    struct service_registry *reg = api->app->services;
    struct bmsgw_system *sys = rest_system_copy(api, rs);
    if (!sys)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->uptime_ms = clock_mono_ms() - api->app->start_ms;
    if (sysinfo_self(&m->proc) != 0)
        log_ratelimited(LOG_WARNING, 60000, "cannot read /proc/self for the runtime metrics");
    bus_get_metrics(api->app->bus, &m->bus);
    m->log_dropped = log_dropped();
    rest_get_stats(api, &m->http);
    ws_get_metrics(reg, &m->ws);
    if (api->app->alerts) {
        m->alerts_running = true;
        alerts_counts(api->app->alerts, &m->alerts_active, &m->alerts_raised_total);
    }
    for (unsigned i = 0; reg && i < reg->count && i < SERVICES_MAX; i++)
        service_get_status(&reg->svc[i], &m->services[m->service_count++]);
    return sys;
}

void rest_h_runtime(struct rest_api *api, const struct rest_request *rq, json_t *body,
                    struct rest_response *rs)
{
    struct web_metrics m;
    struct bmsgw_system *sys = collect(api, &m, rs);
    if (!sys)
        return;
    rest_ok(rs, web_metrics_runtime_json(&m, sys));
    free(sys);
}

void rest_h_prometheus(struct rest_api *api, const struct rest_request *rq, json_t *body,
                       struct rest_response *rs)
{
    struct web_metrics m;
    struct bmsgw_system *sys = collect(api, &m, rs);
    if (!sys)
        return;
    size_t len = 0;
    char *text = web_metrics_prometheus(&m, sys, clock_mono_ms(), rest_stale_after_ms(api), &len);
    free(sys);
    if (!text) {
        rest_error(rs, 500, NULL, "out of memory");
        return;
    }
    rest_response_clear(rs);
    rs->status = 200;
    rs->text = text;
    rs->text_len = len;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void rest_h_bus_metrics(struct rest_api *api, const struct rest_request *rq, json_t *body,
                        struct rest_response *rs)
{
    struct bus_metrics b;
    bus_get_metrics(api->app->bus, &b);
    rest_ok(rs, web_metrics_bus_json(&b));
}

/* Every frame of the protocol's table with its period and the age of its last transmission. */
static json_t *frames_json(const struct bmsgw_can_health *c, const struct bmsgw_config *cfg,
                           int64_t now_ms)
{
    const struct can_proto *p = can_proto_of(&cfg->can);
    json_t *arr = json_array();
    for (unsigned i = 0; i < p->n_frames && i < BMSGW_CAN_FRAMES_MAX; i++) {
        const struct can_proto_frame *f = &p->frames[i];
        char id[8];
        snprintf(id, sizeof(id), "0x%03X", f->id);
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:i,s:o}", "id", id, "name", f->name, "title", f->title,
                           "period_ms", can_proto_period_ms(p, &cfg->can, i), "last_sent_age_ms",
                           json_age_or_null(now_ms, c->frame_last_ms[i])));
    }
    return arr;
}

static json_t *can_status_json(const struct bmsgw_can_health *c, const struct bmsgw_config *cfg,
                               const struct service_status *svc, int64_t now_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "service", json_string(service_state_name(svc->state)));
    json_object_set_new(o, "service_error", json_string(svc->last_error));
    json_object_set_new(o, "protocol", json_string(can_proto_of(&cfg->can)->name));
    json_object_set_new(o, "interface",
                        json_string(c->interface[0] ? c->interface : cfg->can.interface));
    json_object_set_new(o, "state", json_string(bmsgw_can_bus_state_name(c->bus_state)));
    json_object_set_new(o, "bitrate", c->bitrate ? json_integer(c->bitrate) : json_null());
    json_object_set_new(o, "link", status_link_json(&c->link, now_ms));
    json_object_set_new(o, "sending", json_boolean(c->sending));
    json_object_set_new(o, "blocked", json_boolean(c->blocked));
    json_object_set_new(o, "tx_frames", json_integer((json_int_t)c->tx_frames));
    json_object_set_new(o, "rx_frames", json_integer((json_int_t)c->rx_frames));
    json_object_set_new(o, "tx_dropped", json_integer((json_int_t)c->tx_dropped));
    json_object_set_new(o, "bus_errors", json_integer((json_int_t)c->bus_errors));
    json_object_set_new(o, "restarts", json_integer((json_int_t)c->restarts));
    json_object_set_new(o, "last_305_age_ms", json_age_or_null(now_ms, c->last_keepalive_ms));
    json_object_set_new(o, "last_307_age_ms", json_age_or_null(now_ms, c->last_identify_ms));
    json_object_set_new(
        o, "inverter_present",
        json_boolean(c->last_keepalive_ms > 0 && now_ms - c->last_keepalive_ms < 10000));
    json_object_set_new(o, "inverter_identified", json_boolean(c->inverter_identified));
    json_object_set_new(o, "frames", frames_json(c, cfg, now_ms));
    json_object_set_new(o, "on_stale",
                        json_string(cfg->can.on_stale == CFG_STALE_BLOCK ? "block" : "silence"));
    return o;
}

void rest_h_can_status(struct rest_api *api, const struct rest_request *rq, json_t *body,
                       struct rest_response *rs)
{
    struct service *svc = services_find(api->app->services, "can");
    struct service_status st;
    if (!svc) {
        rest_error(rs, 503, NULL, "this gateway was built without the CAN service");
        return;
    }
    service_get_status(svc, &st);
    if (st.state == SERVICE_DISABLED || st.state == SERVICE_DOWN || st.state == SERVICE_STOPPED) {
        rest_error(rs, 503, NULL, "the CAN service is %s%s%s", service_state_name(st.state),
                   st.last_error[0] ? ": " : "", st.last_error);
        return;
    }
    struct bmsgw_system *sys = rest_system_copy(api, rs);
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (sys && cfg) {
        config_store_get(api->app->config, cfg);
        rest_ok(rs, can_status_json(&sys->can, cfg, &st, clock_mono_ms()));
    } else if (sys) {
        rest_error(rs, 500, NULL, "out of memory");
    }
    free(cfg);
    free(sys);
}
