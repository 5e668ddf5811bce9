/* SPDX-License-Identifier: MIT */
/* ws.c — the WebSocket service: its libwebsockets context and thread, telemetry and streams. */
#include "ws_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/auth.h"
#include "bmsgw/clock.h"
#include "bmsgw/can_proto.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/publisher.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/status_json.h"
#include "bmsgw/ws_stream.h"

#define WS_TICK_US (1000 * LWS_US_PER_MS)

const struct ws_channel_def ws_channels[WS_CH_COUNT] = {
    [WS_CH_TELEMETRY] = { "/ws/telemetry", 0 },   [WS_CH_EVENTS] = { "/ws/events", BUS_EVENT },
    [WS_CH_UART] = { "/ws/uart", BUS_UART },      [WS_CH_CAN] = { "/ws/can", BUS_CAN },
    [WS_CH_ALERTS] = { "/ws/alerts", BUS_ALERT },
};

static const struct lws_protocols protocols[] = {
    { .name = "bmsgw",
      .callback = ws_session_callback,
      .per_session_data_size = sizeof(struct ws_client),
      .rx_buffer_size = 4096 },
    { 0 },
};

/* ---- cross-thread wake-ups ---------------------------------------------------------------- */

/* A snapshot commit (writer's thread, through the publisher): the publisher is freed, and its
 * watcher removed, before the context goes away. */
static void on_commit(void *ctx)
{
    struct ws_state *s = ctx;
    lws_cancel_service(s->ctx);
}

/* A bus message (publisher's thread, under the bus's read lock; unsubscribing waits for it). */
static void on_bus(void *ctx)
{
    struct ws_state *s = ctx;
    lws_cancel_service(s->ctx);
}

void ws_count(struct ws_state *s, size_t offset, uint64_t n)
{
    pthread_mutex_lock(&s->mlock);
    *(uint64_t *)((char *)&s->m + offset) += n;
    pthread_mutex_unlock(&s->mlock);
}

static void set_clients(struct ws_state *s)
{
    pthread_mutex_lock(&s->mlock);
    s->m.clients = s->n_clients;
    pthread_mutex_unlock(&s->mlock);
}

void ws_get_metrics(struct service_registry *services, struct ws_metrics *out)
{
    struct service *svc = services ? services_find(services, "ws") : NULL;
    memset(out, 0, sizeof(*out));
    if (!svc)
        return;
    pthread_mutex_lock(&svc->lock);
    struct ws_state *s = svc->priv;
    if (s) {
        pthread_mutex_lock(&s->mlock);
        *out = s->m;
        pthread_mutex_unlock(&s->mlock);
        out->running = true;
    }
    pthread_mutex_unlock(&svc->lock);
}

/* ---- messages ----------------------------------------------------------------------------- */

struct ws_msg *ws_msg_from_json(json_t *j)
{
    char *text = j ? json_dumps(j, BMSGW_JSON_FLAGS) : NULL;
    struct ws_msg *m = text ? ws_msg_new(text, strlen(text), LWS_PRE) : NULL;
    free(text);
    return m;
}

static void refresh_config(struct ws_state *s)
{
    struct config_store *store = s->svc->app->config;
    if (config_store_generation(store) == s->cfg_gen)
        return;
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return;
    s->cfg_gen = config_store_get(store, cfg);
    s->min_interval_ms = cfg->ws.telemetry_min_interval_ms;
    s->stale_after_ms = cfg->bms.stale_after_ms;
    s->can_proto = can_proto_of(&cfg->can);
    s->read_requires_token = cfg->http.read_requires_token;
    publisher_set_interval(s->pub, s->min_interval_ms);
    free(cfg);
}

/* Encode s->sys (generation gen) as the newest status. */
static struct ws_msg *encode_status(struct ws_state *s, uint64_t gen)
{
    struct control_state ctl;
    size_t len = 0;
    control_get(s->svc->app->control, &ctl);
    struct status_json_opts o = { .now_ms = clock_mono_ms(),
                                  .now_real_ms = clock_real_ms(),
                                  .stale_after_ms = s->stale_after_ms,
                                  .control = &ctl };
    char *text = status_json_dumps(s->sys, &o, &len);
    struct ws_msg *m = text ? ws_msg_new(text, len, LWS_PRE) : NULL;
    free(text);
    if (!m)
        return NULL;
    ws_msg_unref(s->status);
    s->status = m;
    s->status_gen = gen;
    WS_COUNT(s, telemetry_messages, 1);
    return m;
}

struct ws_msg *ws_current_status(struct ws_state *s)
{
    if (!s->status || snapshot_generation(s->svc->app->snap) != s->status_gen)
        encode_status(s, snapshot_copy(s->svc->app->snap, s->sys));
    return s->status;
}

/* ---- telemetry ---------------------------------------------------------------------------- */

/* s->sys holds generation gen (from the publisher): to every telemetry client that does not
 * have it yet (a client that just connected got it as its first message). */
static void broadcast(struct ws_state *s, uint64_t gen)
{
    struct ws_msg *m = s->status && s->status_gen == gen ? s->status : encode_status(s, gen);
    if (!m)
        return;
    for (struct ws_client *c = s->clients; c; c = c->next) {
        if (c->ch != WS_CH_TELEMETRY || c->dead || c->status_gen >= gen)
            continue;
        ws_queue_set_latest(&c->q, m);
        c->status_gen = gen;
        lws_callback_on_writable(c->wsi);
    }
}

int ws_telemetry_spacing_ms(const struct ws_state *s)
{
    return publisher_spacing_ms(s->min_interval_ms);
}

static void on_broadcast_timer(lws_sorted_usec_list_t *sul);

/* A new generation, or the wait for one is over: send the newest now, or when the spacing since
 * the last one has passed (the publisher decides). */
static void telemetry_wakeup(struct ws_state *s)
{
    uint64_t gen = 0;
    int wait = 0;
    if (!s->ch_clients[WS_CH_TELEMETRY] || s->broadcast_scheduled)
        return;
    switch (publisher_next(s->pub, s->sys, &gen, &wait)) {
    case PUBLISHER_READY:
        broadcast(s, gen);
        break;
    case PUBLISHER_WAIT:
        s->broadcast_scheduled = true;
        lws_sul_schedule(s->ctx, 0, &s->sul_broadcast, on_broadcast_timer,
                         (lws_usec_t)wait * LWS_US_PER_MS);
        break;
    default:
        break;
    }
}

static void on_broadcast_timer(lws_sorted_usec_list_t *sul)
{
    struct ws_state *s =
        (struct ws_state *)(void *)((char *)sul - offsetof(struct ws_state, sul_broadcast));
    s->broadcast_scheduled = false;
    telemetry_wakeup(s);
}

/* ---- streams ------------------------------------------------------------------------------ */

void ws_client_push(struct ws_state *s, struct ws_client *c, struct ws_msg *m, int64_t now_ms)
{
    enum ws_push_result r = ws_queue_push(&c->q, m, now_ms, WS_STUCK_MS);
    if (r == WS_PUSH_OK) {
        lws_callback_on_writable(c->wsi);
        return;
    }
    WS_COUNT(s, messages_dropped, 1);
    if (r == WS_PUSH_STUCK && !c->dead) {
        char peer[64];
        lws_get_peer_simple(c->wsi, peer, sizeof(peer));
        log_ratelimited(LOG_NOTICE, 10000, "ws: closing %s on %s: it reads too slowly", peer,
                        ws_channels[c->ch].path);
        WS_COUNT(s, clients_dropped, 1);
        c->dead = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void stream_channel(struct ws_state *s, enum ws_channel ch)
{
    struct bus_msg b;
    int64_t now = clock_mono_ms();
    refresh_config(s); /* the CAN protocol, before the first tick has read the configuration */
    while (s->subs[ch] && bus_pop(s->subs[ch], &b)) {
        json_t *j = ws_stream_json(&b, s->can_proto);
        struct ws_msg *m = ws_msg_from_json(j);
        json_decref(j);
        if (!m)
            continue;
        for (struct ws_client *c = s->clients; c; c = c->next)
            if (c->ch == (int)ch && !c->dead)
                ws_client_push(s, c, m, now);
        ws_msg_unref(m);
    }
}

void ws_channel_join(struct ws_state *s, struct ws_client *c)
{
    uint32_t topic = ws_channels[c->ch].topic;
    if (s->ch_clients[c->ch]++ == 0 && topic) {
        s->subs[c->ch] =
            bus_subscribe(s->svc->app->bus, topic, (unsigned)s->queue_len * 4, on_bus, s);
        if (!s->subs[c->ch])
            log_warn("ws: cannot subscribe to the %s stream", ws_channels[c->ch].path);
    }
    c->next = s->clients;
    s->clients = c;
    s->n_clients++;
    set_clients(s);
}

void ws_channel_leave(struct ws_state *s, struct ws_client *c)
{
    for (struct ws_client **p = &s->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            s->n_clients--;
            break;
        }
    }
    if (--s->ch_clients[c->ch] == 0 && s->subs[c->ch]) {
        bus_unsubscribe(s->svc->app->bus, s->subs[c->ch]);
        s->subs[c->ch] = NULL;
    }
    set_clients(s);
}

void ws_wakeup(struct ws_state *s)
{
    if (atomic_load(&s->stop))
        return;
    telemetry_wakeup(s);
    for (int ch = WS_CH_EVENTS; ch < WS_CH_COUNT; ch++)
        stream_channel(s, ch);
}

/* ---- the service -------------------------------------------------------------------------- */

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct ws_state *s =
        (struct ws_state *)(void *)((char *)sul - offsetof(struct ws_state, sul_tick));
    service_progress(s->svc);
    refresh_config(s);
    lws_sul_schedule(s->ctx, 0, &s->sul_tick, on_tick, WS_TICK_US);
}

static void *ws_thread(void *arg)
{
    struct ws_state *s = arg;
    log_set_thread("ws");
    pthread_setname_np(pthread_self(), "bmsgw-ws");
    lws_sul_schedule(s->ctx, 0, &s->sul_tick, on_tick, WS_TICK_US);
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0)
            break;
    return NULL;
}

static void on_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_ratelimited(level == LLL_ERR ? LOG_ERR : LOG_WARNING, 10000, "ws: %.*s", (int)n, line);
}

static void load_token(struct ws_state *s, const struct bmsgw_config *cfg)
{
    bool loose;
    /* read (or created, as the http service does) once at start */
    if (auth_token_load(cfg->http.api_token_file, s->token, sizeof(s->token), &loose) < 0)
        s->token[0] = '\0';
}

static int create_context(struct ws_state *s, const struct bmsgw_config *cfg)
{
    struct lws_context_creation_info info;
    bool any = strcmp(cfg->http.bind, "0.0.0.0") == 0 || strcmp(cfg->http.bind, "::") == 0;
    memset(&info, 0, sizeof(info));
    info.port = cfg->ws.port;
    info.iface = any ? NULL : cfg->http.bind;
    info.protocols = protocols;
    info.user = s;
    info.gid = -1;
    info.uid = -1;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   (strchr(cfg->http.bind, ':') || any ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
    info.options |= LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    lws_set_log_level(LLL_ERR | LLL_WARN, on_lws_log);
    /* the context first, then the listening vhost: a failed bind then unwinds through
     * lws_context_destroy() (a failing lws_create_context leaks what it had set up) */
    s->ctx = lws_create_context(&info);
    if (s->ctx && !lws_create_vhost(s->ctx, &info)) {
        lws_context_destroy(s->ctx);
        s->ctx = NULL;
    }
    if (!s->ctx) {
        service_set_state(s->svc, SERVICE_DOWN, "cannot listen on %s port %d", cfg->http.bind,
                          cfg->ws.port);
        return -EADDRINUSE;
    }
    return 0;
}

static void state_free(struct ws_state *s)
{
    if (!s)
        return;
    publisher_free(s->pub); /* no commit wakes the context from here on */
    s->pub = NULL;
    if (s->ctx)
        lws_context_destroy(s->ctx); /* closes the clients: their callbacks run here */
    for (int ch = 0; ch < WS_CH_COUNT; ch++)
        bus_unsubscribe(s->svc->app->bus, s->subs[ch]);
    ws_msg_unref(s->status);
    pthread_mutex_destroy(&s->mlock);
    explicit_bzero(s->token, sizeof(s->token));
    free(s->sys);
    free(s);
}

static int ws_start(struct service *svc)
{
    struct ws_state *s = calloc(1, sizeof(*s));
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    int rc = -ENOMEM;
    if (!s || !cfg || !(s->sys = malloc(sizeof(*s->sys)))) {
        free(s);
        free(cfg);
        return rc;
    }
    s->svc = svc;
    pthread_mutex_init(&s->mlock, NULL);
    s->cfg_gen = config_store_get(svc->app->config, cfg);
    s->max_clients = cfg->ws.max_clients;
    s->queue_len = cfg->ws.queue_len;
    s->min_interval_ms = cfg->ws.telemetry_min_interval_ms;
    s->stale_after_ms = cfg->bms.stale_after_ms;
    s->read_requires_token = cfg->http.read_requires_token;
    load_token(s, cfg);
    rc = create_context(s, cfg);
    if (rc == 0) {
        struct publisher_opts po = { .min_interval_ms = s->min_interval_ms,
                                     .wake = on_commit,
                                     .wake_ctx = s };
        rc = publisher_new(svc->app->snap, &po, &s->pub);
    }
    if (rc == 0) {
        pthread_mutex_lock(&svc->lock);
        svc->priv = s;
        pthread_mutex_unlock(&svc->lock);
        rc = -pthread_create(&s->thread, NULL, ws_thread, s);
    }
    if (rc) {
        pthread_mutex_lock(&svc->lock);
        svc->priv = NULL;
        pthread_mutex_unlock(&svc->lock);
        if (rc != -EADDRINUSE)
            service_set_state(svc, SERVICE_DOWN, "cannot start: %s", strerror(-rc));
        state_free(s);
    } else {
        service_set_state(svc, SERVICE_RUNNING, NULL);
        log_info("ws: listening on %s port %d", cfg->http.bind, cfg->ws.port);
    }
    free(cfg);
    return rc;
}

static int ws_stop(struct service *svc, int timeout_ms)
{
    struct ws_state *s = svc->priv;
    if (!s)
        return 0;
    atomic_store(&s->stop, true);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
    publisher_free(s->pub); /* the watcher goes first: no wake-up reaches a destroyed context */
    s->pub = NULL;
    pthread_mutex_lock(&svc->lock);
    svc->priv = NULL; /* a watcher still running sees nothing from now on */
    pthread_mutex_unlock(&svc->lock);
    state_free(s);
    return 0;
}

static bool ws_enabled(const struct bmsgw_config *cfg)
{
    return cfg->ws.enabled;
}

const struct service_ops ws_service = {
    .name = "ws",
    .enabled = ws_enabled,
    .start = ws_start,
    .stop = ws_stop,
    .watchdog_ms = 10000,
};
