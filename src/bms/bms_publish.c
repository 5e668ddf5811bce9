/* SPDX-License-Identifier: MIT */
/* bms_publish.c — what a poller puts into the snapshot (its string only) and on the event bus. */
#include "bms_poller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/bus.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"
#include "bmsgw/snapshot.h"

static struct bmsgw_app *app_of(const struct bms_poller *p)
{
    return p->owner->svc->app;
}

void cycle_stats_add(struct cycle_stats *c, uint32_t us)
{
    c->last_us = us;
    c->ring[c->next] = us;
    c->next = (c->next + 1) % CYCLE_RING;
    if (c->n < CYCLE_RING)
        c->n++;
    /* percentiles over the last CYCLE_RING cycles, refreshed every 16 cycles */
    if (c->n > 1 && c->next % 16 != 0)
        return;
    uint32_t sorted[CYCLE_RING];
    memcpy(sorted, c->ring, c->n * sizeof(sorted[0]));
    for (unsigned i = 1; i < c->n; i++) { /* insertion sort: n <= 256, every 16th cycle */
        uint32_t v = sorted[i];
        unsigned j = i;
        for (; j > 0 && sorted[j - 1] > v; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = v;
    }
    c->p50_us = sorted[(c->n - 1) / 2];
    c->p99_us = sorted[(c->n * 99 + 99) / 100 - 1];
}

static void fill_link(const struct bms_poller *p, struct bmsgw_link *lk)
{
    lk->state = p->state;
    lk->since_ms = p->state_since_ms;
    lk->last_ok_ms = p->last_ok_ms;
    lk->requests = p->link.n.requests;
    lk->timeouts = p->link.n.timeouts;
    lk->crc_errors = p->link.n.crc_errors;
    lk->exceptions = p->link.n.exceptions;
    lk->reconnects = p->reconnects;
    lk->rejected_samples = p->rejected_samples;
    lk->garbage_bytes = p->link.n.garbage_bytes;
    lk->cycle_last_us = p->cycles.last_us;
    lk->cycle_p50_us = p->cycles.p50_us;
    lk->cycle_p99_us = p->cycles.p99_us;
    const char *err = p->state == BMSGW_LINK_UP ? p->sample_error : p->reason;
    if (p->state != BMSGW_LINK_UP && !err[0])
        err = p->link.error;
    snprintf(lk->last_error, sizeof(lk->last_error), "%s", err);
}

/* The slow-cycle reads held for this commit (bms_stage_block, bms_publish_bms_events). */
static void apply_staged(struct bms_poller *p, struct bmsgw_string *st)
{
    for (unsigned b = 0; b < BMS_PAGE_COUNT; b++) {
        if (!(p->staged_mask & (1u << b)))
            continue;
        if (b == BMS_PAGE_EVENTS) {
            memcpy(st->events, p->events, p->n_events * sizeof(p->events[0]));
            st->event_count = (uint16_t)p->n_events;
            st->event_seq = p->event_seq;
        } else {
            p->drv->apply_page((enum bms_page)b, p->staged[b].regs, st, p->staged[b].read_ms);
        }
    }
    p->staged_mask = 0;
}

/* Every commit of the poller starts here: what the slow cycle read since the last one goes out
 * with it, so a poll cycle is one snapshot generation. */
static struct bmsgw_string *begin(struct bms_poller *p, struct bmsgw_system **sys)
{
    *sys = snapshot_write_begin(app_of(p)->snap);
    if ((*sys)->string_count <= p->index)
        (*sys)->string_count = (uint16_t)(p->index + 1);
    struct bmsgw_string *st = &(*sys)->strings[p->index];
    apply_staged(p, st);
    return st;
}

static void commit(struct bms_poller *p, struct bmsgw_string *st, int64_t now_ms)
{
    fill_link(p, &st->link);
    snapshot_write_commit(app_of(p)->snap, now_ms);
}

void bms_publish_link(struct bms_poller *p, int64_t now_ms)
{
    struct bmsgw_system *sys;
    struct bmsgw_string *st = begin(p, &sys);
    commit(p, st, now_ms);
}

void bms_publish_sample(struct bms_poller *p, const struct bms_sample *l, int64_t now_ms)
{
    struct bmsgw_system *sys;
    energy_step(&p->energy, now_ms, l->pack_v * l->current_a,
                energy_max_gap_ms(p->cfg.poll_interval_ms), &p->charged_wh, &p->discharged_wh);
    struct bmsgw_string *st = begin(p, &sys);
    bms_sample_apply(l, sys, p->index, &p->range, p->drv->bms_name, now_ms);
    st->charged_wh = p->charged_wh;
    st->discharged_wh = p->discharged_wh;
    p->sample_error[0] = '\0';
    commit(p, st, now_ms);
    p->sample_ms = now_ms;
    if (!p->online) {
        p->online = true;
        unsigned supp;
        if (log_ratelimit_pass(&p->rl_online, now_ms, 10000, &supp))
            log_info("string online: %u cells, %.2f V, %.1f A, SOC %.1f %% (%u changes since the "
                     "last message)",
                     l->cell_count, l->pack_v, l->current_a, l->soc_pct, supp);
        bms_publish_event(p, BMSGW_EV_STRING_ONLINE, "");
    }
}

void bms_publish_offline(struct bms_poller *p, const char *why, int64_t now_ms)
{
    p->energy.valid = false; /* nothing is known about the gap */
    if (!p->online)
        return;
    struct bmsgw_system *sys;
    struct bmsgw_string *st = begin(p, &sys);
    st->online = false;
    commit(p, st, now_ms);
    p->online = false;
    unsigned supp;
    if (log_ratelimit_pass(&p->rl_offline, now_ms, 10000, &supp))
        log_warn("string offline: %s (%u changes since the last message)", why, supp);
    bms_publish_event(p, BMSGW_EV_STRING_OFFLINE, why);
}

static void keep_settings(struct bms_poller *p, const uint16_t *regs)
{
    unsigned n = p->drv->pages[BMS_PAGE_SETTINGS].count;
    memcpy(p->settings, regs, (n < BMS_REGS_MAX ? n : BMS_REGS_MAX) * sizeof(regs[0]));
    char note[200];
    const char *say = NULL;
    if (!p->settings_valid && p->drv->settings_note) /* told once, on the first read */
        say = p->drv->settings_note(regs, note, sizeof(note));
    if (say)
        log_warn("%s", say);
    p->settings_valid = true;
}

void bms_stage_page(struct bms_poller *p, enum bms_page page, const uint16_t *regs, int64_t now_ms)
{
    if (page >= BMS_PAGE_COUNT || page == BMS_PAGE_EVENTS)
        return;
    unsigned n = p->drv->pages[page].count;
    if (n > BMS_REGS_MAX)
        n = BMS_REGS_MAX;
    memcpy(p->staged[page].regs, regs, n * sizeof(regs[0]));
    p->staged[page].read_ms = now_ms;
    p->staged_mask |= 1u << page;
    if (page == BMS_PAGE_SETTINGS)
        keep_settings(p, regs);
}

void bms_publish_page(struct bms_poller *p, enum bms_page page, const uint16_t *regs,
                      int64_t now_ms)
{
    struct bmsgw_system *sys;
    struct bmsgw_string *st = begin(p, &sys);
    p->drv->apply_page(page, regs, st, now_ms);
    if (page == BMS_PAGE_SETTINGS)
        keep_settings(p, regs);
    commit(p, st, now_ms);
}

void bms_publish_staged(struct bms_poller *p, int64_t now_ms)
{
    if (p->staged_mask)
        bms_publish_link(p, now_ms);
}

void bms_publish_event(struct bms_poller *p, enum bmsgw_event_type type, const char *detail)
{
    struct bus *bus = app_of(p)->bus;
    if (!bus_has_subscribers(bus, BUS_EVENT))
        return;
    struct bmsgw_event e = { .type = (uint8_t)type, .string = (int16_t)p->index };
    bmsgw_event_set_text(e.link.name, sizeof(e.link.name), p->port.name);
    bmsgw_event_set_text(e.link.detail, sizeof(e.link.detail), detail);
    bmsgw_event_publish(bus, &e);
}

static void publish_bms_event(struct bms_poller *p, const struct bmsgw_bms_event *ev)
{
    const char *name = ev->name, *sev = bmsgw_event_severity_name(ev->severity);
    log_notice("BMS event 0x%02X (%s): %s at %u s", ev->id, sev, name, ev->timestamp_s);
    struct bus *bus = app_of(p)->bus;
    if (!bus_has_subscribers(bus, BUS_EVENT))
        return;
    struct bmsgw_event e = { .type = BMSGW_EV_BMS_EVENT, .string = (int16_t)p->index };
    e.bms.id = ev->id;
    e.bms.timestamp_s = ev->timestamp_s;
    e.bms.recovered_by = ev->recovered_by;
    bmsgw_event_set_text(e.bms.name, sizeof(e.bms.name), name);
    bmsgw_event_set_text(e.bms.severity, sizeof(e.bms.severity), sev);
    bmsgw_event_publish(bus, &e);
}

void bms_publish_bms_events(struct bms_poller *p, const uint16_t *regs, int64_t now_ms)
{
    struct bmsgw_bms_event cur[BMSGW_EVENTS_MAX], fresh[BMSGW_EVENTS_MAX];
    unsigned n = p->drv->decode_events(regs, cur);
    unsigned n_new = bms_events_new(p->events, p->n_events, p->events_baseline, cur, n, fresh);
    memcpy(p->events, cur, n * sizeof(cur[0]));
    p->n_events = n;
    p->events_baseline = true;
    p->event_seq += n_new;
    p->staged_mask |= 1u << BMS_PAGE_EVENTS; /* into the cycle's next commit */
    (void)now_ms;
    for (unsigned i = 0; i < n_new; i++)
        publish_bms_event(p, &fresh[i]);
}
