/* SPDX-License-Identifier: MIT */
/* conn.c — one Modbus TCP client: MBAP framing from its buffer, answers, timeouts. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmsgw/log.h"
#include "server_int.h"

static void count(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

int conn_add(struct mbtcp_server *s, int fd, struct lsn *l)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on non-TCP: fine */
    c->tag = TAG_CONN;
    c->fd = fd;
    c->lsn = l;
    c->events = EPOLLIN | EPOLLRDHUP;
    c->active_ms = s->now_ms;
    struct epoll_event ev = { .events = c->events, .data.ptr = c };
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int rc = -errno;
        close(fd);
        free(c);
        return rc;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    atomic_store_explicit(&s->st.connections, s->nconns, memory_order_relaxed);
    count(&s->st.accepted);
    return 0;
}

void conn_close(struct mbtcp_server *s, struct conn *c, _Atomic uint64_t *reason)
{
    if (c->fd < 0)
        return;
    if (reason) /* counted before the peer can see the close */
        count(reason);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = NULL;
    c->next = s->dead; /* events of this iteration may still point at it */
    s->dead = c;
    s->nconns--;
    atomic_store_explicit(&s->st.connections, s->nconns, memory_order_relaxed);
}

void conn_free_dead(struct mbtcp_server *s)
{
    while (s->dead) {
        struct conn *c = s->dead;
        s->dead = c->next;
        free(c);
    }
}

/* Reload the provider's data into the listener's image when it is out of date. */
static void lsn_refresh(struct mbtcp_server *s, struct lsn *l)
{
    uint64_t v = atomic_load(&s->data_version);
    if (l->rendered && v == l->version && !(l->valid_until_ms && s->now_ms >= l->valid_until_ms))
        return;
    struct mbtcp_data_info info = { 0 };
    memset(l->src, 0, l->map->src_size);
    s->prov.load(s->prov.ctx, l->cfg.kind, l->src, s->now_ms, &info);
    mbmap_render(&l->img, l->src);
    l->version = v;
    l->stale = info.stale;
    l->valid_until_ms = info.valid_until_ms;
    l->rendered = true;
    count(&s->st.renders);
}

static int write_cb(void *ctx, const struct mbmap_write *w, unsigned n)
{
    struct lsn *l = ctx;
    struct mbtcp_server *s = l->srv;
    if (!s->prov.write)
        return MBMAP_EX_DEVICE_FAILURE;
    int ex = s->prov.write(s->prov.ctx, l->cfg.kind, w, n, s->now_ms);
    if (ex == MBMAP_EX_NONE) {
        atomic_fetch_add(&s->data_version, 1);
        count(&s->st.writes);
    }
    return ex;
}

/* Answer the frame f (n bytes, complete) into the connection's queue. */
static void answer(struct mbtcp_server *s, struct conn *c, const uint8_t *f, size_t n)
{
    struct lsn *l = c->lsn;
    uint8_t *out = c->tx + c->tx_len;
    uint8_t fc = f[MBAP_HEADER_LEN];
    size_t plen;
    memcpy(out, f, 4); /* transaction id, protocol id 0 */
    out[6] = f[6];
    if (l->cfg.unit_id && f[6] != l->cfg.unit_id) {
        plen = mbpdu_exception(fc, MBMAP_EX_GATEWAY_TARGET, out + MBAP_HEADER_LEN);
    } else {
        lsn_refresh(s, l);
        struct mbpdu_target t = {
            .img = &l->img,
            .stale = l->stale,
            .serve_stale = s->pol.serve_stale,
            .allow_writes = s->pol.allow_writes,
            .sim_writes = s->cfg.simulator,
            .write = write_cb,
            .write_ctx = l,
            .wbuf = s->wbuf,
        };
        plen = mbpdu_answer(&t, f + MBAP_HEADER_LEN, n - MBAP_HEADER_LEN, out + MBAP_HEADER_LEN);
    }
    out[4] = (uint8_t)((plen + 1) >> 8);
    out[5] = (uint8_t)(plen + 1);
    c->tx_len += MBAP_HEADER_LEN + plen;
    count(&s->st.requests);
    if (out[MBAP_HEADER_LEN] & 0x80)
        count(&s->st.exceptions);
}

/* Answer every complete frame there is room for. Returns 0 or -EPROTO (invalid header). */
static int conn_process(struct mbtcp_server *s, struct conn *c)
{
    size_t off = 0;
    int rc = 0;
    while (c->tx_len + MBAP_MAX_FRAME <= CONN_TX_CAP) {
        int n = mbap_frame_len(c->rx + off, c->rx_len - off);
        if (n < 0) {
            rc = n;
            break;
        }
        if (n == 0)
            break;
        answer(s, c, c->rx + off, (size_t)n);
        off += (size_t)n;
        c->active_ms = s->now_ms;
    }
    if (off) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
        c->partial_ms = 0;
    }
    /* a frame that waits only for room in tx is not a stall of the client's */
    if (c->rx_len && !c->partial_ms && mbap_frame_len(c->rx, c->rx_len) == 0)
        c->partial_ms = s->now_ms;
    return rc;
}

/* Send what is queued. Returns 0 or -errno (connection broken). */
static int conn_flush(struct mbtcp_server *s, struct conn *c)
{
    while (c->tx_off < c->tx_len) {
        ssize_t n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -errno;
        }
        c->tx_off += (size_t)n;
    }
    if (c->tx_off == c->tx_len) {
        c->tx_off = c->tx_len = 0;
        c->tx_ms = 0;
    } else {
        memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
        c->tx_len -= c->tx_off;
        c->tx_off = 0;
        if (!c->tx_ms)
            c->tx_ms = s->now_ms;
    }
    return 0;
}

/* Read while answers can be queued; write while answers wait. */
static int conn_update_events(struct mbtcp_server *s, struct conn *c)
{
    uint32_t want = c->tx_len ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    if (want == c->events)
        return 0;
    struct epoll_event ev = { .events = want, .data.ptr = c };
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        return -errno;
    c->events = want;
    return 0;
}

/* Returns 1 at end of stream, 0, or -errno. */
static int conn_read(struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->rx + c->rx_len, CONN_RX_CAP - c->rx_len, 0);
        if (n > 0) {
            c->rx_len += (size_t)n;
            return 0;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
}

void conn_event(struct mbtcp_server *s, struct conn *c, uint32_t events)
{
    int eof = 0, rc = 0;
    if (c->fd < 0)
        return;
    if (events & EPOLLERR) {
        conn_close(s, c, &s->st.closed_error);
        return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) && c->rx_len < CONN_RX_CAP)
        eof = conn_read(c);
    /* answer, send, and go on with frames a full queue held back while the socket takes it */
    while (eof >= 0) {
        rc = conn_process(s, c);
        if (rc == 0)
            rc = conn_flush(s, c);
        if (rc < 0 || c->tx_len || mbap_frame_len(c->rx, c->rx_len) <= 0)
            break;
    }
    if (rc < 0 || eof < 0) {
        log_debug("closing a client of %s: %s", c->lsn->map->name,
                  rc == -EPROTO ? "invalid MBAP header" : strerror(rc < 0 ? -rc : -eof));
        conn_close(s, c, &s->st.closed_error);
        return;
    }
    if (eof || (events & EPOLLHUP)) {
        conn_close(s, c, NULL);
        return;
    }
    if (conn_update_events(s, c) < 0)
        conn_close(s, c, &s->st.closed_error);
}

void conn_sweep(struct mbtcp_server *s)
{
    int64_t now = s->now_ms;
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;
        if ((c->partial_ms && now - c->partial_ms >= s->pol.frame_timeout_ms) ||
            (c->tx_ms && now - c->tx_ms >= s->pol.frame_timeout_ms)) {
            log_debug("dropping a stalled client of %s", c->lsn->map->name);
            conn_close(s, c, &s->st.closed_stall);
        } else if (now - c->active_ms >= s->pol.idle_timeout_ms) {
            log_debug("dropping an idle client of %s", c->lsn->map->name);
            conn_close(s, c, &s->st.closed_idle);
        }
    }
}
