/* SPDX-License-Identifier: MIT */
/* server.c — the Modbus TCP server's life: listeners, accepting, the epoll loop, its thread. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmsgw/config.h"
#include "bmsgw/clock.h"
#include "bmsgw/log.h"
#include "server_int.h"

#define ACCEPT_BATCH 32
#define EVENT_BATCH  64

static void lsn_deinit(struct lsn *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    mbmap_image_deinit(&l->img);
    free(l->src);
    l->src = NULL;
}

static int lsn_init(struct mbtcp_server *s, struct lsn *l, const struct mbtcp_listener_cfg *cfg)
{
    l->tag = TAG_LISTENER;
    l->fd = -1;
    l->port = -1;
    l->srv = s;
    l->cfg = *cfg;
    l->map = mbmap_get(cfg->kind);
    if (!l->map)
        return -EINVAL;
    l->src = calloc(1, l->map->src_size);
    if (!l->src)
        return -ENOMEM;
    return mbmap_image_init(&l->img, l->map, cfg->word_order);
}

struct mbtcp_server *mbtcp_server_new(const struct mbtcp_server_cfg *cfg,
                                      const struct mbtcp_provider *provider)
{
    if (cfg->n_listeners > MBTCP_MAX_LISTENERS || !provider->load)
        return NULL;
    struct mbtcp_server *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->prov = *provider;
    s->pol = s->pol_next = cfg->policy;
    s->wake_tag = TAG_WAKE;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    s->wbuf = calloc(MBMAP_MAX_WRITE_BITS, sizeof(*s->wbuf));
    s->now_ms = clock_mono_ms();
    pthread_mutex_init(&s->pol_lock, NULL);
    for (unsigned i = 0; i < MBTCP_MAX_LISTENERS; i++)
        s->lsn[i].fd = -1;
    bool ok = s->epfd >= 0 && s->wakefd >= 0 && s->wbuf;
    for (unsigned i = 0; ok && i < cfg->n_listeners; i++)
        ok = lsn_init(s, &s->lsn[i], &cfg->listeners[i]) == 0;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->wake_tag };
    if (!ok || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev) < 0) {
        mbtcp_server_free(s);
        return NULL;
    }
    return s;
}

void mbtcp_server_free(struct mbtcp_server *s)
{
    if (!s)
        return;
    mbtcp_server_stop(s);
    while (s->conns)
        conn_close(s, s->conns, NULL);
    conn_free_dead(s);
    for (unsigned i = 0; i < MBTCP_MAX_LISTENERS; i++)
        lsn_deinit(&s->lsn[i]);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    pthread_mutex_destroy(&s->pol_lock);
    free(s->wbuf);
    free(s);
}

/* ---- listening ----------------------------------------------------------------------------- */

static int lsn_bind(struct mbtcp_server *s, struct lsn *l)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    char port[8];
    int want = l->cfg.port == 0  ? config_map_default_port(l->map->kind)
               : l->cfg.port < 0 ? 0
                                 : l->cfg.port;
    snprintf(port, sizeof(port), "%d", want);
    int rc = getaddrinfo(s->cfg.bind, port, &hints, &ai);
    if (rc) {
        char why[sizeof(l->error)]; /* built apart: gcc sees bind and error in one object */
        snprintf(why, sizeof(why), "bind address %s: %s", s->cfg.bind, gai_strerror(rc));
        memcpy(l->error, why, sizeof(why));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    rc = fd < 0 ? -errno : 0;
    if (!rc && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        rc = -errno;
    if (!rc && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        rc = -errno;
    if (!rc && listen(fd, 128) < 0)
        rc = -errno;
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (!rc && getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        rc = -errno;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
    if (!rc && epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        rc = -errno;
    if (rc) {
        snprintf(l->error, sizeof(l->error), "%s port %d: %s", l->map->name, want, strerror(-rc));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    l->fd = fd;
    l->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    l->error[0] = 0;
    return 0;
}

unsigned mbtcp_server_listen(struct mbtcp_server *s)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->cfg.n_listeners; i++) {
        if (s->lsn[i].fd >= 0 || lsn_bind(s, &s->lsn[i]) == 0)
            n++;
        else
            log_err("Modbus TCP: cannot listen: %s", s->lsn[i].error);
    }
    return n;
}

int mbtcp_server_port(struct mbtcp_server *s, unsigned i)
{
    return i < s->cfg.n_listeners && s->lsn[i].fd >= 0 ? s->lsn[i].port : -1;
}

const char *mbtcp_server_listener_error(struct mbtcp_server *s, unsigned i)
{
    return i < s->cfg.n_listeners ? s->lsn[i].error : "no such listener";
}

int mbtcp_server_adopt(struct mbtcp_server *s, int fd, unsigned i)
{
    if (i >= s->cfg.n_listeners) {
        close(fd);
        return -EINVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return conn_add(s, fd, &s->lsn[i]);
}

/* ---- accepting ----------------------------------------------------------------------------- */

static void lsn_pause(struct mbtcp_server *s, struct lsn *l)
{
    struct epoll_event ev = { .events = 0, .data.ptr = l };
    epoll_ctl(s->epfd, EPOLL_CTL_MOD, l->fd, &ev);
    l->paused = true;
    l->resume_ms = s->now_ms + PAUSE_ACCEPT_MS;
}

/* Out of descriptors: accept with the reserve one and close at once, so the pending client is
 * told and the listener stops being readable. Returns false when even that failed. */
static bool shed_one(struct mbtcp_server *s, struct lsn *l)
{
    if (s->reserve_fd < 0)
        return false;
    close(s->reserve_fd);
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    atomic_fetch_add(&s->st.rejected, 1);
    log_ratelimited(LOG_WARNING, 10000, "Modbus TCP: out of file descriptors, refusing clients");
    return fd >= 0;
}

static void lsn_accept(struct mbtcp_server *s, struct lsn *l)
{
    for (unsigned k = 0; k < ACCEPT_BATCH; k++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && shed_one(s, l))
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                lsn_pause(s, l);
            return;
        }
        if (s->nconns >= (unsigned)s->cfg.max_connections) {
            close(fd);
            atomic_fetch_add(&s->st.rejected, 1);
            log_ratelimited(LOG_WARNING, 10000,
                            "Modbus TCP: %d connections open (modbus_tcp.max_connections), "
                            "refusing a new client",
                            s->cfg.max_connections);
            continue;
        }
        if (conn_add(s, fd, l) < 0)
            atomic_fetch_add(&s->st.rejected, 1);
    }
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void policy_refresh(struct mbtcp_server *s)
{
    uint64_t g = atomic_load(&s->pol_gen);
    if (g == s->pol_seen)
        return;
    pthread_mutex_lock(&s->pol_lock);
    s->pol = s->pol_next;
    pthread_mutex_unlock(&s->pol_lock);
    s->pol_seen = g;
}

static void sweep(struct mbtcp_server *s)
{
    conn_sweep(s);
    for (unsigned i = 0; i < s->cfg.n_listeners; i++) {
        struct lsn *l = &s->lsn[i];
        if (l->paused && s->now_ms >= l->resume_ms) {
            struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
            epoll_ctl(s->epfd, EPOLL_CTL_MOD, l->fd, &ev);
            l->paused = false;
        }
    }
    s->next_sweep_ms = s->now_ms + SWEEP_MS;
}

int mbtcp_server_poll(struct mbtcp_server *s, int timeout_ms)
{
    struct epoll_event ev[EVENT_BATCH];
    int64_t until_sweep = s->next_sweep_ms - clock_mono_ms();
    if (until_sweep < 0)
        until_sweep = 0;
    if (timeout_ms < 0 || timeout_ms > until_sweep)
        timeout_ms = (int)until_sweep;
    int n = epoll_wait(s->epfd, ev, EVENT_BATCH, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    s->now_ms = clock_mono_ms();
    policy_refresh(s); /* after the wait: a change made meanwhile applies to what woke us */
    for (int i = 0; i < n; i++) {
        int tag = *(int *)ev[i].data.ptr;
        if (tag == TAG_LISTENER) {
            lsn_accept(s, ev[i].data.ptr);
        } else if (tag == TAG_CONN) {
            conn_event(s, ev[i].data.ptr, ev[i].events);
        } else {
            uint64_t x;
            if (read(s->wakefd, &x, sizeof(x)) < 0 && errno != EAGAIN)
                log_debug("Modbus TCP: wake-up read: %s", strerror(errno));
        }
    }
    if (s->now_ms >= s->next_sweep_ms)
        sweep(s);
    conn_free_dead(s);
    return n;
}

static void *server_thread(void *arg)
{
    struct mbtcp_server *s = arg;
    log_set_thread("mbtcp");
    while (!atomic_load(&s->stop)) {
        int rc = mbtcp_server_poll(s, 100);
        if (rc < 0) {
            log_ratelimited(LOG_ERR, 10000, "Modbus TCP: epoll_wait: %s", strerror(-rc));
            clock_sleep_ms(100);
        }
        if (s->progress)
            s->progress(s->progress_ctx);
    }
    return NULL;
}

int mbtcp_server_start(struct mbtcp_server *s, void (*progress)(void *ctx), void *ctx)
{
    if (s->running)
        return -EALREADY;
    s->progress = progress;
    s->progress_ctx = ctx;
    atomic_store(&s->stop, false);
    int rc = pthread_create(&s->thread, NULL, server_thread, s);
    if (rc)
        return -rc;
    s->running = true;
    return 0;
}

void mbtcp_server_stop(struct mbtcp_server *s)
{
    if (!s->running)
        return;
    uint64_t one = 1;
    atomic_store(&s->stop, true);
    if (write(s->wakefd, &one, sizeof(one)) < 0)
        log_debug("Modbus TCP: wake-up write: %s", strerror(errno));
    pthread_join(s->thread, NULL);
    s->running = false;
}

void mbtcp_server_data_changed(struct mbtcp_server *s)
{
    atomic_fetch_add(&s->data_version, 1);
}

void mbtcp_server_set_policy(struct mbtcp_server *s, const struct mbtcp_policy *p)
{
    pthread_mutex_lock(&s->pol_lock);
    s->pol_next = *p;
    pthread_mutex_unlock(&s->pol_lock);
    atomic_fetch_add(&s->pol_gen, 1);
}

void mbtcp_server_stats(struct mbtcp_server *s, struct mbtcp_stats *out)
{
    struct srv_counters *c = &s->st;
    *out = (struct mbtcp_stats){
        .connections = atomic_load(&c->connections),
        .accepted = atomic_load(&c->accepted),
        .rejected = atomic_load(&c->rejected),
        .requests = atomic_load(&c->requests),
        .exceptions = atomic_load(&c->exceptions),
        .writes = atomic_load(&c->writes),
        .renders = atomic_load(&c->renders),
        .closed_idle = atomic_load(&c->closed_idle),
        .closed_stall = atomic_load(&c->closed_stall),
        .closed_error = atomic_load(&c->closed_error),
    };
}
