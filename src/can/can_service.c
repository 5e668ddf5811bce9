/* SPDX-License-Identifier: MIT */
/* can_service.c — the CAN thread: link lifecycle, bus state, reception, health, the service. */
#include "can_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/snapshot.h"

static void publish_state(struct can_svc *c, const char *detail)
{
    if (!bus_has_subscribers(c->app->bus, BUS_EVENT))
        return;
    struct bmsgw_event e = { .type = BMSGW_EV_CAN_STATE, .string = -1 };
    bmsgw_event_set_text(e.can.interface, sizeof(e.can.interface), c->cfg.can.interface);
    e.can.link = (uint8_t)c->h.link.state;
    e.can.bus = c->h.bus_state;
    e.can.sending = c->h.sending;
    bmsgw_event_set_text(e.can.detail, sizeof(e.can.detail), detail);
    bmsgw_event_publish(c->app->bus, &e);
}

static void set_link(struct can_svc *c, enum bmsgw_link_state st, int64_t now_ms, const char *why)
{
    if (c->h.link.state != st) {
        c->h.link.state = st;
        c->h.link.since_ms = now_ms;
    }
    snprintf(c->h.link.last_error, sizeof(c->h.link.last_error), "%s", why ? why : "");
}

static int next_backoff(struct can_svc *c)
{
    int wait = c->backoff_ms;
    c->backoff_ms = wait * 2 > c->cfg.can.restart_max_ms ? c->cfg.can.restart_max_ms : wait * 2;
    return wait;
}

void can_link_lost(struct can_svc *c, int64_t now_ms, int err)
{
    char reason[96];
    snprintf(reason, sizeof(reason), "interface %s lost (%s)", c->cfg.can.interface, strerror(err));
    if (c->fd >= 0)
        c->ops->close(c->ops_ctx, c->fd);
    c->fd = -1;
    c->retry_ms = now_ms + next_backoff(c);
    c->h.bus_state = BMSGW_CAN_BUS_UNKNOWN;
    set_link(c, BMSGW_LINK_DOWN, now_ms, reason);
    service_set_state(c->svc, SERVICE_DEGRADED, "%s, retrying", reason);
    publish_state(c, reason);
}

static void apply_bitrate(struct can_svc *c)
{
    const char *ifn = c->cfg.can.interface;
    uint32_t want = (uint32_t)c->cfg.can.bitrate;
    if (c->cfg.can.set_bitrate) {
        int rc = c->ops->set_bitrate(c->ops_ctx, ifn, want);
        if (rc == -EOPNOTSUPP)
            log_info("bitrate: not applicable on %s (no bit timing, e.g. vcan)", ifn);
        else if (rc < 0)
            log_warn("cannot set the bitrate of %s to %u bit/s: %s (needs CAP_NET_ADMIN)", ifn,
                     want, strerror(-rc));
    }
    uint32_t br = 0;
    c->h.bitrate = c->ops->get_bitrate(c->ops_ctx, ifn, &br) == 0 ? br : 0;
    if (c->h.bitrate && c->h.bitrate != want)
        log_warn("%s runs at %u bit/s; a %s expects %u", ifn, c->h.bitrate, c->proto->peer, want);
}

static void link_try_open(struct can_svc *c, int64_t now_ms)
{
    char why[96];
    if (now_ms < c->retry_ms)
        return;
    if (c->ever_opened)
        c->h.link.reconnects++;
    uint32_t rx_ids[CAN_PROTO_RX_MAX];
    unsigned n_rx = 0;
    for (; n_rx < c->proto->n_rx && n_rx < CAN_PROTO_RX_MAX; n_rx++)
        rx_ids[n_rx] = c->proto->rx[n_rx].id;
    int fd = c->ops->open(c->ops_ctx, c->cfg.can.interface, rx_ids, n_rx, why, sizeof(why));
    if (fd < 0) {
        bool changed = strcmp(why, c->h.link.last_error) != 0;
        c->retry_ms = now_ms + next_backoff(c);
        set_link(c, BMSGW_LINK_DOWN, now_ms, why);
        service_set_state(c->svc, SERVICE_DEGRADED, "%s, retrying", why);
        if (changed)
            publish_state(c, why);
        return;
    }
    c->fd = fd;
    c->ever_opened = true;
    c->no_bus_state = false;
    c->backoff_ms = c->cfg.can.restart_min_ms;
    apply_bitrate(c);
    can_tx_sched_init(c, now_ms);
    set_link(c, BMSGW_LINK_UP, now_ms, NULL);
    service_set_state(c->svc, SERVICE_RUNNING, "%s open", c->cfg.can.interface);
    publish_state(c, "interface open");
}

static void bus_state_changed(struct can_svc *c, uint8_t st, int64_t now_ms)
{
    if (st == c->h.bus_state)
        return;
    c->h.bus_state = st;
    bool bad = st == BMSGW_CAN_BUS_ERROR_PASSIVE || st == BMSGW_CAN_BUS_OFF;
    set_link(c, bad ? BMSGW_LINK_DEGRADED : BMSGW_LINK_UP, now_ms,
             bad ? bmsgw_can_bus_state_name(st) : NULL);
    if (bad) {
        service_set_state(c->svc, SERVICE_DEGRADED, "%s %s", c->cfg.can.interface,
                          bmsgw_can_bus_state_name(st));
    } else {
        c->backoff_ms = c->cfg.can.restart_min_ms;
        service_set_state(c->svc, SERVICE_RUNNING, "%s open", c->cfg.can.interface);
    }
    publish_state(c, bmsgw_can_bus_state_name(st));
}

/* Bus-off: restart the controller (needs CAP_NET_ADMIN) with backoff. */
static void bus_off_restart(struct can_svc *c, int64_t now_ms)
{
    if (c->h.bus_state != BMSGW_CAN_BUS_OFF || now_ms < c->restart_ms)
        return;
    int rc = c->ops->restart(c->ops_ctx, c->cfg.can.interface);
    c->h.restarts++;
    c->restart_ms = now_ms + next_backoff(c);
    if (rc < 0)
        log_ratelimited(LOG_WARNING, 30000, "bus-off: restart of %s failed: %s",
                        c->cfg.can.interface, strerror(-rc));
    else
        log_warn("bus-off: %s restarted (restart %llu)", c->cfg.can.interface,
                 (unsigned long long)c->h.restarts);
}

static void tick(struct can_svc *c, int64_t now_ms)
{
    uint8_t st;
    if (now_ms < c->tick_ms)
        return;
    c->tick_ms = now_ms + CAN_TICK_MS;
    if (!c->no_bus_state) {
        int rc = c->ops->get_state(c->ops_ctx, c->cfg.can.interface, &st);
        if (rc == 0)
            bus_state_changed(c, st, now_ms);
        else if (rc == -EOPNOTSUPP)
            c->no_bus_state = true; /* error frames still report trouble */
    }
    bus_off_restart(c, now_ms);
}

static void rx_frame(struct can_svc *c, const struct can_frame_io *f, int64_t now_ms)
{
    c->h.rx_frames++;
    if (f->error) {
        c->h.bus_errors++;
        int st = can_error_bus_state(f);
        if (st >= 0)
            bus_state_changed(c, (uint8_t)st, now_ms);
        return;
    }
    const struct can_proto_frame *pf = can_proto_frame_by_id(c->proto, f->id);
    if (pf && can_proto_receives(c->proto, f->id) && c->proto->receive)
        c->proto->receive(pf, f->data, f->dlc, now_ms, &c->h);
    bus_publish_bytes(c->app->bus, BUS_CAN, BUS_DIR_RX, -1, f->id, f->data, f->dlc);
}

static void rx_drain(struct can_svc *c, int64_t now_ms)
{
    struct can_frame_io f;
    for (int i = 0; i < 64 && c->fd >= 0; i++) {
        int rc = c->ops->recv(c->ops_ctx, c->fd, &f);
        if (rc == 0)
            return;
        if (rc > 0) {
            rx_frame(c, &f, now_ms);
        } else if (can_tx_link_lost(-rc)) {
            can_link_lost(c, now_ms, -rc);
        } else {
            log_ratelimited(LOG_WARNING, 10000, "CAN receive failed: %s", strerror(-rc));
            return;
        }
    }
}

static void refresh(struct can_svc *c, int64_t now_ms)
{
    struct config_store *store = c->app->config;
    if (config_store_generation(store) != c->cfg_gen) {
        int old[CFG_CAN_PERIODS_MAX];
        memcpy(old, c->cfg.can.period_ms, sizeof(old));
        c->cfg_gen = config_store_get(store, &c->cfg);
        if (memcmp(old, c->cfg.can.period_ms, sizeof(old)) != 0)
            can_tx_sched_init(c, now_ms);
    }
    uint64_t g = snapshot_generation(c->app->snap);
    if (g != c->sys_gen)
        c->sys_gen = snapshot_copy(c->app->snap, c->sys);
}

static void wait_events(struct can_svc *c, int64_t now_ms)
{
    int64_t wake = now_ms + CAN_SNAPSHOT_POLL_MS;
    if (c->fd >= 0 && can_sched_next_ms(&c->sched) < wake)
        wake = can_sched_next_ms(&c->sched);
    struct pollfd p[2] = { { .fd = c->efd, .events = POLLIN }, { .fd = c->fd, .events = POLLIN } };
    int timeout = wake > now_ms ? (int)(wake - now_ms) : 0;
    if (bmsgw_clock_poll(c->clk, p, c->fd >= 0 ? 2 : 1, timeout) <= 0)
        return;
    uint64_t v;
    if (p[0].revents & POLLIN && read(c->efd, &v, sizeof(v)) < 0)
        log_debug("can: eventfd read: %s", strerror(errno));
    if (c->fd >= 0 && p[1].revents & POLLIN)
        rx_drain(c, bmsgw_clock_ms(c->clk));
}

static void *can_thread(void *arg)
{
    struct can_svc *c = arg;
    struct bmsgw_can_health published;
    log_set_thread("can");
    memset(&published, 0, sizeof(published));
    while (!atomic_load(&c->stop)) {
        int64_t now = bmsgw_clock_ms(c->clk);
        service_progress(c->svc);
        refresh(c, now);
        if (c->fd < 0)
            link_try_open(c, now);
        if (c->fd >= 0) {
            tick(c, now);
            can_tx_step(c, now);
        }
        if (memcmp(&published, &c->h, sizeof(published)) != 0) {
            published = c->h;
            snapshot_set_can_health(c->app->snap, &c->h);
        }
        wait_events(c, now);
    }
    if (c->fd >= 0)
        c->ops->close(c->ops_ctx, c->fd);
    c->fd = -1;
    c->h.sending = false;
    set_link(c, BMSGW_LINK_DISABLED, bmsgw_clock_ms(c->clk), NULL);
    snapshot_set_can_health(c->app->snap, &c->h);
    return NULL;
}

static void can_svc_free(struct can_svc *c)
{
    if (!c)
        return;
    if (c->efd >= 0)
        close(c->efd);
    free(c->sys);
    free(c);
}

int can_service_start_with(struct service *svc, const struct can_link_ops *ops, void *ops_ctx)
{
    struct can_svc *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->sys = calloc(1, sizeof(*c->sys));
    if (c->efd < 0 || !c->sys) {
        can_svc_free(c);
        return -ENOMEM;
    }
    c->svc = svc;
    c->app = svc->app;
    c->clk = app_clock(c->app);
    c->ops = ops;
    c->ops_ctx = ops_ctx;
    c->fd = -1;
    c->cfg_gen = config_store_get(c->app->config, &c->cfg);
    c->proto = can_proto_of(&c->cfg.can);
    c->backoff_ms = c->cfg.can.restart_min_ms;
    c->h.link.state = BMSGW_LINK_CONNECTING;
    c->h.link.since_ms = bmsgw_clock_ms(c->clk);
    snprintf(c->h.interface, sizeof(c->h.interface), "%s", c->cfg.can.interface);
    int rc = pthread_create(&c->thread, NULL, can_thread, c);
    if (rc) {
        can_svc_free(c);
        return -rc;
    }
    pthread_setname_np(c->thread, "can");
    svc->priv = c;
    return 0;
}

static int can_start(struct service *svc)
{
    return can_service_start_with(svc, can_link_socketcan(), NULL);
}

static void wake(struct can_svc *c)
{
    uint64_t one = 1;
    if (write(c->efd, &one, sizeof(one)) < 0)
        log_debug("can: eventfd write: %s", strerror(errno));
}

static int can_stop(struct service *svc, int timeout_ms)
{
    struct can_svc *c = svc->priv;
    if (!c)
        return 0;
    atomic_store(&c->stop, true);
    wake(c);
    if (clock_join_ms(c->thread, timeout_ms) != 0)
        return -ETIMEDOUT;
    svc->priv = NULL;
    can_svc_free(c);
    return 0;
}

static void can_reload(struct service *svc, const struct bmsgw_config *cfg)
{
    (void)cfg; /* the thread picks the new configuration up from the store */
    if (svc->priv)
        wake(svc->priv);
}

static bool can_enabled(const struct bmsgw_config *cfg)
{
    return cfg->can.enabled;
}

const struct service_ops can_service_ops = {
    .name = "can",
    .enabled = can_enabled,
    .start = can_start,
    .stop = can_stop,
    .reload = can_reload,
    .watchdog_ms = 5000,
};
