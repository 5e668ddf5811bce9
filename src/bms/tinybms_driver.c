/* SPDX-License-Identifier: MIT */
/* tinybms_driver.c — the TinyBMS as a BMS driver: 115200 8N1 at its fixed address, the poll plan
 * of spec/tinybms.md, its decoding, settings writes and proprietary commands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/log.h"
#include "bmsgw/tinybms.h"
#include "tinybms_link.h"

enum { QUIRK_SPLIT_READ = 1u << 0 }; /* the BMS rejected the 56-register read */

static int read_live(struct bms_link *l, uint16_t *regs)
{
    if (!(l->quirks & QUIRK_SPLIT_READ)) {
        int rc = tinybms_link_read(l, 0, TINYBMS_LIVE_COUNT, regs);
        if (rc != -EREMOTEIO)
            return rc;
        l->quirks |= QUIRK_SPLIT_READ;
        log_notice("the BMS rejected a 56-register read: reading 0-15 and 32-55 instead");
    }
    int rc = tinybms_link_read(l, 0, TINYBMS_MAX_CELLS, regs);
    return rc ? rc : tinybms_link_read(l, 32, TINYBMS_LIVE_COUNT - 32, regs + 32);
}

static int decode_live(const uint16_t *regs, struct bms_sample *out, char *why, size_t why_size)
{
    struct tinybms_live l;
    int rc = tinybms_decode_live(regs, &l, why, why_size);
    if (rc == 0)
        tinybms_sample(&l, out);
    return rc;
}

static void apply_page(enum bms_page page, const uint16_t *regs, struct bmsgw_string *st,
                       int64_t read_ms)
{
    switch (page) {
    case BMS_PAGE_STATS:
        memcpy(st->stats_reg, regs, sizeof(st->stats_reg));
        st->stats_valid = true;
        break;
    case BMS_PAGE_SETTINGS:
        tinybms_settings_apply(regs, st, read_ms);
        break;
    case BMS_PAGE_IDENTITY:
        memcpy(st->ident_reg, regs, sizeof(st->ident_reg));
        if (!st->ident_valid)
            log_info("TinyBMS hardware %u, firmware %u (internal %u), bootloader %u",
                     regs[0] & 0xFF, regs[1] & 0xFF, regs[2], regs[3] & 0xFF);
        st->ident_valid = true;
        break;
    default:
        break;
    }
}

static const char *settings_note(const uint16_t *regs, char *buf, size_t size)
{
    unsigned broadcast = regs[342 - BMSGW_SETTINGS_FIRST] & 0xFF;
    if (broadcast == 0)
        return NULL;
    snprintf(buf, size,
             "the BMS broadcasts on its own (register 342 = %u): the poller resyncs after it, "
             "writing 0 to register 342 turns it off",
             broadcast);
    return buf;
}

static const char *setting_key(unsigned addr)
{
    const struct tinybms_reg *r = tinybms_reg_find_addr(addr);
    return r ? r->key : NULL;
}

static bool setting_at(unsigned i, struct bms_setting *out)
{
    unsigned k = 0;
    for (unsigned j = 0; j < tinybms_reg_count; j++) {
        const struct tinybms_reg *r = &tinybms_regs[j];
        if (r->block != TINYBMS_BLOCK_SETTINGS || k++ != i)
            continue;
        bool rw = r->access == TINYBMS_READ_WRITE && r->type != TINYBMS_FLOAT32;
        *out = (struct bms_setting){ .key = r->key,
                                     .name = r->name,
                                     .unit = r->unit,
                                     .addr = r->addr,
                                     .words = r->words,
                                     .writable = rw,
                                     .min = r->min,
                                     .max = r->max,
                                     .choices = r->choices,
                                     .impl = r };
        return true;
    }
    return false;
}

static int setting_value(const struct bms_setting *s, const uint16_t *page, double *value)
{
    const struct tinybms_reg *r = s->impl;
    return tinybms_reg_value(r, page + (r->addr - BMSGW_SETTINGS_FIRST), 0, value);
}

static int setting_encode(const struct bms_setting *s, double value, uint16_t *words, char *why,
                          size_t why_size)
{
    return tinybms_reg_encode(s->impl, value, words, why, why_size);
}

static int write_one(struct bms_link *l, uint16_t addr, uint16_t value)
{
    struct tinybms_req w = { .fc = TINYBMS_FC_WRITE, .addr = addr, .count = 1, .values = &value };
    return tinybms_link_request(l, &w, NULL, NULL);
}

static int control(struct bms_link *l, enum bms_control what)
{
    static const uint8_t option[] = {
        [BMS_CONTROL_RESET] = TINYBMS_RESET,
        [BMS_CONTROL_CLEAR_EVENTS] = TINYBMS_CLEAR_EVENTS,
        [BMS_CONTROL_CLEAR_STATS] = TINYBMS_CLEAR_STATS,
    };
    if ((unsigned)what >= sizeof(option))
        return -EINVAL;
    struct tinybms_req c = { .fc = TINYBMS_CMD_CONTROL, .option = option[what] };
    return tinybms_link_request(l, &c, NULL, NULL);
}

const struct bms_driver tinybms_driver = {
    .name = "tinybms",
    .bms_name = TINYBMS_NAME,
    .link = { .baud = 115200,
              .parity = 'N',
              .data_bits = 8,
              .stop_bits = 1,
              .slave = TINYBMS_SLAVE },
    .max_cells = TINYBMS_MAX_CELLS,
    .sensors = TINYBMS_SENSORS,
    .open = bms_link_open_serial,
    .close = bms_link_close_serial,
    .live_count = TINYBMS_LIVE_COUNT,
    .read_live = read_live,
    .decode_live = decode_live,
    .pages = { [BMS_PAGE_STATS] = { BMSGW_STATS_FIRST, BMSGW_STATS_COUNT },
               [BMS_PAGE_EVENTS] = { TINYBMS_EVENTS_FIRST, TINYBMS_EVENTS_REGS },
               [BMS_PAGE_SETTINGS] = { BMSGW_SETTINGS_FIRST, BMSGW_SETTINGS_COUNT },
               [BMS_PAGE_IDENTITY] = { BMSGW_IDENT_FIRST, BMSGW_IDENT_COUNT } },
    .read = tinybms_link_read,
    .apply_page = apply_page,
    .decode_events = tinybms_decode_events,
    .settings_note = settings_note,
    .setting_check = tinybms_setting_check,
    .setting_key = setting_key,
    .setting_at = setting_at,
    .setting_value = setting_value,
    .setting_encode = setting_encode,
    .write = write_one,
    .control = control,
};
