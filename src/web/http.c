/* SPDX-License-Identifier: MIT */
/* http.c — the libmicrohttpd server: requests to rest.h, static files, the service's thread. */
#include "bmsgw/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/auth.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/history.h"
#include "bmsgw/log.h"
#include "bmsgw/rest.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/status_json.h"
#include "bmsgw/http_static.h"

#define HTTP_THREADS 2

struct http {
    struct service *svc;
    struct MHD_Daemon *mhd;
    struct rest_api *api;
    struct history *history;
    pthread_t thread;
    bool thread_started;
    int stop_efd;
    int stale_after_ms;
    uint64_t cfg_generation;
    char web_root[CFG_PATH_MAX];
    char chartjs_dir[CFG_PATH_MAX];
};

/* One request's state between libmicrohttpd's calls. */
struct http_req {
    const struct rest_route *route;
    char client[INET6_ADDRSTRLEN];
    char *body;
    size_t len;
    bool too_big;
    bool is_static;
    bool has_early; /* early holds the answer decided from the headers */
    struct rest_response early;
    enum rest_after after;
};

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *query_arg(void *cls, const char *name)
{
    return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(out, size, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

static void add_common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_rest(struct http *h, struct MHD_Connection *c, struct http_req *rq,
                                 struct rest_response *rs)
{
    char *text = rs->text;
    size_t len = rs->text_len;
    const char *type = rs->content_type;
    if (!text) {
        text = rs->json ? json_dumps(rs->json, BMSGW_JSON_FLAGS) : NULL;
        len = text ? strlen(text) : 0;
        type = "application/json";
    }
    rs->text = NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, text ? text : (char *)"", text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    add_common_headers(r);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (rs->allow[0])
        MHD_add_response_header(r, "Allow", rs->allow);
    if (rs->authenticate)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"bmsgw\"");
    if (rs->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", rs->retry_after_s);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    rq->after = rs->after;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    rest_count(h->api, rs->status);
    rest_response_clear(rs);
    return ok;
}

static enum MHD_Result send_error(struct http *h, struct MHD_Connection *c, struct http_req *rq,
                                  int status, const char *allow, const char *msg)
{
    struct rest_response rs = { 0 };
    rest_error(&rs, status, NULL, "%s", msg);
    if (allow)
        snprintf(rs.allow, sizeof(rs.allow), "%s", allow);
    return send_rest(h, c, rq, &rs);
}

static enum MHD_Result send_static(struct http *h, struct MHD_Connection *c, struct http_req *rq,
                                   const char *url)
{
    char path[CFG_PATH_MAX * 2];
    const char *type;
    struct stat st;
    int fd = -1;
    if (http_static_resolve(url, h->web_root, h->chartjs_dir, path, sizeof(path), &type) == 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        char msg[300];
        snprintf(msg, sizeof(msg), "no such endpoint or file: %.200s", url);
        return send_error(h, c, rq, 404, NULL, msg);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    add_common_headers(r);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' "
                            "data:; style-src 'self' 'unsafe-inline'");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    rest_count(h->api, 200);
    return ok;
}

static bool is_api_path(const char *url)
{
    return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0 ||
           strcmp(url, "/metrics") == 0;
}

static void fill_request(struct rest_request *r, struct MHD_Connection *c, const char *url,
                         const char *method, struct http_req *rq)
{
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    *r = (struct rest_request){
        .method = rest_method_from_name(method),
        .path = url,
        .authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION),
        .content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
        .content_length = cl   ? strtoll(cl, NULL, 10)
                          : te ? -1
                               : 0,
        .client = rq->client,
        .query = query_arg,
        .query_cls = c,
        .body = rq->body,
        .body_len = rq->len,
    };
}

/* The first call for a request: headers are in, no body yet. Checks run now; an answer is
 * queued at once only when it refuses a body (libmicrohttpd then closes the connection instead
 * of reading it), otherwise in the last call so the connection can be kept alive. */
static enum MHD_Result first_call(struct http *h, struct MHD_Connection *c, const char *url,
                                  const char *method, struct http_req *rq)
{
    struct rest_request r;
    fill_request(&r, c, url, method, rq);
    rq->is_static = !is_api_path(url);
    if (rq->is_static) {
        if (r.method != REST_GET && r.method != REST_HEAD) {
            rest_error(&rq->early, 405, NULL, "the dashboard's files are only read");
            snprintf(rq->early.allow, sizeof(rq->early.allow), "GET, HEAD");
        }
    } else {
        rq->route = rest_begin(h->api, &r, clock_mono_ms(), &rq->early);
    }
    rq->has_early = rq->early.status != 0;
    if (rq->has_early && r.content_length != 0)
        return send_rest(h, c, rq, &rq->early);
    return MHD_YES;
}

static enum MHD_Result take_body(struct http_req *rq, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (rq->has_early || rq->is_static)
        return MHD_YES; /* not wanted: discard */
    if (rq->too_big || rq->len + n > REST_BODY_MAX) {
        rq->too_big = true; /* keep reading and discard; answer 413 at the end */
        return MHD_YES;
    }
    char *nb = realloc(rq->body, rq->len + n);
    if (!nb)
        return MHD_NO;
    memcpy(nb + rq->len, data, n);
    rq->body = nb;
    rq->len += n;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http *h = cls;
    struct http_req *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof(*rq))))
            return MHD_NO;
        *con_cls = rq;
        client_addr(c, rq->client, sizeof(rq->client));
        return first_call(h, c, url, method, rq);
    }
    if (*upload_data_size)
        return take_body(rq, upload_data, upload_data_size);
    if (rq->has_early)
        return send_rest(h, c, rq, &rq->early);
    if (rq->is_static)
        return send_static(h, c, rq, url);
    struct rest_request r;
    struct rest_response rs = { 0 };
    if (rq->too_big) {
        rest_error(&rs, 413, NULL, "the body is larger than %d bytes", REST_BODY_MAX);
        return send_rest(h, c, rq, &rs);
    }
    fill_request(&r, c, url, method, rq);
    rest_finish(h->api, rq->route, &r, &rs);
    return send_rest(h, c, rq, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http *h = cls;
    struct http_req *rq = *con_cls;
    if (!rq)
        return;
    if (rq->after == REST_AFTER_EXIT && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        app_request_exit(h->svc->app);
    rest_response_clear(&rq->early);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[300];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_ratelimited(LOG_INFO, 10000, "http: %s", msg);
}

static int resolve_bind(const char *bind, int port, struct sockaddr_storage *ss, bool *v6)
{
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    char ps[8];
    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(bind, ps, &hints, &res) != 0 || !res)
        return -EINVAL;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

static int start_mhd(struct http *h, const struct bmsgw_config *cfg)
{
    struct sockaddr_storage ss;
    bool v6 = false;
    if (resolve_bind(cfg->http.bind, cfg->http.port, &ss, &v6) != 0) {
        service_set_state(h->svc, SERVICE_DOWN, "http.bind %s is not a numeric address",
                          cfg->http.bind);
        return -EINVAL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    errno = 0;
    h->mhd = MHD_start_daemon(flags, (uint16_t)cfg->http.port, NULL, NULL, on_request, h,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_SOCK_ADDR, &ss,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->http.max_connections,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http.request_timeout_s,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
    if (!h->mhd) {
        int e = errno ? errno : EADDRINUSE;
        service_set_state(h->svc, SERVICE_DOWN, "cannot listen on %s port %d: %s", cfg->http.bind,
                          cfg->http.port, strerror(e));
        return -e;
    }
    return 0;
}

static void load_token(struct http *h, const struct bmsgw_config *cfg)
{
    char token[AUTH_TOKEN_MAX], why[200];
    bool loose = false;
    const char *path = cfg->http.api_token_file;
    int rc = auth_token_load(path, token, sizeof(token), &loose);
    if (rc == 1)
        log_notice("API token created in %s (mode 0600)", path);
    if (rc >= 0) {
        if (loose)
            log_warn("API token file %s is readable by other users: chmod 600 it", path);
        rest_api_set_token(h->api, token, NULL);
        explicit_bzero(token, sizeof(token));
        return;
    }
    if (rc == -EINVAL)
        snprintf(why, sizeof(why),
                 "the token file %s holds no usable token (%d..%d printable "
                 "characters)",
                 path, AUTH_TOKEN_MIN, AUTH_TOKEN_MAX - 1);
    else
        snprintf(why, sizeof(why), "cannot read or create the token file %s: %s", path,
                 strerror(-rc));
    log_err("%s; changes through the API are refused", why);
    rest_api_set_token(h->api, NULL, why);
}

static void refresh_config(struct http *h)
{
    uint64_t gen = config_store_generation(h->svc->app->config);
    if (gen == h->cfg_generation)
        return;
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return;
    h->cfg_generation = config_store_get(h->svc->app->config, cfg);
    h->stale_after_ms = cfg->bms.stale_after_ms;
    free(cfg);
}

static void sample_history(struct http *h)
{
    struct bmsgw_system *sys = malloc(sizeof(*sys));
    struct history_sample s;
    if (!sys)
        return;
    snapshot_copy(h->svc->app->snap, sys);
    bool fresh = !bmsgw_system_is_stale(sys, clock_mono_ms(), h->stale_after_ms);
    history_sample_from_system(sys, fresh, clock_real_ms(), &s);
    history_add(h->history, &s);
    free(sys);
}

/* Housekeeping: progress for the watchdog, the chart history, live configuration keys. */
static void *http_thread(void *arg)
{
    struct http *h = arg;
    struct pollfd pfd = { .fd = h->stop_efd, .events = POLLIN };
    int64_t next_sample = clock_mono_ms();
    log_set_thread("http");
    pthread_setname_np(pthread_self(), "bmsgw-http");
    for (;;) {
        service_progress(h->svc);
        refresh_config(h);
        int64_t now = clock_mono_ms();
        if (now >= next_sample) {
            sample_history(h);
            next_sample = now + HISTORY_INTERVAL_MS;
        }
        int wait = (int)(next_sample - now);
        if (poll(&pfd, 1, wait < 1000 ? wait : 1000) > 0)
            break;
    }
    return NULL;
}

static void http_free(struct http *h)
{
    if (!h)
        return;
    if (h->mhd)
        MHD_stop_daemon(h->mhd);
    if (h->stop_efd >= 0)
        close(h->stop_efd);
    rest_api_free(h->api);
    history_free(h->history);
    free(h);
}

static int http_start(struct service *svc)
{
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct http *h = calloc(1, sizeof(*h));
    int rc = -ENOMEM;
    if (!cfg || !h)
        goto fail;
    h->svc = svc;
    h->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->cfg_generation = config_store_get(svc->app->config, cfg);
    h->stale_after_ms = cfg->bms.stale_after_ms;
    snprintf(h->web_root, sizeof(h->web_root), "%s", cfg->http.web_root);
    snprintf(h->chartjs_dir, sizeof(h->chartjs_dir), "%s", cfg->http.chartjs_dir);
    h->history = history_new(HISTORY_CAPACITY);
    h->api = rest_api_new(svc->app, h->history);
    if (h->stop_efd < 0 || !h->history || !h->api)
        goto fail;
    load_token(h, cfg);
    if ((rc = start_mhd(h, cfg)) != 0)
        goto fail;
    if ((rc = -pthread_create(&h->thread, NULL, http_thread, h)) != 0)
        goto fail;
    h->thread_started = true;
    svc->priv = h;
    service_set_state(svc, SERVICE_RUNNING, NULL);
    log_info("http: listening on %s port %d (dashboard %s)", cfg->http.bind, cfg->http.port,
             cfg->http.web_root);
    free(cfg);
    return 0;
fail:
    http_free(h);
    free(cfg);
    return rc;
}

static int http_stop(struct service *svc, int timeout_ms)
{
    struct http *h = svc->priv;
    uint64_t one = 1;
    if (!h)
        return 0;
    if (write(h->stop_efd, &one, sizeof(one)) < 0)
        log_warn("http: cannot wake the housekeeping thread: %s", strerror(errno));
    if (h->thread_started)
        pthread_join(h->thread, NULL);
    http_free(h);
    svc->priv = NULL;
    return 0;
}

static bool http_enabled(const struct bmsgw_config *cfg)
{
    return cfg->http.enabled;
}

const struct service_ops http_service = {
    .name = "http",
    .enabled = http_enabled,
    .start = http_start,
    .stop = http_stop,
    .watchdog_ms = 10000,
};
