/* SPDX-License-Identifier: MIT */
/* bms_service.c — the "bms" service: start/stop of the pollers, the service state summary, and
 * the energy keeper that restores and saves the counters. */
#include "bms_poller.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bmsgw-build.h"
#include "bmsgw/app.h"
#include "bmsgw/bms_service.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_store.h"
#include "bmsgw/persist.h"
#include "bmsgw/snapshot.h"

#define SAVE_EVERY_MS 60000
#define ALIVE_MS      10000

void bms_service_changed(struct bms_service *s)
{
    char why[160] = "";
    size_t used = 0;
    pthread_mutex_lock(&s->lock);
    for (unsigned i = 0; i < s->count; i++) {
        const struct bms_poller *p = &s->pollers[i];
        enum bmsgw_link_state st = (enum bmsgw_link_state)atomic_load(&p->state_for_svc);
        if (st == BMSGW_LINK_UP || used >= sizeof(why))
            continue;
        int n = snprintf(why + used, sizeof(why) - used, "%s%s: link %s", used ? ", " : "",
                         p->port.name, bmsgw_link_state_name(st));
        if (n > 0)
            used += (size_t)n;
    }
    if (used)
        service_set_state(s->svc, SERVICE_DEGRADED, "%s", why);
    else
        service_set_state(s->svc, SERVICE_RUNNING, NULL);
    pthread_mutex_unlock(&s->lock);
}

void bms_service_alive(struct bms_service *s, int64_t now_ms)
{
    for (unsigned i = 0; i < s->count; i++)
        if (now_ms - atomic_load(&s->pollers[i].alive_ms) > ALIVE_MS)
            return; /* one poller is stuck: the watchdog must notice */
    service_progress(s->svc);
}

/* ---- energy ------------------------------------------------------------------------------- */

static void energy_restore(struct bms_service *s)
{
    char *text = NULL, why[128];
    size_t len;
    struct energy_counter c[ENERGY_MAX];
    int rc = persist_read(s->energy_path, &text, &len, ENERGY_FILE_MAX);
    if (rc == -ENOENT)
        return;
    int n = rc ? rc : energy_decode(text, c, ENERGY_MAX, why, sizeof(why));
    free(text);
    if (n < 0) {
        char bad[sizeof(s->energy_path) + 8];
        snprintf(bad, sizeof(bad), "%s.bad", s->energy_path);
        log_err("%s cannot be used (%s): kept as %s, the energy counters start at 0",
                s->energy_path, rc ? strerror(-rc) : why, bad);
        if (rename(s->energy_path, bad) != 0)
            log_err("cannot rename %s: %s", s->energy_path, strerror(errno));
        return;
    }
    for (int k = 0; k < n; k++) {
        bool used = false;
        for (unsigned i = 0; i < s->count && !used; i++) {
            struct bms_poller *p = &s->pollers[i];
            if (strcmp(p->port.name, c[k].name) == 0) {
                p->charged_wh = c[k].charged_wh;
                p->discharged_wh = c[k].discharged_wh;
                used = true;
            }
        }
        if (!used) /* a string no longer configured keeps its counters in the file */
            s->kept[s->n_kept++] = c[k];
    }
    log_info("energy counters restored from %s", s->energy_path);
}

static void energy_save(struct bms_service *s)
{
    struct bmsgw_system *sys = malloc(sizeof(*sys));
    struct energy_counter c[ENERGY_MAX];
    unsigned n = 0;
    if (!sys)
        return;
    snapshot_copy(s->svc->app->snap, sys);
    for (unsigned i = 0; i < s->count && i < sys->string_count; i++) {
        snprintf(c[n].name, sizeof(c[n].name), "%s", s->pollers[i].port.name);
        c[n].charged_wh = sys->strings[i].charged_wh;
        c[n].discharged_wh = sys->strings[i].discharged_wh;
        n++;
    }
    free(sys);
    for (unsigned k = 0; k < s->n_kept && n < ENERGY_MAX; k++)
        c[n++] = s->kept[k];
    char *text = energy_encode(c, n, bmsgw_clock_real_ms(s->clk));
    /* the time stamp changes every save: compare what matters, the counters */
    char *body = text ? strstr(text, "\"system\"") : NULL;
    if (body && strcmp(body, s->saved_body) != 0) {
        int rc = persist_write(s->energy_path, text, strlen(text), 0644);
        if (rc) {
            unsigned supp;
            if (log_ratelimit_pass(&s->rl_save, bmsgw_clock_ms(s->clk), 600000, &supp))
                log_warn("cannot save %s: %s", s->energy_path, strerror(-rc));
        } else {
            snprintf(s->saved_body, sizeof(s->saved_body), "%s", body);
        }
    }
    free(text);
}

static void *keeper_main(void *arg)
{
    struct bms_service *s = arg;
    log_set_thread("bms:energy");
    for (;;) {
        struct pollfd pfd = { .fd = s->keeper_efd, .events = POLLIN };
        int rc = bmsgw_clock_poll(s->clk, &pfd, 1, SAVE_EVERY_MS);
        if (rc > 0)
            break;
        if (rc == 0)
            energy_save(s);
    }
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------- */

static void seed_strings(struct bms_service *s, int64_t now_ms)
{
    struct bmsgw_system *sys = snapshot_write_begin(s->svc->app->snap);
    if (sys->string_count < s->count)
        sys->string_count = (uint16_t)s->count;
    for (unsigned i = 0; i < s->count; i++) {
        struct bms_poller *p = &s->pollers[i];
        struct bmsgw_string *st = &sys->strings[i];
        const struct bms_range *r = &p->range;
        snprintf(st->name, sizeof(st->name), "%s", p->port.name);
        st->driver = p->drv;
        st->cell_first = r->cell_first;
        st->sensor_first = r->sensor_first;
        st->sensor_count = r->sensor_count;
        for (unsigned k = 0; k < r->sensor_count; k++)
            sys->sensor_dc[r->sensor_first + k] = BMSGW_TEMP_ABSENT;
        if (sys->cell_count < r->cell_first + r->cell_count)
            sys->cell_count = (uint16_t)(r->cell_first + r->cell_count);
        if (sys->sensor_count < r->sensor_first + r->sensor_count)
            sys->sensor_count = (uint16_t)(r->sensor_first + r->sensor_count);
        st->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
        st->charged_wh = p->charged_wh;
        st->discharged_wh = p->discharged_wh;
        st->link.state = BMSGW_LINK_CONNECTING;
        st->link.since_ms = now_ms;
    }
    snapshot_write_commit(s->svc->app->snap, now_ms);
}

static int poller_init(struct bms_service *s, unsigned i, const struct bmsgw_config *cfg,
                       const struct bms_range *range, uint64_t gen, int64_t now_ms)
{
    struct bms_poller *p = &s->pollers[i];
    p->owner = s;
    p->index = i;
    p->port = cfg->bms.ports[i];
    p->drv = bms_driver_pick(s->svc->app->bms_drivers, &p->port);
    p->range = *range;
    p->cfg = cfg->bms;
    p->cfg_generation = gen;
    snprintf(p->tag, sizeof(p->tag), "bms:%.19s", cfg->bms.ports[i].name);
    p->link.fd = -1;
    p->state = BMSGW_LINK_CONNECTING;
    atomic_store(&p->state_for_svc, BMSGW_LINK_CONNECTING);
    atomic_store(&p->alive_ms, now_ms);
    p->state_since_ms = now_ms;
    p->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return p->stop_efd < 0 ? -errno : 0;
}

static void service_free(struct bms_service *s)
{
    for (unsigned i = 0; i < s->count; i++)
        if (s->pollers[i].stop_efd >= 0)
            close(s->pollers[i].stop_efd);
    if (s->keeper_efd >= 0)
        close(s->keeper_efd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int bms_stop(struct service *svc, int timeout_ms);

static int start_threads(struct bms_service *s)
{
    for (unsigned i = 0; i < s->count; i++) {
        struct bms_poller *p = &s->pollers[i];
        int rc = pthread_create(&p->thread, NULL, bms_poller_main, p);
        if (rc)
            return -rc;
        p->started = true;
    }
    if (s->energy_path[0]) {
        int rc = pthread_create(&s->keeper, NULL, keeper_main, s);
        if (rc)
            return -rc;
        s->keeper_started = true;
    }
    return 0;
}

static int bms_start(struct service *svc)
{
    struct bms_service *s = calloc(1, sizeof(*s));
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    int rc = 0;
    if (!s || !cfg) {
        free(s);
        free(cfg);
        return -ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->svc = svc;
    s->clk = app_clock(svc->app);
    svc->priv = s;
    s->keeper_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t gen = config_store_get(svc->app->config, cfg);
    int64_t now = bmsgw_clock_ms(s->clk);
    s->count = (unsigned)cfg->bms.port_count;
    struct bms_range ranges[CFG_MAX_PORTS];
    bms_layout(&cfg->bms, svc->app->bms_drivers, ranges);
    for (unsigned i = 0; i < s->count; i++)
        s->pollers[i].stop_efd = -1;
    for (unsigned i = 0; i < s->count && rc == 0; i++)
        rc = poller_init(s, i, cfg, &ranges[i], gen, now);
    if (cfg->state_dir[0])
        snprintf(s->energy_path, sizeof(s->energy_path), "%s/%s", cfg->state_dir, ENERGY_FILE);
    free(cfg);
    if (rc || s->keeper_efd < 0) {
        service_free(s);
        svc->priv = NULL;
        return rc ? rc : -EMFILE;
    }
    if (s->energy_path[0])
        energy_restore(s);
    seed_strings(s, now);
    for (unsigned i = 0; i < s->count; i++)
        if (svc->app->bms_cmdq[i])
            cmdq_reopen(svc->app->bms_cmdq[i]);
    bms_service_changed(s);
    rc = start_threads(s);
    if (rc) {
        service_set_state(svc, SERVICE_DOWN, "cannot start a poller thread: %s", strerror(-rc));
        bms_stop(svc, 2000);
    }
    return rc;
}

static int join_by(pthread_t t, int64_t deadline_ms)
{
    int64_t left = deadline_ms - clock_mono_ms();
    return clock_join_ms(t, left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left);
}

static int bms_stop(struct service *svc, int timeout_ms)
{
    struct bms_service *s = svc->priv;
    uint64_t one = 1;
    bool stuck = false;
    if (!s)
        return 0;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (unsigned i = 0; i < s->count; i++)
        if (s->pollers[i].started && write(s->pollers[i].stop_efd, &one, sizeof(one)) < 0)
            stuck = true;
    if (s->keeper_started && write(s->keeper_efd, &one, sizeof(one)) < 0)
        stuck = true;
    for (unsigned i = 0; i < s->count; i++)
        if (s->pollers[i].started && join_by(s->pollers[i].thread, deadline) != 0)
            stuck = true;
    bool keeper_gone = !s->keeper_started || join_by(s->keeper, deadline) == 0;
    /* the counters come from the snapshot: saving them is safe even beside a stuck poller */
    if (s->energy_path[0] && keeper_gone)
        energy_save(s);
    if (stuck || !keeper_gone)
        return -ETIMEDOUT; /* threads left behind keep their state */
    for (unsigned i = 0; i < s->count; i++)
        if (svc->app->bms_cmdq[i])
            cmdq_shutdown(svc->app->bms_cmdq[i]);
    service_free(s);
    svc->priv = NULL;
    return 0;
}

static bool bms_enabled(const struct bmsgw_config *cfg)
{
    return BMSGW_WITH_BMS && cfg->bms.port_count > 0;
}

const struct service_ops bms_service_ops = {
    .name = "bms",
    .enabled = bms_enabled,
    .start = bms_start,
    .stop = bms_stop,
    .watchdog_ms = 15000,
};
