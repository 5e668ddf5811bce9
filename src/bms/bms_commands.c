/* SPDX-License-Identifier: MIT */
/* bms_commands.c — requests to a poller (bms_cmd.h): settings writes checked by the driver
 * against its register table, written and read back; reset and clears. Served between cycles. */
#include "bms_poller.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_cmd.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"

static int io_failed(struct bms_poller *p, struct cmdq_req *req, int rc, const char *what)
{
    snprintf(req->msg, sizeof(req->msg), "%s: %s", what, p->link.error);
    bms_poller_lost(p, rc, bms_now_ms(p));
    return -EIO;
}

static int read_settings(struct bms_poller *p, struct cmdq_req *req)
{
    uint16_t regs[BMS_REGS_MAX];
    const struct bms_page_def *d = &p->drv->pages[BMS_PAGE_SETTINGS];
    if (d->count == 0 || d->count > BMS_REGS_MAX) {
        snprintf(req->msg, sizeof(req->msg), "a %s has no settings", p->drv->name);
        return -EINVAL;
    }
    int rc = p->drv->read(&p->link, d->first, d->count, regs);
    if (rc)
        return io_failed(p, req, rc, "reading the settings failed");
    bms_publish_page(p, BMS_PAGE_SETTINGS, regs, bms_now_ms(p));
    p->next_settings_ms = bms_now_ms(p) + p->cfg.settings_interval_ms;
    return 0;
}

static int write_setting(struct bms_poller *p, struct cmdq_req *req)
{
    int32_t addr = req->arg[0], raw = req->arg[1];
    if (raw < 0 || raw > 0xFFFF) {
        snprintf(req->msg, sizeof(req->msg), "a register value must be 0..65535 (got %d)", raw);
        return -ERANGE;
    }
    if (!p->settings_valid) { /* the range check needs the other word / byte */
        int rc = read_settings(p, req);
        if (rc)
            return rc;
    }
    int rc = p->drv->setting_check(p->settings, (unsigned)addr, (uint16_t)raw, req->msg,
                                   sizeof(req->msg));
    if (rc)
        return rc;
    uint16_t value = (uint16_t)raw;
    rc = p->drv->write(&p->link, (uint16_t)addr, value);
    if (rc)
        return io_failed(p, req, rc, "the write failed");
    if ((rc = read_settings(p, req)) != 0) {
        snprintf(req->msg, sizeof(req->msg), "written, but the read-back failed: %s",
                 p->link.error);
        return rc;
    }
    uint16_t back = p->settings[addr - p->drv->pages[BMS_PAGE_SETTINGS].first];
    req->out[0] = back;
    const char *key = p->drv->setting_key((unsigned)addr);
    if (back != value) {
        snprintf(req->msg, sizeof(req->msg),
                 "register %d (%s) reads back %u after writing %u: the BMS did not take it", addr,
                 key ? key : "?", back, value);
        log_warn("%s", req->msg);
        return -EBADMSG;
    }
    log_notice("register %d (%s) set to %u", addr, key ? key : "?", value);
    return 0;
}

static int control(struct bms_poller *p, struct cmdq_req *req, enum bms_control option,
                   const char *what)
{
    int rc = p->drv->control(&p->link, option);
    if (rc)
        return io_failed(p, req, rc, what);
    log_notice("%s: done", what);
    if (option == BMS_CONTROL_CLEAR_EVENTS || option == BMS_CONTROL_CLEAR_STATS)
        p->next_slow_ms = bms_now_ms(p); /* show the cleared block soon */
    return 0;
}

static int execute(struct bms_poller *p, struct cmdq_req *req)
{
    if (p->state != BMSGW_LINK_UP && p->state != BMSGW_LINK_DEGRADED) {
        snprintf(req->msg, sizeof(req->msg), "the link to the BMS is %s%s%s",
                 bmsgw_link_state_name(p->state), p->reason[0] ? ": " : "", p->reason);
        return -ENOTCONN;
    }
    switch (req->op) {
    case BMS_CMD_WRITE_SETTING:
        return write_setting(p, req);
    case BMS_CMD_READ_SETTINGS:
        return read_settings(p, req);
    case BMS_CMD_RESET:
        return control(p, req, BMS_CONTROL_RESET, "resetting the BMS");
    case BMS_CMD_CLEAR_EVENTS:
        return control(p, req, BMS_CONTROL_CLEAR_EVENTS, "clearing the event log");
    case BMS_CMD_CLEAR_STATS:
        return control(p, req, BMS_CONTROL_CLEAR_STATS, "clearing the statistics");
    default:
        snprintf(req->msg, sizeof(req->msg), "unknown request %d", req->op);
        return -EINVAL;
    }
}

void bms_commands_serve(struct bms_poller *p)
{
    struct cmdq *q = p->owner->svc->app->bms_cmdq[p->index];
    struct cmdq_req *req;
    if (!q)
        return;
    while ((req = cmdq_take(q)) != NULL) {
        req->result = execute(p, req);
        cmdq_complete(q, req);
    }
}
