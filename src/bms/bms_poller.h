/* SPDX-License-Identifier: MIT */
/* bms_poller.h — one poller thread per serial port (string), and the "bms" service around
 * them. Private to src/bms. */
#ifndef BMSGW_BMS_POLLER_H
#define BMSGW_BMS_POLLER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bms_link.h"
#include "bmsgw/clock.h"
#include "bmsgw/config.h"
#include "bmsgw/energy.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/model.h"

struct service;
struct bms_service;

#define CYCLE_RING 256

/* Fast-cycle durations, for the p50/p99 of the link health. */
struct cycle_stats {
    uint32_t ring[CYCLE_RING];
    unsigned n, next;
    uint32_t last_us, p50_us, p99_us;
};

void cycle_stats_add(struct cycle_stats *c, uint32_t us);

struct bms_poller {
    struct bms_service *owner;
    unsigned index; /* string index = port index */
    struct cfg_port port;
    const struct bms_driver *drv; /* bms.ports[].type */
    struct bms_range range;       /* its cells and sensors in the system's arrays */
    struct cfg_bms cfg;           /* refreshed when the configuration changes */
    uint64_t cfg_generation;
    char tag[24];
    pthread_t thread;
    bool started;
    int stop_efd;
    _Atomic int64_t alive_ms;  /* last loop, for the service's watchdog */
    _Atomic int state_for_svc; /* the link state, as other threads may read it */

    struct bms_link link;
    enum bmsgw_link_state state;
    int64_t state_since_ms;
    int64_t last_ok_ms;
    uint64_t reconnects;
    uint64_t rejected_samples;
    int fails;      /* consecutive failed fast cycles */
    int goods;      /* consecutive good fast cycles */
    int backoff_ms; /* next reconnect delay */
    int64_t next_connect_ms;
    bool device_present;
    bool need_identity;
    int64_t next_fast_ms, next_slow_ms, next_settings_ms;
    bool online; /* as last published */
    int64_t sample_ms;
    char reason[96];    /* why the link is not up */
    char last_down[96]; /* the reason last logged for a down link (repeats go to debug) */
    enum bmsgw_link_state announced; /* last link_up/link_down put on the bus */
    bool opened_before;
    char sample_error[160];

    struct log_ratelimit rl_sample, rl_block, rl_online, rl_offline;
    struct cycle_stats cycles;
    struct energy_point energy;
    double charged_wh, discharged_wh;

    struct bmsgw_bms_event events[BMSGW_EVENTS_MAX];
    unsigned n_events;
    bool events_baseline;
    uint32_t event_seq;
    uint16_t settings[BMS_REGS_MAX]; /* the settings page as last read */
    bool settings_valid;

    /* slow-cycle reads held for the cycle's next commit (one generation per poll cycle) */
    unsigned staged_mask; /* 1 << enum bms_page */
    struct {
        uint16_t regs[BMS_REGS_MAX];
        int64_t read_ms;
    } staged[BMS_PAGE_COUNT];
};

/* The service's state shared by its threads. */
struct bms_service {
    struct service *svc;
    const struct bmsgw_clock *clk; /* app_clock(): every schedule time and scheduled wait */
    unsigned count;
    struct bms_poller pollers[CFG_MAX_PORTS];
    _Atomic unsigned first_cells; /* the first series cell count accepted since start */
    pthread_mutex_t lock;         /* the service-state summary */
    /* the energy keeper */
    pthread_t keeper;
    bool keeper_started;
    int keeper_efd;
    char energy_path[CFG_PATH_MAX + 16];
    struct energy_counter kept[ENERGY_MAX]; /* counters of strings no longer configured */
    unsigned n_kept;
    char saved_body[8192]; /* the counters last written (to skip unchanged saves) */
    struct log_ratelimit rl_save;
};

/* Monotonic ms on the service's clock (virtual in tests): what every schedule is read on. */
static inline int64_t bms_now_ms(const struct bms_poller *p)
{
    return bmsgw_clock_ms(p->owner->clk);
}

/* bms_poller.c */
void *bms_poller_main(void *arg);

/* bms_publish.c: the snapshot and the event bus */
void bms_publish_link(struct bms_poller *p, int64_t now_ms);
void bms_publish_sample(struct bms_poller *p, const struct bms_sample *s, int64_t now_ms);
void bms_publish_page(struct bms_poller *p, enum bms_page page, const uint16_t *regs,
                      int64_t now_ms);
void bms_publish_offline(struct bms_poller *p, const char *why, int64_t now_ms);
/* A page of the slow cycle (stats, settings, identity): kept for the poller's next commit
 * instead of a generation of its own. bms_publish_bms_events does the same with the event
 * list; bms_publish_staged commits what is still held (0 generations when nothing is). */
void bms_stage_page(struct bms_poller *p, enum bms_page page, const uint16_t *regs, int64_t now_ms);
void bms_publish_staged(struct bms_poller *p, int64_t now_ms);
void bms_publish_event(struct bms_poller *p, enum bmsgw_event_type type, const char *detail);
void bms_publish_bms_events(struct bms_poller *p, const uint16_t *regs, int64_t now_ms);

/* bms_poller.c: a failed request; closes the link and takes it down when the device went
 * away (-ENODEV). Returns true in that case. */
bool bms_poller_lost(struct bms_poller *p, int rc, int64_t now_ms);

/* bms_commands.c: requests from app->bms_cmdq[index] */
void bms_commands_serve(struct bms_poller *p);

/* bms_sample.c: the ranges of the configured strings, each the size its driver needs, in
 * port order (drivers: as app->bms_drivers). */
void bms_layout(const struct cfg_bms *bms, const struct bms_driver *const *drivers,
                struct bms_range out[CFG_MAX_PORTS]);

/* bms_service.c */
void bms_service_changed(struct bms_service *s);
void bms_service_alive(struct bms_service *s, int64_t now_ms);

#endif
