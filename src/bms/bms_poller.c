/* SPDX-License-Identifier: MIT */
/* bms_poller.c — one poller thread per BMS, the same for every driver: the link state machine
 * (connecting, up, degraded, down with backoff), the schedule of the driver's poll plan (live
 * read, slow pages, settings, identity), staleness, and reconnection when the device disappears
 * and comes back. */
#include "bms_poller.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_store.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"

#define RECOVER_CYCLES 4   /* good fast cycles that end a degraded state */
#define WAKE_MAX_MS    250 /* the loop wakes at least this often (watchdog, device presence) */

static struct bmsgw_app *app_of(const struct bms_poller *p)
{
    return p->owner->svc->app;
}

static bool device_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void announce(struct bms_poller *p, enum bmsgw_link_state st)
{
    if ((st != BMSGW_LINK_UP && st != BMSGW_LINK_DOWN) || p->announced == st)
        return;
    p->announced = st;
    if (st == BMSGW_LINK_UP)
        bms_publish_event(p, BMSGW_EV_LINK_UP, p->port.device);
    else
        bms_publish_event(p, BMSGW_EV_LINK_DOWN, p->reason);
}

static void log_state(struct bms_poller *p, enum bmsgw_link_state old)
{
    switch (p->state) {
    case BMSGW_LINK_UP:
        if (old == BMSGW_LINK_DEGRADED)
            log_info("link recovered");
        else
            log_notice("link up on %s", p->port.device);
        break;
    case BMSGW_LINK_DEGRADED:
        log_warn("link degraded: %s", p->reason);
        break;
    case BMSGW_LINK_DOWN:
        if (strcmp(p->reason, p->last_down) != 0)
            log_warn("link down: %s", p->reason);
        else
            log_debug("link still down: %s", p->reason);
        snprintf(p->last_down, sizeof(p->last_down), "%s", p->reason);
        break;
    case BMSGW_LINK_CONNECTING:
        if (old != BMSGW_LINK_DOWN || p->last_down[0] == '\0')
            log_info("connecting on %s", p->port.device);
        else
            log_debug("connecting on %s", p->port.device);
        break;
    default:
        break;
    }
}

static void set_state(struct bms_poller *p, enum bmsgw_link_state st, const char *reason,
                      int64_t now_ms)
{
    const char *why = reason ? reason : "";
    if (p->state == st && strcmp(why, p->reason) == 0)
        return;
    enum bmsgw_link_state old = p->state;
    if (p->state != st)
        p->state_since_ms = now_ms;
    p->state = st;
    atomic_store(&p->state_for_svc, st);
    snprintf(p->reason, sizeof(p->reason), "%s", why);
    log_state(p, old);
    announce(p, st);
    bms_publish_link(p, now_ms);
    bms_service_changed(p->owner);
}

static void link_down(struct bms_poller *p, const char *reason, int64_t now_ms)
{
    bms_link_close(&p->link, p->drv);
    p->next_connect_ms = now_ms + p->backoff_ms;
    p->backoff_ms *= 2;
    if (p->backoff_ms > p->cfg.reconnect_max_ms)
        p->backoff_ms = p->cfg.reconnect_max_ms;
    p->device_present = device_exists(p->port.device);
    set_state(p, BMSGW_LINK_DOWN, reason, now_ms);
    bms_publish_offline(p, reason, now_ms);
}

static void try_connect(struct bms_poller *p, int64_t now_ms)
{
    bool present = device_exists(p->port.device);
    if (present && !p->device_present)
        p->next_connect_ms = now_ms; /* it came back: no need to wait for the backoff */
    p->device_present = present;
    if (now_ms < p->next_connect_ms)
        return;
    char note[128], why[128];
    if (!present) {
        snprintf(why, sizeof(why), "%s is not present", p->port.device);
        set_state(p, BMSGW_LINK_DOWN, why, now_ms);
        p->next_connect_ms = now_ms + p->cfg.reconnect_max_ms;
        return;
    }
    if (bms_link_open(&p->link, p->drv, &p->port, note, sizeof(note)) != 0) {
        link_down(p, p->link.error, now_ms);
        return;
    }
    if (note[0])
        log_notice("%s", note);
    p->link.turnaround_ms = p->cfg.timeout_ms;
    p->link.bus = app_of(p)->bus;
    p->link.source = (int)p->index;
    if (p->opened_before)
        p->reconnects++;
    p->opened_before = true;
    p->fails = p->goods = 0;
    p->need_identity = true;
    p->next_fast_ms = p->next_slow_ms = p->next_settings_ms = now_ms;
    set_state(p, BMSGW_LINK_CONNECTING, "", now_ms);
}

bool bms_poller_lost(struct bms_poller *p, int rc, int64_t now_ms)
{
    if (rc != -ENODEV)
        return false;
    p->backoff_ms = p->cfg.reconnect_min_ms;
    link_down(p, p->link.error, now_ms);
    return true;
}

static void cycle_failed(struct bms_poller *p, int64_t now_ms)
{
    char why[160];
    p->fails++;
    p->goods = 0;
    if (p->fails >= p->cfg.fail_threshold) {
        snprintf(why, sizeof(why), "%d failed cycles in a row, last: %s", p->fails, p->link.error);
        link_down(p, why, now_ms);
    } else if (p->state == BMSGW_LINK_UP) {
        set_state(p, BMSGW_LINK_DEGRADED, p->link.error, now_ms);
    } else {
        bms_publish_link(p, now_ms);
    }
}

/* Every string reports the series cell count configured for it (bms.ports[].cells) or, without
 * one, the first count accepted from any string since start: a string with one cell unseen or
 * one too many never enters the limits. */
static int check_cells(struct bms_poller *p, const struct bms_sample *l)
{
    char source[80];
    unsigned want = 0;
    if (p->port.cells > 0) {
        want = (unsigned)p->port.cells;
        snprintf(source, sizeof(source), "bms.ports[%u].cells", p->index);
    } else if (!atomic_compare_exchange_strong(&p->owner->first_cells, &want, l->cell_count)) {
        snprintf(source, sizeof(source),
                 "the first count seen since start; set bms.ports[%u].cells if that is wrong",
                 p->index);
    }
    int rc = bms_sample_check_cells(l, want, source, p->sample_error, sizeof(p->sample_error));
    if (rc == 0 && want) {
        unsigned none = 0;
        atomic_compare_exchange_strong(&p->owner->first_cells, &none, l->cell_count);
    }
    return rc;
}

static void fast_cycle(struct bms_poller *p)
{
    uint16_t regs[BMS_REGS_MAX] = { 0 };
    struct bms_sample l;
    int64_t t0 = clock_mono_us();
    int rc = p->drv->read_live(&p->link, regs);
    int64_t now = bms_now_ms(p);
    if (bms_poller_lost(p, rc, now))
        return;
    if (rc) {
        cycle_failed(p, now);
        return;
    }
    p->fails = 0;
    p->goods++;
    p->last_ok_ms = now;
    if (p->state == BMSGW_LINK_CONNECTING ||
        (p->state == BMSGW_LINK_DEGRADED && p->goods >= RECOVER_CYCLES)) {
        p->backoff_ms = p->cfg.reconnect_min_ms;
        set_state(p, BMSGW_LINK_UP, "", now);
    }
    if (p->drv->decode_live(regs, &l, p->sample_error, sizeof(p->sample_error)) == 0 &&
        check_cells(p, &l) == 0) {
        bms_publish_sample(p, &l, now);
    } else {
        /* the newest sample is not usable: the string is offline until one is (model.h) */
        char why[200];
        p->rejected_samples++;
        unsigned supp;
        if (log_ratelimit_pass(&p->rl_sample, now, 10000, &supp))
            log_warn("sample rejected: %s (%u more since the last message)", p->sample_error, supp);
        snprintf(why, sizeof(why), "sample rejected: %s", p->sample_error);
        if (p->online)
            bms_publish_offline(p, why, now);
        else
            bms_publish_link(p, now);
    }
    /* requests, decoding and publishing; shown from the next publication on */
    cycle_stats_add(&p->cycles, (uint32_t)(clock_mono_us() - t0));
}

static int read_page(struct bms_poller *p, enum bms_page page)
{
    static const char *const names[BMS_PAGE_COUNT] = { "stats", "events", "settings", "identity" };
    uint16_t regs[BMS_REGS_MAX];
    const struct bms_page_def *d = &p->drv->pages[page];
    if (d->count == 0 || d->count > BMS_REGS_MAX)
        return 0; /* the BMS has no such page */
    int rc = p->drv->read(&p->link, d->first, d->count, regs);
    int64_t now = bms_now_ms(p);
    if (rc) {
        unsigned supp;
        if (!bms_poller_lost(p, rc, now) && log_ratelimit_pass(&p->rl_block, now, 30000, &supp))
            log_info("reading the %s block failed: %s", names[page], p->link.error);
        return rc;
    }
    /* held for the next commit (the next fast sample's, normally): the fast sample just went
     * out, and a generation of its own would make the consumers' next message wait */
    if (page == BMS_PAGE_EVENTS)
        bms_publish_bms_events(p, regs, now);
    else
        bms_stage_page(p, page, regs, now);
    return 0;
}

static bool stop_requested(const struct bms_poller *p)
{
    struct pollfd pfd = { .fd = p->stop_efd, .events = POLLIN };
    return poll(&pfd, 1, 0) > 0;
}

/* The other blocks of the plan, when the fast cycle just worked. */
static void aux_cycles(struct bms_poller *p, int64_t now_ms)
{
    if (p->need_identity && read_page(p, BMS_PAGE_IDENTITY) == 0)
        p->need_identity = false;
    if (stop_requested(p))
        return;
    if (bms_link_is_open(&p->link) && now_ms >= p->next_settings_ms) {
        bool ok = read_page(p, BMS_PAGE_SETTINGS) == 0;
        p->next_settings_ms = now_ms + (ok ? p->cfg.settings_interval_ms : 1000);
    }
    if (stop_requested(p))
        return;
    if (bms_link_is_open(&p->link) && now_ms >= p->next_slow_ms) {
        bool ok = read_page(p, BMS_PAGE_STATS) == 0 && bms_link_is_open(&p->link) &&
                  read_page(p, BMS_PAGE_EVENTS) == 0;
        p->next_slow_ms = now_ms + (ok ? p->cfg.slow_interval_ms : 1000);
    }
}

static void run_due(struct bms_poller *p, int64_t now_ms)
{
    if (now_ms < p->next_fast_ms)
        return;
    p->next_fast_ms += p->cfg.poll_interval_ms;
    if (p->next_fast_ms <= now_ms)
        p->next_fast_ms = now_ms + p->cfg.poll_interval_ms;
    fast_cycle(p);
    if (bms_link_is_open(&p->link) && p->fails == 0)
        aux_cycles(p, bms_now_ms(p));
}

static void check_stale(struct bms_poller *p, int64_t now_ms)
{
    char why[96];
    if (!p->online || now_ms - p->sample_ms <= p->cfg.stale_after_ms)
        return;
    snprintf(why, sizeof(why), "no accepted sample for %lld ms",
             (long long)(now_ms - p->sample_ms));
    if (p->sample_error[0] && p->last_ok_ms > p->sample_ms)
        snprintf(why, sizeof(why), "samples rejected: %s", p->sample_error);
    bms_publish_offline(p, why, now_ms);
}

static void refresh_config(struct bms_poller *p)
{
    struct config_store *store = app_of(p)->config;
    if (!store || config_store_generation(store) == p->cfg_generation)
        return;
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return;
    p->cfg_generation = config_store_get(store, cfg);
    p->cfg = cfg->bms;
    free(cfg);
    p->link.turnaround_ms = p->cfg.timeout_ms;
}

static void wait_next(struct bms_poller *p, int64_t now_ms)
{
    int64_t due = now_ms + WAKE_MAX_MS;
    if (bms_link_is_open(&p->link) && p->next_fast_ms < due)
        due = p->next_fast_ms;
    if (!bms_link_is_open(&p->link) && p->next_connect_ms < due)
        due = p->next_connect_ms;
    struct cmdq *q = app_of(p)->bms_cmdq[p->index];
    struct pollfd pfd[2] = { { .fd = p->stop_efd, .events = POLLIN },
                             { .fd = q ? cmdq_fd(q) : -1, .events = POLLIN } };
    int ms = due > now_ms ? (int)(due - now_ms) : 0;
    if (bmsgw_clock_poll(p->owner->clk, pfd, 2, ms) < 0 && errno != EINTR)
        clock_sleep_ms(ms);
}

void *bms_poller_main(void *arg)
{
    struct bms_poller *p = arg;
    char thread_name[16];
    snprintf(thread_name, sizeof(thread_name), "%.15s", p->tag); /* top -H, ps -L */
    pthread_setname_np(pthread_self(), thread_name);
    log_set_thread(p->tag);
    p->device_present = device_exists(p->port.device);
    p->next_connect_ms = bms_now_ms(p);
    p->backoff_ms = p->cfg.reconnect_min_ms;
    while (!stop_requested(p)) {
        int64_t now = bms_now_ms(p);
        atomic_store(&p->alive_ms, now);
        bms_service_alive(p->owner, now);
        refresh_config(p);
        if (!bms_link_is_open(&p->link))
            try_connect(p, now);
        else
            run_due(p, now);
        check_stale(p, bms_now_ms(p));
        bms_commands_serve(p);
        wait_next(p, bms_now_ms(p));
    }
    bms_publish_staged(p, bms_now_ms(p));
    bms_link_close(&p->link, p->drv);
    return NULL;
}
