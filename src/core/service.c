/* SPDX-License-Identifier: MIT */
/* service.c — service state, progress (watchdog) and the registry's start/stop order. */
#include "bmsgw/service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/clock.h"
#include "bmsgw/log.h"

const char *service_state_name(enum service_state s)
{
    switch (s) {
    case SERVICE_DISABLED:
        return "disabled";
    case SERVICE_STARTING:
        return "starting";
    case SERVICE_RUNNING:
        return "running";
    case SERVICE_DEGRADED:
        return "degraded";
    case SERVICE_DOWN:
        return "down";
    case SERVICE_STOPPED:
        return "stopped";
    }
    return "unknown";
}

void service_init(struct service *svc, const struct service_ops *ops, struct bmsgw_app *app)
{
    memset(svc, 0, sizeof(*svc));
    svc->ops = ops;
    svc->app = app;
    svc->state = SERVICE_STOPPED;
    svc->since_ms = clock_mono_ms();
    pthread_mutex_init(&svc->lock, NULL);
}

void service_deinit(struct service *svc)
{
    pthread_mutex_destroy(&svc->lock);
}

void service_set_state(struct service *svc, enum service_state st, const char *reason_fmt, ...)
{
    char reason[sizeof(svc->last_error)] = "";
    if (reason_fmt) {
        va_list ap;
        va_start(ap, reason_fmt);
        vsnprintf(reason, sizeof(reason), reason_fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&svc->lock);
    bool changed = svc->state != st || (reason_fmt && strcmp(reason, svc->last_error) != 0);
    if (svc->state != st)
        svc->since_ms = clock_mono_ms();
    svc->state = st;
    if (reason_fmt)
        memcpy(svc->last_error, reason, sizeof(reason));
    pthread_mutex_unlock(&svc->lock);
    if (!changed)
        return;
    if (st == SERVICE_DOWN || st == SERVICE_DEGRADED)
        log_warn("service %s %s%s%s", svc->ops->name, service_state_name(st), reason[0] ? ": " : "",
                 reason);
    else
        log_info("service %s %s%s%s", svc->ops->name, service_state_name(st), reason[0] ? ": " : "",
                 reason);
}

void service_progress(struct service *svc)
{
    atomic_store(&svc->progress_ms, clock_mono_ms());
}

void service_get_status(struct service *svc, struct service_status *out)
{
    pthread_mutex_lock(&svc->lock);
    out->name = svc->ops->name;
    out->state = svc->state;
    out->since_ms = svc->since_ms;
    memcpy(out->last_error, svc->last_error, sizeof(out->last_error));
    out->counter_count = 0;
    if (svc->ops->counters && svc->priv)
        out->counter_count = svc->ops->counters(svc, out->counters, SERVICE_COUNTERS_MAX);
    pthread_mutex_unlock(&svc->lock);
    out->progress_ms = atomic_load(&svc->progress_ms);
}

bool service_healthy(struct service *svc, int64_t now_ms)
{
    pthread_mutex_lock(&svc->lock);
    enum service_state st = svc->state;
    pthread_mutex_unlock(&svc->lock);
    if (st != SERVICE_RUNNING && st != SERVICE_DEGRADED)
        return true; /* disabled/down services are reported, not watchdogged */
    return now_ms - atomic_load(&svc->progress_ms) <= svc->ops->watchdog_ms;
}

void services_init(struct service_registry *r, struct bmsgw_app *app,
                   const struct service_ops *const *table)
{
    memset(r, 0, sizeof(*r));
    for (unsigned i = 0; table[i] && i < SERVICES_MAX; i++)
        service_init(&r->svc[r->count++], table[i], app);
}

void services_deinit(struct service_registry *r)
{
    for (unsigned i = 0; i < r->count; i++)
        service_deinit(&r->svc[i]);
    r->count = 0;
}

unsigned services_start(struct service_registry *r, const struct bmsgw_config *cfg)
{
    unsigned running = 0;
    for (unsigned i = 0; i < r->count; i++) {
        struct service *s = &r->svc[i];
        if (!s->ops->enabled(cfg)) {
            service_set_state(s, SERVICE_DISABLED, NULL);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        s->last_error[0] = '\0';
        pthread_mutex_unlock(&s->lock);
        service_set_state(s, SERVICE_STARTING, NULL);
        service_progress(s);
        int rc = s->ops->start(s);
        if (rc < 0) {
            pthread_mutex_lock(&s->lock);
            bool has_reason = s->last_error[0] != '\0';
            pthread_mutex_unlock(&s->lock);
            if (has_reason)
                service_set_state(s, SERVICE_DOWN, NULL);
            else
                service_set_state(s, SERVICE_DOWN, "start failed: %s", strerror(-rc));
            continue;
        }
        running++;
    }
    return running;
}

void services_stop(struct service_registry *r, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (unsigned i = r->count; i-- > 0;) {
        struct service *s = &r->svc[i];
        pthread_mutex_lock(&s->lock);
        enum service_state st = s->state;
        pthread_mutex_unlock(&s->lock);
        if (st == SERVICE_DISABLED || st == SERVICE_STOPPED || st == SERVICE_DOWN)
            continue;
        int64_t left = deadline - clock_mono_ms();
        int rc = s->ops->stop(s, left > 0 ? (int)left : 0);
        if (rc < 0)
            log_err("service %s did not stop in time", s->ops->name);
        service_set_state(s, SERVICE_STOPPED, NULL);
    }
}

void services_reload(struct service_registry *r, const struct bmsgw_config *cfg)
{
    for (unsigned i = 0; i < r->count; i++) {
        struct service *s = &r->svc[i];
        pthread_mutex_lock(&s->lock);
        bool active = s->state == SERVICE_RUNNING || s->state == SERVICE_DEGRADED;
        pthread_mutex_unlock(&s->lock);
        if (active && s->ops->reload)
            s->ops->reload(s, cfg);
    }
}

void services_summary(struct service_registry *r, char *buf, unsigned size)
{
    unsigned used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < r->count && used < size; i++) {
        struct service_status st;
        service_get_status(&r->svc[i], &st);
        bool why = st.last_error[0] && (st.state == SERVICE_DEGRADED || st.state == SERVICE_DOWN);
        int n = snprintf(buf + used, size - used, "%s%s %s%s%s%s", i ? ", " : "", st.name,
                         service_state_name(st.state), why ? " (" : "", why ? st.last_error : "",
                         why ? ")" : "");
        if (n < 0)
            break;
        used += (unsigned)n;
    }
    if (r->count == 0)
        snprintf(buf, size, "no services built in");
}

const char *services_unhealthy(struct service_registry *r, int64_t now_ms)
{
    for (unsigned i = 0; i < r->count; i++)
        if (!service_healthy(&r->svc[i], now_ms))
            return r->svc[i].ops->name;
    return NULL;
}

struct service *services_find(struct service_registry *r, const char *name)
{
    for (unsigned i = 0; i < r->count; i++)
        if (strcmp(r->svc[i].ops->name, name) == 0)
            return &r->svc[i];
    return NULL;
}
