/* SPDX-License-Identifier: MIT */
/* ws_session.c — one WebSocket client: accepting, sending its queue, the inbound limits. */
#include "ws_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bmsgw/alerts.h"
#include "bmsgw/app.h"
#include "bmsgw/auth.h"
#include "bmsgw/clock.h"
#include "bmsgw/log.h"
#include "bmsgw/rest.h"

/* Close with a code and a reason for the peer (return the result from the callback). */
static int refuse(struct lws *wsi, enum lws_close_status code, const char *why)
{
    lws_close_reason(wsi, code, (unsigned char *)(uintptr_t)why, strlen(why));
    return -1;
}

static int channel_of(struct lws *wsi)
{
    char uri[128];
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return -1;
    for (int ch = 0; ch < WS_CH_COUNT; ch++)
        if (strcmp(uri, ws_channels[ch].path) == 0)
            return ch;
    return -1;
}

/* The token as "Authorization: Bearer ..." or, for browsers, "?token=...". */
static bool authorised(struct ws_state *s, struct lws *wsi)
{
    char hdr[200], arg[200];
    if (!s->read_requires_token)
        return true;
    if (!s->token[0])
        return false;
    if (lws_hdr_copy(wsi, hdr, sizeof(hdr), WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        rest_check_bearer(hdr, s->token) == 0)
        return true;
    const char *v = lws_get_urlarg_by_name(wsi, "token=", arg, sizeof(arg));
    return v && auth_token_equal(v, s->token);
}

static void initial_messages(struct ws_state *s, struct ws_client *c)
{
    if (c->ch == WS_CH_TELEMETRY) {
        struct ws_msg *m = ws_current_status(s);
        if (m) {
            ws_queue_set_latest(&c->q, m);
            c->status_gen = s->status_gen;
        }
    } else if (c->ch == WS_CH_ALERTS && s->svc->app->alerts) {
        json_t *j = json_pack("{s:s,s:o}", "type", "active", "alerts",
                              alerts_active_json(s->svc->app->alerts));
        struct ws_msg *m = ws_msg_from_json(j);
        json_decref(j);
        if (m)
            ws_client_push(s, c, m, clock_mono_ms());
        ws_msg_unref(m);
    }
    lws_callback_on_writable(c->wsi);
}

static int on_established(struct ws_state *s, struct lws *wsi, struct ws_client *c)
{
    char why[160];
    memset(c, 0, sizeof(*c));
    c->wsi = wsi;
    c->ch = -1;
    int ch = channel_of(wsi);
    if (ch < 0)
        return refuse(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                      "unknown channel: use /ws/telemetry, /ws/events, /ws/uart, /ws/can or "
                      "/ws/alerts");
    if (!authorised(s, wsi))
        return refuse(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                      "the API token is needed (?token=... or Authorization: Bearer ...)");
    if (s->n_clients >= (unsigned)s->max_clients) {
        WS_COUNT(s, clients_refused, 1);
        snprintf(why, sizeof(why), "too many clients (ws.max_clients = %d)", s->max_clients);
        return refuse(wsi, 1013, why);
    }
    int sndbuf = WS_SNDBUF_BYTES;
    if (setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0)
        log_ratelimited(LOG_WARNING, 60000, "ws: cannot bound a client's send buffer: %s",
                        strerror(errno));
    if (ws_queue_init(&c->q, (unsigned)s->queue_len) != 0)
        return refuse(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    c->ch = ch;
    ws_channel_join(s, c);
    WS_COUNT(s, connections, 1);
    initial_messages(s, c);
    return 0;
}

static void on_closed(struct ws_state *s, struct ws_client *c)
{
    if (c->ch < 0)
        return; /* never accepted */
    ws_channel_leave(s, c);
    ws_queue_deinit(&c->q);
    free(c->rx);
    c->rx = NULL;
    c->ch = -1;
}

static int on_writeable(struct ws_state *s, struct lws *wsi, struct ws_client *c)
{
    if (c->ch < 0 || c->dead)
        return 0;
    int64_t now = clock_mono_ms();
    int64_t wait = c->last_telemetry_ms + ws_telemetry_spacing_ms(s) - now;
    bool hold = c->ch == WS_CH_TELEMETRY && c->last_telemetry_ms && wait > 0;
    bool telemetry = c->q.len == 0 && c->q.latest && !hold;
    struct ws_msg *m = ws_queue_pop(&c->q, hold);
    if (!m) {
        if (hold && ws_queue_has_latest(&c->q))
            lws_set_timer_usecs(wsi, (lws_usec_t)wait * LWS_US_PER_MS);
        return 0;
    }
    int n = lws_write(wsi, ws_msg_data(m), m->len, LWS_WRITE_TEXT);
    size_t len = m->len;
    ws_msg_unref(m);
    if (n < (int)len)
        return -1;
    if (telemetry)
        c->last_telemetry_ms = now;
    WS_COUNT(s, messages_sent, 1);
    if (!ws_queue_empty(&c->q))
        lws_callback_on_writable(wsi);
    return 0;
}

static void reply(struct ws_state *s, struct ws_client *c, json_t *j)
{
    struct ws_msg *m = ws_msg_from_json(j);
    json_decref(j);
    if (m)
        ws_client_push(s, c, m, clock_mono_ms());
    ws_msg_unref(m);
}

/* A complete inbound message. */
static void on_message(struct ws_state *s, struct ws_client *c)
{
    json_error_t err;
    json_t *j = json_loadb(c->rx ? c->rx : "", c->rx_len, 0, &err);
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!j)
        reply(s, c, json_pack("{s:s,s:s}", "type", "error", "error", "malformed JSON"));
    else if (type && strcmp(type, "ping") == 0)
        reply(s, c, json_pack("{s:s,s:I}", "type", "pong", "t_ms", (json_int_t)clock_real_ms()));
    else
        reply(s, c,
              json_pack("{s:s,s:s}", "type", "error", "error",
                        "unknown message: only {\"type\":\"ping\"} is understood"));
    json_decref(j);
}

static int on_receive(struct ws_state *s, struct lws *wsi, struct ws_client *c, const void *in,
                      size_t len)
{
    if (c->ch < 0)
        return -1;
    bool first = !c->receiving;
    bool final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    int code = ws_inbound_fragment(&c->in, clock_mono_ms(), len, first, final);
    if (code) {
        WS_COUNT(s, closed_policy, 1);
        return refuse(wsi, code,
                      code == 1009 ? "message larger than 32 KiB"
                                   : "more than 10 messages a second");
    }
    char *nb = realloc(c->rx, c->rx_len + len + 1);
    if (!nb)
        return refuse(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    memcpy(nb + c->rx_len, in, len);
    c->rx = nb;
    c->rx_len += len;
    c->receiving = !final;
    if (final) {
        on_message(s, c);
        c->rx_len = 0;
    }
    return 0;
}

int ws_session_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct ws_state *s = ctx ? lws_context_user(ctx) : NULL;
    struct ws_client *c = user;
    if (!s)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(s, wsi, c);
    case LWS_CALLBACK_CLOSED:
        on_closed(s, c);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(s, wsi, c);
    case LWS_CALLBACK_RECEIVE:
        return on_receive(s, wsi, c, in, len);
    case LWS_CALLBACK_TIMER:
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        ws_wakeup(s);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
