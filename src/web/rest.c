/* SPDX-License-Identifier: MIT */
/* rest.c — the route table and the checks every request passes before its handler runs. */
#include "rest_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bmsgw/app.h"
#include "bmsgw/config_store.h"
#include "bmsgw/service.h"
#include "bmsgw/utf8.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/status_json.h"

/* Every endpoint, once. A path with several methods has one entry per method. */
static const struct rest_route routes[] = {
    { .path = "/api/status", .method = REST_GET, .fn = rest_h_status },
    { .path = "/api/config", .method = REST_GET, .fn = rest_h_config_get },
    { .path = "/api/config", .method = REST_POST, .fn = rest_h_config_post, .body = true },
    { .path = "/api/metrics/runtime", .method = REST_GET, .fn = rest_h_runtime },
    { .path = "/api/event-bus/metrics", .method = REST_GET, .fn = rest_h_bus_metrics },
    { .path = "/api/system/tasks", .method = REST_GET, .fn = rest_h_tasks },
    { .path = "/api/system/modules", .method = REST_GET, .fn = rest_h_modules },
    { .path = "/api/system/restart", .method = REST_POST, .fn = rest_h_restart, .body = true },
    { .path = "/api/can/status", .method = REST_GET, .fn = rest_h_can_status },
    { .path = "/api/alerts/config", .method = REST_GET, .fn = rest_h_alerts_config_get },
    { .path = "/api/alerts/config",
      .method = REST_POST,
      .fn = rest_h_alerts_config_post,
      .body = true },
    { .path = "/api/alerts/active", .method = REST_GET, .fn = rest_h_alerts_active },
    { .path = "/api/alerts/history", .method = REST_GET, .fn = rest_h_alerts_history },
    { .path = "/api/alerts/history", .method = REST_DELETE, .fn = rest_h_alerts_history_delete },
    { .path = "/api/alerts/acknowledge",
      .method = REST_POST,
      .fn = rest_h_alerts_ack,
      .body = true },
    { .path = "/api/bms/registers", .method = REST_GET, .fn = rest_h_bms_registers },
    { .path = "/api/bms/registers", .method = REST_POST, .fn = rest_h_bms_write, .body = true },
    { .path = "/api/config/schema", .method = REST_GET, .fn = rest_h_config_schema },
    { .path = "/api/history", .method = REST_GET, .fn = rest_h_history },
    { .path = "/metrics", .method = REST_GET, .fn = rest_h_prometheus },
    { .path = "/api/ota", .method = REST_POST, .fn = rest_h_ota, .body = true },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const struct {
    const char *name;
    unsigned bit;
} method_names[] = {
    { "GET", REST_GET },         { "HEAD", REST_HEAD }, { "POST", REST_POST },
    { "DELETE", REST_DELETE },   { "PUT", REST_PUT },   { "PATCH", REST_PATCH },
    { "OPTIONS", REST_OPTIONS },
};

unsigned rest_method_from_name(const char *name)
{
    for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (strcmp(name, method_names[i].name) == 0)
            return method_names[i].bit;
    return REST_OTHER;
}

struct rest_api *rest_api_new(struct bmsgw_app *app, struct history *history)
{
    struct rest_api *api = calloc(1, sizeof(*api));
    if (!api)
        return NULL;
    api->app = app;
    api->history = history;
    pthread_mutex_init(&api->lock, NULL);
    ratelimit_init(&api->limiter);
    snprintf(api->token_error, sizeof(api->token_error), "no API token configured");
    return api;
}

void rest_api_free(struct rest_api *api)
{
    if (!api)
        return;
    pthread_mutex_destroy(&api->lock);
    explicit_bzero(api->token, sizeof(api->token));
    free(api);
}

void rest_api_set_token(struct rest_api *api, const char *token, const char *why_missing)
{
    pthread_mutex_lock(&api->lock);
    api->have_token = token != NULL;
    snprintf(api->token, sizeof(api->token), "%s", token ? token : "");
    snprintf(api->token_error, sizeof(api->token_error), "%s",
             why_missing ? why_missing : "no API token configured");
    pthread_mutex_unlock(&api->lock);
}

void rest_response_clear(struct rest_response *rs)
{
    json_decref(rs->json);
    free(rs->text);
    rs->json = NULL;
    rs->text = NULL;
}

void rest_error(struct rest_response *rs, int status, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utf8_repair(msg);
    rest_response_clear(rs);
    rs->status = status;
    rs->json = json_pack("{s:s}", "error", msg);
    if (field && rs->json)
        json_object_set_new(rs->json, "field", json_string(field));
}

void rest_ok(struct rest_response *rs, json_t *j)
{
    rest_response_clear(rs);
    if (!j) {
        rest_error(rs, 500, NULL, "out of memory");
        return;
    }
    rs->status = 200;
    rs->json = j;
}

int rest_check_bearer(const char *header, const char *token)
{
    static const char scheme[] = "Bearer ";
    if (!header || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
        return 401;
    const char *p = header + sizeof(scheme) - 1;
    while (*p == ' ')
        p++;
    if (!*p)
        return 401;
    return auth_token_equal(p, token) ? 0 : 403;
}

/* The live keys (read_requires_token, rate_limit_per_min, stale_after_ms); api->lock held. */
static void refresh_http_keys(struct rest_api *api)
{
    uint64_t gen = config_store_generation(api->app->config);
    if (gen == api->cfg_generation)
        return;
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return;
    api->cfg_generation = config_store_get(api->app->config, cfg);
    api->read_requires_token = cfg->http.read_requires_token;
    api->rate_limit_per_min = cfg->http.rate_limit_per_min;
    api->stale_after_ms = cfg->bms.stale_after_ms;
    free(cfg);
}

int rest_stale_after_ms(struct rest_api *api)
{
    pthread_mutex_lock(&api->lock);
    refresh_http_keys(api);
    int v = api->stale_after_ms;
    pthread_mutex_unlock(&api->lock);
    return v;
}

static const struct rest_route *route_find(const struct rest_request *rq, struct rest_response *rs)
{
    unsigned want = rq->method == REST_HEAD ? REST_GET : rq->method, allowed = 0;
    for (unsigned i = 0; i < NROUTES; i++) {
        if (strcmp(routes[i].path, rq->path) != 0)
            continue;
        if (routes[i].method == want)
            return &routes[i];
        allowed |= routes[i].method;
    }
    if (!allowed) {
        rest_error(rs, 404, NULL, "no such endpoint: %s", rq->path);
        return NULL;
    }
    if (allowed & REST_GET)
        allowed |= REST_HEAD;
    size_t used = 0;
    for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (allowed & method_names[i].bit)
            used += (size_t)snprintf(rs->allow + used, sizeof(rs->allow) - used, "%s%s",
                                     used ? ", " : "", method_names[i].name);
    rest_error(rs, 405, NULL, "method not allowed on %s (allowed: %s)", rq->path, rs->allow);
    return NULL;
}

/* Rate limit and token, under api->lock. Returns 0 to go on. */
static int check_access(struct rest_api *api, const struct rest_request *rq, bool mutating,
                        int64_t now_ms, struct rest_response *rs)
{
    refresh_http_keys(api);
    if (mutating) {
        int wait_s = ratelimit_take(&api->limiter, rq->client, api->rate_limit_per_min, now_ms);
        if (wait_s > 0) {
            api->stats.rate_limited++;
            rest_error(rs, 429, NULL, "too many changing requests from %s: at most %d a minute",
                       rq->client ? rq->client : "this client", api->rate_limit_per_min);
            rs->retry_after_s = wait_s;
            return -1;
        }
    }
    if (!mutating && !api->read_requires_token)
        return 0;
    if (!api->have_token) {
        rest_error(rs, 503, NULL, "requests that need the API token are refused: %s",
                   api->token_error);
        return -1;
    }
    int auth = rest_check_bearer(rq->authorization, api->token);
    if (auth == 0)
        return 0;
    api->stats.auth_failed++;
    if (auth == 401) {
        rest_error(rs, 401, NULL,
                   "this request needs the header 'Authorization: Bearer <token>' "
                   "(the token is in the file set by http.api_token_file)");
        rs->authenticate = true;
    } else {
        rest_error(rs, 403, NULL, "the API token is wrong");
    }
    return -1;
}

static bool is_json_type(const char *ct)
{
    static const char json[] = "application/json";
    if (!ct || strncasecmp(ct, json, sizeof(json) - 1) != 0)
        return false;
    char next = ct[sizeof(json) - 1];
    return next == '\0' || next == ';' || next == ' ';
}

const struct rest_route *rest_begin(struct rest_api *api, const struct rest_request *rq,
                                    int64_t now_ms, struct rest_response *rs)
{
    const struct rest_route *r = route_find(rq, rs);
    if (!r)
        return NULL;
    bool mutating = r->method == REST_POST || r->method == REST_DELETE;
    pthread_mutex_lock(&api->lock);
    int rc = check_access(api, rq, mutating, now_ms, rs);
    pthread_mutex_unlock(&api->lock);
    if (rc)
        return NULL;
    if (r->body && rq->content_length != 0 && !is_json_type(rq->content_type)) {
        rest_error(rs, 415, NULL, "the body must be JSON (Content-Type: application/json), not %s",
                   rq->content_type ? rq->content_type : "untyped data");
        return NULL;
    }
    if (rq->content_length > REST_BODY_MAX) {
        rest_error(rs, 413, NULL, "the body is %lld bytes; at most %d are accepted",
                   (long long)rq->content_length, REST_BODY_MAX);
        return NULL;
    }
    return r;
}

void rest_finish(struct rest_api *api, const struct rest_route *r, const struct rest_request *rq,
                 struct rest_response *rs)
{
    json_t *body = NULL;
    if (r->body) {
        json_error_t err;
        if (rq->body_len == 0)
            body = json_object();
        else
            body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!body) {
            rest_error(rs, 400, NULL, "malformed JSON at line %d, column %d: %s", err.line,
                       err.column, err.text);
            return;
        }
        if (!json_is_object(body)) {
            json_decref(body);
            rest_error(rs, 422, NULL, "the body must be a JSON object ({...})");
            return;
        }
    }
    r->fn(api, rq, body, rs);
    json_decref(body);
}

void rest_count(struct rest_api *api, int status)
{
    pthread_mutex_lock(&api->lock);
    api->stats.requests++;
    if (status < 300)
        api->stats.status_2xx++;
    else if (status < 400)
        api->stats.status_3xx++;
    else if (status < 500)
        api->stats.status_4xx++;
    else
        api->stats.status_5xx++;
    pthread_mutex_unlock(&api->lock);
}

void rest_get_stats(struct rest_api *api, struct rest_stats *out)
{
    pthread_mutex_lock(&api->lock);
    *out = api->stats;
    pthread_mutex_unlock(&api->lock);
}

int rest_query_int(const struct rest_request *rq, const char *name, long min, long max, long def,
                   long *out, struct rest_response *rs)
{
    const char *v = rq->query ? rq->query(rq->query_cls, name) : NULL;
    char *end;
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        rest_error(rs, 422, name, "%s must be an integer %ld..%ld (got '%.40s')", name, min, max,
                   v);
        return -1;
    }
    *out = n;
    return 0;
}

struct bmsgw_system *rest_system_copy(struct rest_api *api, struct rest_response *rs)
{
    struct bmsgw_system *sys = malloc(sizeof(*sys));
    if (!sys) {
        rest_error(rs, 500, NULL, "out of memory");
        return NULL;
    }
    snapshot_copy(api->app->snap, sys);
    return sys;
}

int rest_bms_cmd_status(int rc)
{
    switch (rc) {
    case -ERANGE:
    case -EINVAL:
        return 422;
    case -ENOTCONN:
    case -ESHUTDOWN:
    case -EAGAIN:
        return 503;
    case -ETIMEDOUT:
        return 504;
    default:
        return 502; /* the BMS rejected it, did not answer or read back something else */
    }
}

int rest_bms_running(struct rest_api *api, struct rest_response *rs)
{
    struct service *svc = services_find(api->app->services, "bms");
    struct service_status st;
    if (!svc) {
        rest_error(rs, 503, NULL, "this gateway was built without the BMS service");
        return -1;
    }
    service_get_status(svc, &st);
    if (st.state != SERVICE_RUNNING && st.state != SERVICE_DEGRADED) {
        rest_error(rs, 503, NULL, "the BMS service is %s%s%s", service_state_name(st.state),
                   st.last_error[0] ? ": " : "", st.last_error);
        return -1;
    }
    return 0;
}
