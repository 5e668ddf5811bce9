/* SPDX-License-Identifier: MIT */
/* mqtt_service.c — the "mqtt" service: its thread, its loop, reload, counters. */
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/log.h"
#include "mqtt_priv.h"

static void wake(void *ctx)
{
    struct mqtt_svc *m = ctx;
    uint64_t one = 1;
    if (write(m->efd, &one, sizeof(one)) < 0) {
        /* the counter is saturated: the thread wakes anyway */
    }
}

static void resolve_ids(struct mqtt_svc *m)
{
    char host[128] = "";
    if (gethostname(host, sizeof(host) - 1) < 0)
        host[0] = '\0';
    mqtt_ids_resolve(&m->cfg->mqtt, host, &m->ids);
    snprintf(m->host, sizeof(m->host), "%s", host[0] ? host : "localhost");
}

/* A new client for the current configuration; degraded with why when it cannot be made (a
 * password file with the wrong mode, a TLS file missing): tried again with the backoff, so
 * fixing the file is enough. */
static void client_open(struct mqtt_svc *m, int64_t now_ms)
{
    char why[200] = "";
    resolve_ids(m);
    for (unsigned i = 0; i < CFG_MAX_PORTS; i++)
        m->avail[i] = -1;
    m->next_attempt_ms = now_ms;
    if (mqtt_conn_new(m, why, sizeof(why)) < 0) {
        mqtt_conn_free(m);
        m->next_attempt_ms = now_ms + m->backoff_ms;
        service_set_state(m->svc, SERVICE_DEGRADED, "%s (retry in %d s)", why,
                          m->backoff_ms / 1000);
        m->backoff_ms =
            m->backoff_ms * 2 > MQTT_BACKOFF_MAX_MS ? MQTT_BACKOFF_MAX_MS : m->backoff_ms * 2;
        return;
    }
    m->backoff_ms = MQTT_BACKOFF_MIN_MS;
}

/* Everything of the mqtt group but the interval changes the client: a clean goodbye, a new one. */
static void reload(struct mqtt_svc *m, int64_t now_ms)
{
    struct bmsgw_config *next = malloc(sizeof(*next));
    if (!next)
        return;
    m->cfg_gen = config_store_get(m->app->config, next);
    struct cfg_mqtt a = m->cfg->mqtt, b = next->mqtt;
    a.state_interval_ms = b.state_interval_ms;
    bool same = memcmp(&a, &b, sizeof(a)) == 0 && m->cfg->bms.port_count == next->bms.port_count;
    free(m->cfg);
    m->cfg = next;
    m->ha_done = false; /* names, cells, limits may have changed: announced again */
    if (same)
        return;
    log_info("mqtt: configuration changed, reconnecting");
    mqtt_conn_goodbye(m);
    mqtt_conn_free(m);
    m->backoff_ms = MQTT_BACKOFF_MIN_MS;
    client_open(m, now_ms);
}

static void take_bus(struct mqtt_svc *m)
{
    struct bus_msg msg;
    while (bus_pop(m->sub, &msg)) {
        struct alert_change c;
        if (msg.topic != BUS_ALERT || msg.len != sizeof(c))
            continue;
        memcpy(&c, msg.data, sizeof(c));
        mqtt_publish_alert_change(m, &c);
    }
}

/* The newest generation into m->sys, when there is one (the publisher has no interval here). */
static bool take_generation(struct mqtt_svc *m)
{
    int wait = 0;
    if (publisher_next(m->pub, m->sys, NULL, &wait) != PUBLISHER_READY)
        return false;
    m->have_sys = true;
    return true;
}

static void loop_once(struct mqtt_svc *m)
{
    int64_t now = clock_mono_ms();
    int timeout = MQTT_TICK_MS;
    if (!m->mosq && now >= m->next_attempt_ms)
        client_open(m, now);
    if (m->mosq && !m->sock_open && now >= m->next_attempt_ms)
        mqtt_conn_attempt(m, now);
    if (m->mosq && !m->sock_open && m->next_attempt_ms - now < timeout)
        timeout = m->next_attempt_ms - now < 0 ? 0 : (int)(m->next_attempt_ms - now);
    struct pollfd p[2] = { { .fd = m->efd, .events = POLLIN }, { .fd = -1 } };
    if (m->mosq && m->sock_open) {
        p[1].fd = mosquitto_socket(m->mosq);
        p[1].events = (short)(POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0));
    }
    poll(p, p[1].fd >= 0 ? 2 : 1, timeout);
    if (p[0].revents & POLLIN) {
        uint64_t n;
        if (read(m->efd, &n, sizeof(n)) < 0) {
            /* nothing pending after all */
        }
    }
    now = clock_mono_ms();
    if (m->mosq && m->sock_open)
        mqtt_conn_io(m, p[1].fd >= 0 ? p[1].revents : 0, now);
    if (config_store_generation(m->app->config) != m->cfg_gen)
        reload(m, now);
    take_bus(m);
    bool fresh = take_generation(m);
    mqtt_publish_tick(m, now, fresh);
}

static void *mqtt_thread(void *arg)
{
    struct mqtt_svc *m = arg;
    log_set_thread("mqtt");
    m->backoff_ms = MQTT_BACKOFF_MIN_MS;
    client_open(m, clock_mono_ms());
    while (!atomic_load(&m->stop)) {
        service_progress(m->svc);
        loop_once(m);
    }
    mqtt_conn_goodbye(m);
    mqtt_conn_free(m);
    return NULL;
}

static void state_free(struct mqtt_svc *m)
{
    if (!m)
        return;
    publisher_free(m->pub);
    if (m->sub)
        bus_unsubscribe(m->app->bus, m->sub);
    if (m->efd >= 0)
        close(m->efd);
    mqtt_discovery_free(m);
    free(m->ha_topics);
    free(m->sys);
    free(m->cfg);
    free(m);
}

static struct mqtt_svc *state_new(struct service *svc)
{
    struct mqtt_svc *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->svc = svc;
    m->app = svc->app;
    m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    m->cfg = malloc(sizeof(*m->cfg));
    m->sys = malloc(sizeof(*m->sys));
    if (m->efd < 0 || !m->cfg || !m->sys) {
        state_free(m);
        return NULL;
    }
    m->cfg_gen = config_store_get(svc->app->config, m->cfg);
    /* every generation is handed out; the state's pacing is decided here (mqtt_state_due) */
    struct publisher_opts po = { .min_interval_ms = 0, .wake = wake, .wake_ctx = m };
    m->sub = bus_subscribe(svc->app->bus, BUS_ALERT, MQTT_EVENTS_MAX, wake, m);
    if (!m->sub || publisher_new(svc->app->snap, &po, &m->pub) < 0) {
        state_free(m);
        return NULL;
    }
    return m;
}

static int mqtt_start(struct service *svc)
{
    mosquitto_lib_init();
    struct mqtt_svc *m = state_new(svc);
    if (!m) {
        service_set_state(svc, SERVICE_DOWN, "cannot start: out of memory");
        return -ENOMEM;
    }
    pthread_mutex_lock(&svc->lock);
    svc->priv = m;
    pthread_mutex_unlock(&svc->lock);
    int rc = -pthread_create(&m->thread, NULL, mqtt_thread, m);
    if (rc) {
        pthread_mutex_lock(&svc->lock);
        svc->priv = NULL;
        pthread_mutex_unlock(&svc->lock);
        service_set_state(svc, SERVICE_DOWN, "cannot start: %s", strerror(-rc));
        state_free(m);
        return rc;
    }
    pthread_setname_np(m->thread, "mqtt");
    return 0; /* starting (the registry's state) until the broker accepts */
}

static int mqtt_stop(struct service *svc, int timeout_ms)
{
    struct mqtt_svc *m = svc->priv;
    if (!m)
        return 0;
    atomic_store(&m->stop, true);
    wake(m);
    if (clock_join_ms(m->thread, timeout_ms) != 0)
        return -ETIMEDOUT;
    pthread_mutex_lock(&svc->lock);
    svc->priv = NULL;
    pthread_mutex_unlock(&svc->lock);
    state_free(m);
    mosquitto_lib_cleanup();
    return 0;
}

static bool mqtt_enabled(const struct bmsgw_config *cfg)
{
    return cfg->mqtt.enabled;
}

#define COUNTER(n, h, v) ((struct service_counter){ .name = (n), .help = (h), .value = (v) })

static unsigned mqtt_counters(struct service *svc, struct service_counter *out, unsigned max)
{
    const struct mqtt_counters *c = &((struct mqtt_svc *)svc->priv)->cnt;
    const struct service_counter all[] = {
        { .name = "connected",
          .help = "1 while connected to the broker.",
          .value = atomic_load(&c->connected),
          .gauge = true },
        COUNTER("connects_total", "Connections accepted by the broker.", c->connects),
        COUNTER("connect_failures_total", "Connection attempts that failed.", c->connect_failures),
        COUNTER("disconnects_total", "Connections lost.", c->disconnects),
        COUNTER("published_total", "Messages published.", c->published),
        COUNTER("publish_errors_total", "Messages the client refused.", c->publish_errors),
        COUNTER("states_total", "State messages published.", c->states),
        COUNTER("events_dropped_total", "Alert events dropped while disconnected (over 256).",
                c->events_dropped),
        COUNTER("commands_ok_total", "Commands applied.", c->commands_ok),
        COUNTER("commands_refused_total", "Commands refused.", c->commands_refused),
        COUNTER("discovery_docs_total", "Home Assistant discovery documents published.",
                c->discovery_docs),
    };
    unsigned n = sizeof(all) / sizeof(all[0]);
    n = n < max ? n : max;
    memcpy(out, all, n * sizeof(*out));
    return n;
}

const struct service_ops mqtt_service_ops = {
    .name = "mqtt",
    .enabled = mqtt_enabled,
    .start = mqtt_start,
    .stop = mqtt_stop,
    .counters = mqtt_counters,
    .watchdog_ms = 10000,
};
