/* SPDX-License-Identifier: MIT */
/* gateway.c — the daemon's data behind the maps: snapshot copy, staleness, operator commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/mbmap_maps.h"
#include "bmsgw/mbtcp_service.h"
#include "bmsgw/snapshot.h"

/* Maps that show the operator blocks are reloaded this often (blocks change without a commit). */
#define CONTROL_RECHECK_MS 250

struct mbtcp_gateway {
    struct snapshot *snap;
    struct control *control;
    struct config_store *store;
    uint64_t cfg_gen;
    struct bmsgw_config *cfg;
    struct bmsgw_system *sys;
    uint64_t sys_gen;
    bool have_sys;
    uint16_t cmd[MBMAP_PACK12S_CMD_COUNT];
    struct mbmap_testpattern tp;
};

struct mbtcp_gateway *mbtcp_gateway_new(struct snapshot *snap, struct control *control,
                                        struct config_store *store, int64_t start_ms)
{
    struct mbtcp_gateway *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->snap = snap;
    g->control = control;
    g->store = store;
    g->cfg = malloc(sizeof(*g->cfg));
    g->sys = calloc(1, sizeof(*g->sys));
    if (!g->cfg || !g->sys) {
        mbtcp_gateway_free(g);
        return NULL;
    }
    if (store)
        g->cfg_gen = config_store_get(store, g->cfg);
    else
        config_defaults(g->cfg);
    mbmap_testpattern_init(&g->tp, start_ms);
    return g;
}

void mbtcp_gateway_free(struct mbtcp_gateway *g)
{
    if (!g)
        return;
    free(g->cfg);
    free(g->sys);
    free(g);
}

static void refresh(struct mbtcp_gateway *g)
{
    if (g->store && config_store_generation(g->store) != g->cfg_gen)
        g->cfg_gen = config_store_get(g->store, g->cfg);
    if (!g->have_sys || snapshot_generation(g->snap) != g->sys_gen) {
        g->sys_gen = snapshot_copy(g->snap, g->sys);
        g->have_sys = true;
    }
}

static void gw_load(void *ctx, int kind, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    struct mbtcp_gateway *g = ctx;
    struct control_state cs = { 0 };
    if (kind == MBMAP_TESTPATTERN) {
        mbmap_testpattern_advance(&g->tp, now_ms);
        mbmap_testpattern_source(&g->tp, clock_real_ms() / 1000, src);
        info->valid_until_ms = mbmap_testpattern_next_tick_ms(&g->tp);
        return;
    }
    refresh(g);
    int stale_after = g->cfg->bms.stale_after_ms;
    int64_t age = bmsgw_system_age_ms(g->sys, now_ms);
    info->stale = age > stale_after;
    info->valid_until_ms = info->stale ? 0 : now_ms + (stale_after - age) + 1;
    if (g->control)
        control_get(g->control, &cs);
    if (kind == MBMAP_MEGA || kind == MBMAP_PACK12S) {
        int64_t recheck = now_ms + CONTROL_RECHECK_MS;
        if (!info->valid_until_ms || recheck < info->valid_until_ms)
            info->valid_until_ms = recheck;
    }
    switch (kind) {
    case MBMAP_MEGA:
        mbmap_mega_from_system(src, g->sys, &cs, info->stale);
        break;
    case MBMAP_TESCOM:
        mbmap_tescom_from_system(src, g->sys, &g->cfg->alarms, info->stale);
        break;
    case MBMAP_PACK12S:
        mbmap_pack12s_from_system(src, g->sys, &cs, g->cmd, info->stale);
        break;
    default:
        break;
    }
}

static void set_block(struct mbtcp_gateway *g, enum control_dir dir, bool blocked, const char *by,
                      int64_t now_ms)
{
    if (g->control && control_set_block(g->control, dir, blocked, by, now_ms))
        log_notice("%s %s by %s", dir == CONTROL_CHARGE ? "charging" : "discharging",
                   blocked ? "blocked" : "released", by);
}

static int write_mega(struct mbtcp_gateway *g, const struct mbmap_write *w, unsigned n,
                      int64_t now_ms)
{
    for (unsigned k = 0; k < n; k++) {
        long addr = mbmap_field_addr(w[k].field, w[k].group, w[k].item);
        bool on = w[k].value != 0;
        if (w[k].field->table != MBMAP_COILS)
            return MBMAP_EX_ILLEGAL_ADDRESS;
        if (addr == MBMAP_MEGA_COIL_CHARGE_ENABLE) {
            set_block(g, CONTROL_CHARGE, !on, "modbus coil 100", now_ms);
        } else if (addr == MBMAP_MEGA_COIL_DISCHARGE_ENABLE) {
            set_block(g, CONTROL_DISCHARGE, !on, "modbus coil 101", now_ms);
        } else if (addr == MBMAP_MEGA_COIL_ACK_ALERTS && on && g->control) {
            control_request_ack_all(g->control);
            log_notice("acknowledge all alerts requested by modbus coil 102");
        }
    }
    return MBMAP_EX_NONE;
}

static int write_pack12s(struct mbtcp_gateway *g, const struct mbmap_write *w, unsigned n,
                         int64_t now_ms)
{
    for (unsigned k = 0; k < n; k++) {
        int c = mbmap_pack12s_cmd_of(&w[k]);
        if (c < 0)
            return MBMAP_EX_ILLEGAL_ADDRESS;
        g->cmd[c] = (uint16_t)w[k].value;
        if (c == MBMAP_PACK12S_CMD03 && g->cmd[c]) {
            set_block(g, CONTROL_CHARGE, true, "pack12s cmd03", now_ms);
            set_block(g, CONTROL_DISCHARGE, true, "pack12s cmd03", now_ms);
        } else if (c == MBMAP_PACK12S_CMD02 && g->cmd[c]) {
            set_block(g, CONTROL_CHARGE, false, "pack12s cmd02", now_ms);
            set_block(g, CONTROL_DISCHARGE, false, "pack12s cmd02", now_ms);
        }
    }
    return MBMAP_EX_NONE;
}

static int gw_write(void *ctx, int kind, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    struct mbtcp_gateway *g = ctx;
    switch (kind) {
    case MBMAP_MEGA:
        return write_mega(g, w, n, now_ms);
    case MBMAP_PACK12S:
        return write_pack12s(g, w, n, now_ms);
    case MBMAP_TESTPATTERN:
        mbmap_testpattern_advance(&g->tp, now_ms);
        return mbmap_testpattern_write(&g->tp, w, n);
    default:
        return MBMAP_EX_ILLEGAL_ADDRESS;
    }
}

void mbtcp_gateway_provider(struct mbtcp_gateway *g, struct mbtcp_provider *out)
{
    *out = (struct mbtcp_provider){ .load = gw_load, .write = gw_write, .ctx = g };
}

void mbtcp_policy_from(struct mbtcp_policy *out, const struct cfg_mbtcp *m)
{
    *out = (struct mbtcp_policy){
        .allow_writes = m->allow_writes,
        .serve_stale = m->serve_stale,
        .idle_timeout_ms = m->idle_timeout_s * 1000,
        .frame_timeout_ms = m->frame_timeout_ms,
    };
}

void mbtcp_server_cfg_from(struct mbtcp_server_cfg *out, const struct bmsgw_config *cfg)
{
    const struct cfg_mbtcp *m = &cfg->mbtcp;
    memset(out, 0, sizeof(*out));
    snprintf(out->bind, sizeof(out->bind), "%s", m->bind);
    out->max_connections = m->max_connections;
    mbtcp_policy_from(&out->policy, m);
    for (int i = 0; i < m->map_count && i < MBTCP_MAX_LISTENERS; i++) {
        out->listeners[out->n_listeners++] = (struct mbtcp_listener_cfg){
            .kind = m->maps[i].kind,
            .port = m->maps[i].port,
            .unit_id = m->maps[i].unit_id,
            .word_order = m->maps[i].word_order,
        };
    }
}
