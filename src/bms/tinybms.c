/* SPDX-License-Identifier: MIT */
/* tinybms.c — register lookups, raw<->value conversions with range checks, event names. */
#include "bmsgw/tinybms.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const struct tinybms_reg *tinybms_reg_find_key(const char *key)
{
    for (unsigned i = 0; i < tinybms_reg_count; i++)
        if (strcmp(tinybms_regs[i].key, key) == 0)
            return &tinybms_regs[i];
    return NULL;
}

const struct tinybms_reg *tinybms_reg_find_addr(unsigned addr)
{
    for (unsigned i = 0; i < tinybms_reg_count; i++) {
        const struct tinybms_reg *r = &tinybms_regs[i];
        if (addr >= r->addr && addr < (unsigned)r->addr + r->words)
            return r;
    }
    return NULL;
}

static uint32_t words_u32(const struct tinybms_reg *r, const uint16_t *w)
{
    /* CDAB: the low word sits in the lower register */
    if (r->word_order == TINYBMS_WORDS_CDAB)
        return (uint32_t)w[0] | (uint32_t)w[1] << 16;
    return (uint32_t)w[0] << 16 | (uint32_t)w[1];
}

static void u32_words(const struct tinybms_reg *r, uint32_t v, uint16_t *w)
{
    if (r->word_order == TINYBMS_WORDS_CDAB) {
        w[0] = (uint16_t)(v & 0xFFFF);
        w[1] = (uint16_t)(v >> 16);
    } else {
        w[0] = (uint16_t)(v >> 16);
        w[1] = (uint16_t)(v & 0xFFFF);
    }
}

static uint8_t reg_byte(const struct tinybms_reg *r, uint16_t w)
{
    return r->half == TINYBMS_HIGH_BYTE ? (uint8_t)(w >> 8) : (uint8_t)(w & 0xFF);
}

/* The raw integer an entry holds (not for floats, serials or the event log). */
static int64_t reg_raw(const struct tinybms_reg *r, const uint16_t *w)
{
    switch (r->type) {
    case TINYBMS_I16:
        return (int16_t)w[0];
    case TINYBMS_U32:
        return words_u32(r, w);
    case TINYBMS_U8X2:
        return reg_byte(r, w[0]);
    case TINYBMS_I8X2:
        return (int8_t)reg_byte(r, w[0]);
    default:
        return w[0];
    }
}

int tinybms_reg_value(const struct tinybms_reg *r, const uint16_t *words, unsigned index,
                      double *value)
{
    if (r->type == TINYBMS_SERIAL || r->type == TINYBMS_EVENTS)
        return -EINVAL;
    if (index > 0 && (r->type != TINYBMS_U16 || index >= r->words))
        return -EINVAL;
    if (r->type == TINYBMS_FLOAT32) {
        uint32_t bits = words_u32(r, words);
        float f;
        memcpy(&f, &bits, sizeof(f));
        if (!isfinite(f))
            return -EDOM;
        *value = (double)f * r->scale;
        return 0;
    }
    if (r->type == TINYBMS_I16 && r->absent_min && (int16_t)words[0] == INT16_MIN)
        return -ENODATA;
    *value = (double)reg_raw(r, words + index) * r->scale;
    return 0;
}

/* Allowed raw integers of an entry's type, before its own min/max. */
static void type_limits(const struct tinybms_reg *r, int64_t *lo, int64_t *hi)
{
    switch (r->type) {
    case TINYBMS_I16:
        *lo = INT16_MIN;
        *hi = INT16_MAX;
        break;
    case TINYBMS_U32:
        *lo = 0;
        *hi = UINT32_MAX;
        break;
    case TINYBMS_U8X2:
        *lo = 0;
        *hi = UINT8_MAX;
        break;
    case TINYBMS_I8X2:
        *lo = INT8_MIN;
        *hi = INT8_MAX;
        break;
    default:
        *lo = 0;
        *hi = UINT16_MAX;
        break;
    }
}

static void range_why(const struct tinybms_reg *r, double got, char *why, size_t size)
{
    if (why && size)
        snprintf(why, size, "%s must be %g..%g%s%s (got %g)", r->key, r->min, r->max,
                 r->unit[0] ? " " : "", r->unit, got);
}

static void put_raw(const struct tinybms_reg *r, int64_t raw, uint16_t *w)
{
    switch (r->type) {
    case TINYBMS_U32:
        u32_words(r, (uint32_t)raw, w);
        break;
    case TINYBMS_U8X2:
    case TINYBMS_I8X2:
        if (r->half == TINYBMS_HIGH_BYTE)
            w[0] = (uint16_t)((w[0] & 0x00FF) | ((uint16_t)(raw & 0xFF) << 8));
        else
            w[0] = (uint16_t)((w[0] & 0xFF00) | (uint16_t)(raw & 0xFF));
        break;
    default:
        w[0] = (uint16_t)raw;
        break;
    }
}

/* Within the register's range; a half-step tolerance absorbs the scale's rounding (0.002 %
 * steps, 0.01 Ah steps). */
static bool in_range(const struct tinybms_reg *r, double v)
{
    return v >= r->min - r->scale / 2 && v <= r->max + r->scale / 2;
}

int tinybms_reg_encode(const struct tinybms_reg *r, double value, uint16_t *words, char *why,
                       size_t why_size)
{
    if (r->access != TINYBMS_READ_WRITE || r->type == TINYBMS_FLOAT32) {
        if (why && why_size)
            snprintf(why, why_size, "%s (register %u) is read-only", r->key, r->addr);
        return -EINVAL;
    }
    if (!isfinite(value) || !in_range(r, value)) {
        range_why(r, value, why, why_size);
        return -ERANGE;
    }
    int64_t lo, hi, raw = llround(value / r->scale);
    type_limits(r, &lo, &hi);
    if (raw < lo || raw > hi) {
        range_why(r, value, why, why_size);
        return -ERANGE;
    }
    put_raw(r, raw, words);
    return 0;
}

int tinybms_setting_check(const uint16_t settings[BMSGW_SETTINGS_COUNT], unsigned addr,
                          uint16_t raw, char *why, size_t why_size)
{
    uint16_t copy[BMSGW_SETTINGS_COUNT + 1];
    unsigned found = 0;
    if (addr < BMSGW_SETTINGS_FIRST || addr >= BMSGW_SETTINGS_FIRST + BMSGW_SETTINGS_COUNT) {
        if (why && why_size)
            snprintf(why, why_size, "register %u is not a settings register (%u..%u)", addr,
                     BMSGW_SETTINGS_FIRST, BMSGW_SETTINGS_FIRST + BMSGW_SETTINGS_COUNT - 1);
        return -EINVAL;
    }
    memcpy(copy, settings, sizeof(uint16_t) * BMSGW_SETTINGS_COUNT);
    copy[BMSGW_SETTINGS_COUNT] = 0;
    copy[addr - BMSGW_SETTINGS_FIRST] = raw;
    for (unsigned i = 0; i < tinybms_reg_count; i++) {
        const struct tinybms_reg *r = &tinybms_regs[i];
        if (r->access != TINYBMS_READ_WRITE || addr < r->addr || addr >= r->addr + r->words)
            continue;
        found++;
        double v = (double)reg_raw(r, copy + (r->addr - BMSGW_SETTINGS_FIRST)) * r->scale;
        if (!in_range(r, v)) {
            range_why(r, v, why, why_size);
            return -ERANGE;
        }
    }
    if (!found) {
        if (why && why_size)
            snprintf(why, why_size, "register %u is reserved (not writable)", addr);
        return -EINVAL;
    }
    return 0;
}

const char *tinybms_reg_choice_name(const struct tinybms_reg *r, int value)
{
    for (const struct bms_choice *c = r->choices; c && c->name; c++)
        if (c->value == value)
            return c->name;
    return NULL;
}

enum bmsgw_bms_state tinybms_state(uint16_t status)
{
    switch (status) {
    case TINYBMS_STATUS_CHARGING:
        return BMSGW_BMS_CHARGING;
    case TINYBMS_STATUS_FULL:
        return BMSGW_BMS_FULL;
    case TINYBMS_STATUS_DISCHARGING:
        return BMSGW_BMS_DISCHARGING;
    case TINYBMS_STATUS_REGENERATION:
        return BMSGW_BMS_REGENERATION;
    case TINYBMS_STATUS_IDLE:
        return BMSGW_BMS_IDLE;
    case TINYBMS_STATUS_FAULT:
        return BMSGW_BMS_FAULT;
    default:
        return BMSGW_BMS_UNKNOWN;
    }
}

struct event_def {
    uint8_t id;
    const char *name;
};

static const struct event_def event_defs[] = {
    { 0x02, "Under-voltage cutoff" },
    { 0x03, "Over-voltage cutoff" },
    { 0x04, "Over-temperature cutoff" },
    { 0x05, "Discharging over-current cutoff" },
    { 0x06, "Charging over-current cutoff" },
    { 0x07, "Regeneration over-current cutoff" },
    { 0x0A, "Low-temperature cutoff" },
    { 0x0B, "Charger switch error" },
    { 0x0C, "Load switch error" },
    { 0x0D, "Single-port switch error" },
    { 0x0E, "External current sensor disconnected (BMS restart needed)" },
    { 0x0F, "External current sensor connected (BMS restart needed)" },
    { 0x31, "Fully discharged cutoff" },
    { 0x37, "Low-temperature charging cutoff" },
    { 0x38, "Charging done (charger voltage too high)" },
    { 0x39, "Charging done (charger voltage too low)" },
    { 0x61, "System started" },
    { 0x62, "Charging started" },
    { 0x63, "Charging done" },
    { 0x64, "Charger connected" },
    { 0x65, "Charger disconnected" },
    { 0x66, "Dual-port operation mode activated" },
    { 0x67, "Single-port operation mode activated" },
    { 0x73, "Recovered from over-temperature fault" },
    { 0x74, "Recovered from low-temperature warning" },
    { 0x75, "Recovered from low-temperature fault" },
    { 0x76, "Recovered from charging over-current fault" },
    { 0x77, "Recovered from discharging over-current fault" },
    { 0x78, "Recovered from regeneration over-current fault" },
    { 0x79, "Recovered from over-voltage fault" },
    { 0x7A, "Recovered from fully discharged voltage warning" },
    { 0x7B, "Recovered from under-voltage fault" },
    { 0x7C, "External current sensor connected" },
    { 0x7D, "External current sensor disconnected" },
};

const char *tinybms_event_name(unsigned id)
{
    for (unsigned i = 0; i < sizeof(event_defs) / sizeof(event_defs[0]); i++)
        if (event_defs[i].id == id)
            return event_defs[i].name;
    return "Unknown event";
}

/* Faults that stop discharging too (under-voltage, over-heat, discharge over-current,
 * low-temperature, load or single-port switch error, fully discharged): spec/tinybms.md. */
static bool stops_discharge(unsigned id)
{
    switch (id) {
    case 0x02:
    case 0x04:
    case 0x05:
    case 0x0A:
    case 0x0C:
    case 0x0D:
    case 0x31:
        return true;
    default:
        return false;
    }
}

/* Faults and warnings that have a "recovered from" event (spec/tinybms.md). */
static const struct {
    uint8_t event;
    uint8_t recovery;
} recoveries[] = {
    { 0x02, 0x7B }, /* under-voltage */
    { 0x03, 0x79 }, /* over-voltage */
    { 0x04, 0x73 }, /* over-temperature */
    { 0x05, 0x77 }, /* discharging over-current */
    { 0x06, 0x76 }, /* charging over-current */
    { 0x07, 0x78 }, /* regeneration over-current */
    { 0x0A, 0x75 }, /* low-temperature fault */
    { 0x0E, 0x7C }, /* external current sensor disconnected -> connected */
    { 0x31, 0x7A }, /* fully discharged */
    { 0x37, 0x74 }, /* low-temperature charging (warning) */
};

void tinybms_event_describe(struct bmsgw_bms_event *e)
{
    e->recovered_by = 0;
    for (unsigned i = 0; i < sizeof(recoveries) / sizeof(recoveries[0]); i++)
        if (recoveries[i].event == e->id)
            e->recovered_by = recoveries[i].recovery;
    const char *sev = tinybms_event_severity(e->id);
    e->severity = strcmp(sev, "fault") == 0     ? BMSGW_SEVERITY_FAULT
                  : strcmp(sev, "warning") == 0 ? BMSGW_SEVERITY_WARNING
                                                : BMSGW_SEVERITY_INFO;
    e->flags = (uint8_t)((stops_discharge(e->id) ? BMSGW_EVENT_STOPS_DISCHARGE : 0) |
                         (e->id >= 0x73 && e->id <= 0x7B ? BMSGW_EVENT_RECOVERY : 0));
    e->name = tinybms_event_name(e->id);
}

const char *tinybms_event_severity(unsigned id)
{
    /* the protocol groups ids: faults 0x01-0x30, warnings 0x31-0x60, information 0x61-0x90 */
    if (id >= 0x01 && id <= 0x30)
        return "fault";
    if (id >= 0x31 && id <= 0x60)
        return "warning";
    return "info";
}
