/* SPDX-License-Identifier: MIT */
/* alerts.c — the shared alerts object and the "alerts" service thread that feeds it. */
#include "bmsgw/alerts.h"

#include <errno.h>
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
#include "bmsgw/control.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/persist.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/status_json.h"

#define ALERTS_TICK_MS      250
#define ALERTS_SAVE_MIN_MS  2000
#define ALERTS_FILE_MAX     (4 * 1024 * 1024)
#define ALERTS_BUS_CAPACITY 64

struct alerts {
    pthread_mutex_t lock;
    struct alerts_engine eng;
    struct bus *bus;
    bool dirty; /* changed since the last save */
};

/* ---- the shared object -------------------------------------------------------------------- */

_Static_assert(sizeof(struct alert_change) <= BUS_DATA_MAX,
               "an alert change must fit a bus message");

static void publish(struct alerts *al, const struct alert_changes *ch)
{
    static const int levels[] = {
        [ALERT_INFO] = LOG_INFO, [ALERT_WARNING] = LOG_NOTICE, [ALERT_ALARM] = LOG_WARNING
    };
    static const char *const verbs[] = { "raised", "cleared", "acknowledged" };
    for (unsigned i = 0; i < ch->n; i++) {
        const struct alert_change *c = &ch->c[i];
        /* typed on the bus (bus.h): consumers encode it with alert_change_to_json() */
        bus_publish_bytes(al->bus, BUS_ALERT, BUS_DIR_NONE, c->alert.string, 0, c, sizeof(*c));
        log_msg(c->kind == ALERT_RAISED ? levels[c->alert.severity] : LOG_INFO,
                "alert %u %s (%s): %s", c->alert.id, verbs[c->kind],
                alert_severity_name(c->alert.severity), c->alert.message);
    }
    if (ch->lost)
        log_warn("%u alert changes were not streamed (too many at once)", ch->lost);
}

json_t *alerts_active_json(struct alerts *al)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&al->lock);
    for (unsigned i = al->eng.n_active; i-- > 0;) /* newest first */
        json_array_append_new(arr, alert_to_json(&al->eng.active[i]));
    pthread_mutex_unlock(&al->lock);
    return arr;
}

json_t *alerts_history_json(struct alerts *al, unsigned limit)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&al->lock);
    const struct alerts_engine *e = &al->eng;
    for (unsigned i = e->hist_len; i-- > 0 && limit > 0; limit--)
        json_array_append_new(arr,
                              alert_to_json(&e->history[(e->hist_head + i) % ALERTS_HISTORY_MAX]));
    pthread_mutex_unlock(&al->lock);
    return arr;
}

int alerts_acknowledge(struct alerts *al, uint32_t id)
{
    struct alert_changes ch = { 0 };
    pthread_mutex_lock(&al->lock);
    int n = alerts_engine_ack(&al->eng, id, clock_real_ms(), &ch);
    if (n > 0)
        al->dirty = true;
    pthread_mutex_unlock(&al->lock);
    publish(al, &ch);
    return n;
}

void alerts_clear_history(struct alerts *al)
{
    pthread_mutex_lock(&al->lock);
    alerts_engine_clear_history(&al->eng);
    al->dirty = true;
    pthread_mutex_unlock(&al->lock);
    log_notice("alert history cleared");
}

void alerts_counts(struct alerts *al, unsigned *active, uint64_t *raised_total)
{
    pthread_mutex_lock(&al->lock);
    *active = al->eng.n_active;
    *raised_total = al->eng.raised_total;
    pthread_mutex_unlock(&al->lock);
}

/* ---- persistence -------------------------------------------------------------------------- */

static void alerts_load(struct alerts *al, const char *path)
{
    char *text = NULL, why[160], bad[CFG_PATH_MAX + 32];
    size_t len;
    json_error_t jerr;
    int rc = persist_read(path, &text, &len, ALERTS_FILE_MAX);
    if (rc == -ENOENT)
        return;
    if (rc) {
        log_warn("cannot read the alert history %s: %s; starting a new one", path, strerror(-rc));
        return;
    }
    json_t *j = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!j)
        snprintf(why, sizeof(why), "line %d: %s", jerr.line, jerr.text);
    rc = j ? alerts_engine_from_json(&al->eng, j, why, sizeof(why)) : -EINVAL;
    json_decref(j);
    if (rc == 0) {
        log_info("alert history restored from %s: %u active, %u kept", path, al->eng.n_active,
                 al->eng.hist_len);
        return;
    }
    /* keep the unreadable file for a person to look at; never write over it blindly */
    snprintf(bad, sizeof(bad), "%s.bad", path);
    log_warn("alert history %s is not usable (%s): kept as %s, starting a new one", path, why,
             rename(path, bad) == 0 ? bad : "(rename failed)");
}

static void alerts_save(struct alerts *al, const char *path)
{
    pthread_mutex_lock(&al->lock);
    json_t *j = al->dirty ? alerts_engine_to_json(&al->eng) : NULL;
    al->dirty = false;
    pthread_mutex_unlock(&al->lock);
    if (!j)
        return;
    char *text = json_dumps(j, BMSGW_JSON_FLAGS);
    json_decref(j);
    int rc = text ? persist_write(path, text, strlen(text), 0640) : -ENOMEM;
    free(text);
    if (rc) {
        log_ratelimited(LOG_WARNING, 60000, "cannot write the alert history %s: %s", path,
                        strerror(-rc));
        pthread_mutex_lock(&al->lock);
        al->dirty = true; /* try again later */
        pthread_mutex_unlock(&al->lock);
    }
}

/* ---- the service -------------------------------------------------------------------------- */

struct alerts_service_state {
    struct service *svc;
    struct alerts *al;
    pthread_t thread;
    bool started;
    int wake_efd; /* snapshot commits and bus messages */
    int stop_efd;
    struct bus_sub *sub;
    struct bmsgw_system *sys;
    struct bmsgw_config *cfg;
    uint64_t cfg_gen;
    uint64_t acks_seen;
    char path[CFG_PATH_MAX + 16];
};

static void wake(void *ctx)
{
    struct alerts_service_state *s = ctx;
    uint64_t one = 1;
    if (write(s->wake_efd, &one, sizeof(one)) < 0) {
        /* the counter saturates at worst: the thread is woken either way */
    }
}

static void on_commit(uint64_t generation, void *ctx)
{
    (void)generation;
    wake(ctx);
}

/* A BUS_EVENT message: only "bms_event" matters here. */
static void take_event(struct alerts_service_state *s, const struct bus_msg *m,
                       struct alert_changes *ch)
{
    struct bmsgw_event e;
    if (!bmsgw_event_from_msg(m, &e) || e.type != BMSGW_EV_BMS_EVENT)
        return;
    int si = e.string;
    bool known = si >= 0 && si < s->sys->string_count;
    const char *sname = known ? s->sys->strings[si].name : NULL;
    const char *bname = known ? s->sys->strings[si].bms_name : NULL;
    if (si >= 0 && si < BMSGW_MAX_STRINGS)
        alerts_engine_bms_event(
            &s->al->eng, si, sname, bname, e.bms.id, e.bms.name[0] ? e.bms.name : "unknown event",
            e.bms.severity[0] ? e.bms.severity : "info", e.bms.recovered_by, clock_real_ms(), ch);
}

static void step(struct alerts_service_state *s)
{
    struct alert_changes ch = { 0 };
    struct bus_msg m;
    if (config_store_generation(s->svc->app->config) != s->cfg_gen)
        s->cfg_gen = config_store_get(s->svc->app->config, s->cfg);
    if (snapshot_generation(s->svc->app->snap) != s->sys->generation)
        snapshot_copy(s->svc->app->snap, s->sys);
    uint64_t acks = control_ack_requests(s->svc->app->control);
    int64_t now = clock_mono_ms(), real = clock_real_ms();

    pthread_mutex_lock(&s->al->lock);
    while (bus_pop(s->sub, &m))
        take_event(s, &m, &ch);
    alerts_engine_eval(&s->al->eng, s->sys, s->cfg, s->cfg->can.enabled, now, real, &ch);
    if (acks != s->acks_seen) {
        s->acks_seen = acks;
        alerts_engine_ack(&s->al->eng, 0, real, &ch);
    }
    if (ch.n)
        s->al->dirty = true;
    pthread_mutex_unlock(&s->al->lock);
    publish(s->al, &ch);
}

static void *alerts_thread(void *arg)
{
    struct alerts_service_state *s = arg;
    struct pollfd pfd[2] = { { .fd = s->stop_efd, .events = POLLIN },
                             { .fd = s->wake_efd, .events = POLLIN } };
    int64_t next_save = clock_mono_ms() + ALERTS_SAVE_MIN_MS;
    log_set_thread("alerts");
    pthread_setname_np(pthread_self(), "bmsgw-alerts");
    for (;;) {
        service_progress(s->svc);
        step(s);
        if (clock_mono_ms() >= next_save) {
            alerts_save(s->al, s->path);
            next_save = clock_mono_ms() + ALERTS_SAVE_MIN_MS;
        }
        if (poll(pfd, 2, ALERTS_TICK_MS) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN)
            break;
        uint64_t n;
        if ((pfd[1].revents & POLLIN) && read(s->wake_efd, &n, sizeof(n)) < 0) {
            /* nothing to do: the next step looks at everything anyway */
        }
    }
    alerts_save(s->al, s->path);
    return NULL;
}

static void state_free(struct service *svc, struct alerts_service_state *s)
{
    if (!s)
        return;
    snapshot_watch_remove(svc->app->snap, on_commit, s);
    bus_unsubscribe(svc->app->bus, s->sub);
    if (s->wake_efd >= 0)
        close(s->wake_efd);
    if (s->stop_efd >= 0)
        close(s->stop_efd);
    if (s->al)
        pthread_mutex_destroy(&s->al->lock);
    free(s->al);
    free(s->sys);
    free(s->cfg);
    free(s);
}

static int alerts_start(struct service *svc)
{
    struct alerts_service_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->svc = svc;
    s->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->al = calloc(1, sizeof(*s->al));
    s->sys = calloc(1, sizeof(*s->sys));
    s->cfg = malloc(sizeof(*s->cfg));
    if (s->wake_efd < 0 || s->stop_efd < 0 || !s->al || !s->sys || !s->cfg) {
        free(s->al);
        s->al = NULL;
        state_free(svc, s);
        return -ENOMEM;
    }
    pthread_mutex_init(&s->al->lock, NULL);
    alerts_engine_init(&s->al->eng);
    s->al->bus = svc->app->bus;
    s->cfg_gen = config_store_get(svc->app->config, s->cfg);
    snprintf(s->path, sizeof(s->path), "%s/%s", s->cfg->state_dir, ALERTS_FILE);
    alerts_load(s->al, s->path);
    s->acks_seen = control_ack_requests(svc->app->control);
    s->sub = bus_subscribe(svc->app->bus, BUS_EVENT, ALERTS_BUS_CAPACITY, wake, s);
    int rc = s->sub ? snapshot_watch_add(svc->app->snap, on_commit, s) : -ENOMEM;
    if (rc == 0)
        rc = -pthread_create(&s->thread, NULL, alerts_thread, s);
    if (rc) {
        service_set_state(svc, SERVICE_DOWN, "cannot start: %s", strerror(-rc));
        state_free(svc, s);
        return rc;
    }
    s->started = true;
    svc->priv = s;
    svc->app->alerts = s->al;
    service_set_state(svc, SERVICE_RUNNING, NULL);
    return 0;
}

static int alerts_stop(struct service *svc, int timeout_ms)
{
    struct alerts_service_state *s = svc->priv;
    uint64_t one = 1;
    if (!s)
        return 0;
    svc->app->alerts = NULL;
    if (write(s->stop_efd, &one, sizeof(one)) < 0)
        log_warn("alerts: cannot stop the thread: %s", strerror(errno));
    pthread_join(s->thread, NULL);
    state_free(svc, s);
    svc->priv = NULL;
    return 0;
}

static bool alerts_enabled(const struct bmsgw_config *cfg)
{
    (void)cfg;
    return true;
}

const struct service_ops alerts_service = {
    .name = "alerts",
    .enabled = alerts_enabled,
    .start = alerts_start,
    .stop = alerts_stop,
    .watchdog_ms = 5000,
};
