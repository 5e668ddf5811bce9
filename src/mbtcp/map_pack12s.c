/* SPDX-License-Identifier: MIT */
/* map_pack12s.c — the 12S pack map (seed 004): pack values, status and alarm bits, commands. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "bmsgw/mbmap_maps.h"

#define SRC(p) ((const struct mbmap_pack12s_src *)(p))
#define OFF(m) ((int)offsetof(struct mbmap_pack12s_src, m))

static bool get_double(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                       double *v)
{
    (void)g;
    (void)i;
    memcpy(v, (const char *)src + f->arg, sizeof(*v));
    return true;
}

static bool get_u16(const void *src, const struct mbmap_field *f, unsigned g, unsigned i, double *v)
{
    (void)g;
    (void)i;
    uint16_t x;
    memcpy(&x, (const char *)src + f->arg, sizeof(x));
    *v = x;
    return true;
}

static bool get_temp(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                     double *v)
{
    return SRC(src)->has_temp && get_double(src, f, g, i, v);
}

/* 1448 / 1453: high byte from the max-voltage cell index, low byte from the min one; arg = the
 * bit shift (0 for the low 8 bits, 8 for bits 8..15). */
static bool get_cell_index(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                           double *v)
{
    (void)g;
    (void)i;
    unsigned hi = (SRC(src)->max_cell_no >> f->arg) & 0xff;
    unsigned lo = (SRC(src)->min_cell_no >> f->arg) & 0xff;
    *v = hi << 8 | lo;
    return true;
}

static bool get_temp_ids(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                         double *v)
{
    (void)f;
    (void)g;
    (void)i;
    *v = (unsigned)SRC(src)->max_temp_id << 8 | SRC(src)->min_temp_id;
    return true;
}

static bool get_cmd(const void *src, const struct mbmap_field *f, unsigned g, unsigned i, double *v)
{
    (void)g;
    (void)i;
    *v = SRC(src)->cmd[f->arg];
    return true;
}

#define VALUE(k, l, u, a, t, sc, member, getter)                                                   \
    {                                                                                              \
        .key = k, .label = l, .unit = u, .table = MBMAP_REGS, .type = t, .addr = a, .count = 1,    \
        .scale = sc, .arg = OFF(member), .get = getter                                             \
    }

#define CMD(k, l, a, n, lo, hi)                                                                    \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = MBMAP_REGS, .type = MBMAP_U16, .addr = a,       \
        .count = 1, .flags = MBMAP_WRITABLE, .min = lo, .max = hi, .arg = n, .get = get_cmd        \
    }

/* Command register addresses, in enum mbmap_pack12s_cmd order. */
static const uint16_t cmd_addr[MBMAP_PACK12S_CMD_COUNT] = { 1596, 1598,  1599, 1642,
                                                            6452, 10077, 15115 };

/* Names of the bits of 1451 and 1452 (spec order). */
static const char *const status_names[16] = {
    "charging",  "discharging",      "idle",       "balancing",
    "precharge", "forced power-off", "protection", "permanent lock",
};
static const char *const alarm_names[16] = {
    "cell over-voltage", "cell under-voltage",         "over-temperature",
    "under-temperature", "charge over-current",        "discharge over-current",
    "imbalance",         "severe over-voltage (lock)", "data stale",
};

static const struct mbmap_field fields[] = {
    VALUE("nominal_capacity", "nominal capacity", "Ah", 1440, MBMAP_U16, 0.1, nominal_ah,
          get_double),
    VALUE("stored_capacity", "stored capacity", "Ah", 1441, MBMAP_U16, 0.1, stored_ah, get_double),
    VALUE("current", "current", "A", 1442, MBMAP_S16, 0.1, current_a, get_double),
    VALUE("pack_voltage", "pack voltage", "V", 1443, MBMAP_U16, 0.01, pack_v, get_double),
    VALUE("max_cell_voltage", "max cell voltage", "mV", 1444, MBMAP_U16, 1, max_cell_mv, get_u16),
    VALUE("min_cell_voltage", "min cell voltage", "mV", 1445, MBMAP_U16, 1, min_cell_mv, get_u16),
    VALUE("max_temperature", "max cell temperature", "degC", 1446, MBMAP_S16, 0.1, max_temp_c,
          get_temp),
    VALUE("min_temperature", "min cell temperature", "degC", 1447, MBMAP_S16, 0.1, min_temp_c,
          get_temp),
    { .key = "cell_index_low",
      .label = "max/min voltage cell index (low bytes)",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = 1448,
      .count = 1,
      .arg = 0,
      .get = get_cell_index },
    { .key = "temp_sensor_ids",
      .label = "max/min temperature sensor ids",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = 1449,
      .count = 1,
      .get = get_temp_ids },
    VALUE("soh", "SOH", "%", 1450, MBMAP_U16, 0.01, soh_pct, get_double),
    { .key = "status",
      .label = "working status bits",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = 1451,
      .count = 1,
      .arg = OFF(status_bits),
      .get = get_u16,
      .bit_names = status_names },
    { .key = "alarms",
      .label = "alarm bits",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .flags = MBMAP_ALARM,
      .addr = 1452,
      .count = 1,
      .arg = OFF(alarm_bits),
      .get = get_u16,
      .bit_names = alarm_names },
    { .key = "cell_index_high",
      .label = "max/min voltage cell index (high bytes)",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = 1453,
      .count = 1,
      .arg = 8,
      .get = get_cell_index },
    CMD("cmd04_balance_mode", "cmd04 balance mode", 1596, MBMAP_PACK12S_CMD04, 0, 65535),
    CMD("cmd05_reserved", "cmd05 reserved", 1598, MBMAP_PACK12S_CMD05, 0, 65535),
    CMD("cmd07_compensation", "cmd07 compensation coefficient", 1599, MBMAP_PACK12S_CMD07, 37, 37),
    CMD("cmd06_release_protection", "cmd06 release protection and precharge", 1642,
        MBMAP_PACK12S_CMD06, 0, 65535),
    CMD("cmd03_power_off", "cmd03 force power-off", 6452, MBMAP_PACK12S_CMD03, 0, 65535),
    CMD("cmd02_power_on", "cmd02 release forced power-off", 10077, MBMAP_PACK12S_CMD02, 0, 65535),
    CMD("cmd01_decode", "cmd01 decode", 15115, MBMAP_PACK12S_CMD01, 0, 65535),
};

static const struct mbmap_range ranges[] = {
    { MBMAP_REGS, MBMAP_LIVE, 1440, 1451, "pack values" },
    { MBMAP_REGS, 0, 1452, 1452, "alarm bits" },
    { MBMAP_REGS, MBMAP_LIVE, 1453, 1453, "cell index high bytes" },
    { MBMAP_REGS, 0, 1596, 1596, "cmd04" },
    { MBMAP_REGS, 0, 1598, 1599, "cmd05, cmd07" },
    { MBMAP_REGS, 0, 1642, 1642, "cmd06" },
    { MBMAP_REGS, 0, 6452, 6452, "cmd03" },
    { MBMAP_REGS, 0, 10077, 10077, "cmd02" },
    { MBMAP_REGS, 0, 15115, 15115, "cmd01" },
};

const struct mbmap mbmap_pack12s = {
    .name = "pack12s",
    .title = "12S pack",
    .kind = MBMAP_PACK12S,
    .src_size = sizeof(struct mbmap_pack12s_src),
    .ranges = ranges,
    .n_ranges = sizeof(ranges) / sizeof(ranges[0]),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
};

unsigned mbmap_pack12s_cmd_addr(enum mbmap_pack12s_cmd c)
{
    return (unsigned)c < MBMAP_PACK12S_CMD_COUNT ? cmd_addr[c] : 0;
}

int mbmap_pack12s_cmd_of(const struct mbmap_write *w)
{
    long addr = mbmap_field_addr(w->field, w->group, w->item);
    if (w->field->table != MBMAP_REGS)
        return -1;
    for (int c = 0; c < MBMAP_PACK12S_CMD_COUNT; c++)
        if ((long)cmd_addr[c] == addr)
            return c;
    return -1;
}

/* ---- from the snapshot --------------------------------------------------------------------- */

/* 1-based number of a position counted across the strings (cells or sensors). */
static uint16_t global_no(const struct bmsgw_system *sys, struct bmsgw_pos p, bool sensors)
{
    if (p.string < 0 || p.no == 0)
        return 0;
    unsigned before = 0;
    for (int s = 0; s < p.string && s < BMSGW_MAX_STRINGS; s++)
        before += sensors ? sys->strings[s].sensor_count : sys->strings[s].cell_count;
    unsigned n = before + p.no;
    return n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
}

static bool alarm_on(const struct bmsgw_system *sys, enum bmsgw_alarm_id id)
{
    return sys->alarms.a[id].level == BMSGW_LEVEL_ALARM;
}

static uint16_t alarm_bits(const struct bmsgw_system *sys, bool stale)
{
    uint16_t b = 0;
    if (alarm_on(sys, BMSGW_ALARM_HIGH_VOLTAGE))
        b |= MBMAP_PACK12S_AL_CELL_OV;
    if (alarm_on(sys, BMSGW_ALARM_LOW_VOLTAGE))
        b |= MBMAP_PACK12S_AL_CELL_UV;
    if (alarm_on(sys, BMSGW_ALARM_HIGH_TEMP) || alarm_on(sys, BMSGW_ALARM_HIGH_TEMP_CHARGE))
        b |= MBMAP_PACK12S_AL_OVER_TEMP;
    if (alarm_on(sys, BMSGW_ALARM_LOW_TEMP) || alarm_on(sys, BMSGW_ALARM_LOW_TEMP_CHARGE))
        b |= MBMAP_PACK12S_AL_UNDER_TEMP;
    if (alarm_on(sys, BMSGW_ALARM_HIGH_CHARGE_CURRENT))
        b |= MBMAP_PACK12S_AL_CHARGE_OC;
    if (alarm_on(sys, BMSGW_ALARM_HIGH_DISCHARGE_CURRENT))
        b |= MBMAP_PACK12S_AL_DISCHARGE_OC;
    if (alarm_on(sys, BMSGW_ALARM_CELL_IMBALANCE))
        b |= MBMAP_PACK12S_AL_IMBALANCE;
    if (stale)
        b |= MBMAP_PACK12S_AL_STALE;
    return b;
}

static uint16_t status_bits(const struct bmsgw_system *sys, const struct control_state *ctl)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    uint16_t b = 0;
    if (a->strings_online > 0) {
        if (a->current_a >= MBMAP_IDLE_CURRENT_A)
            b |= MBMAP_PACK12S_ST_CHARGING;
        else if (a->current_a <= -MBMAP_IDLE_CURRENT_A)
            b |= MBMAP_PACK12S_ST_DISCHARGING;
        else
            b |= MBMAP_PACK12S_ST_IDLE;
        if (a->balancing)
            b |= MBMAP_PACK12S_ST_BALANCING;
    }
    if (ctl && ctl->charge_blocked && ctl->discharge_blocked)
        b |= MBMAP_PACK12S_ST_POWER_OFF;
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        if (sys->alarms.a[i].level == BMSGW_LEVEL_ALARM)
            b |= MBMAP_PACK12S_ST_PROTECTION;
    return b;
}

void mbmap_pack12s_from_system(struct mbmap_pack12s_src *out, const struct bmsgw_system *sys,
                               const struct control_state *ctl, const uint16_t *cmd, bool stale)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    memset(out, 0, sizeof(*out));
    out->nominal_ah = a->capacity_ah;
    out->stored_ah = a->capacity_ah * a->soc_pct / 100.0;
    out->current_a = a->current_a;
    out->pack_v = a->pack_v;
    out->max_cell_mv = a->max_cell_mv;
    out->min_cell_mv = a->min_cell_mv;
    out->max_cell_no = global_no(sys, a->max_cell, false);
    out->min_cell_no = global_no(sys, a->min_cell, false);
    out->has_temp = a->temp_count > 0 && a->max_temp_dc != BMSGW_TEMP_ABSENT;
    if (out->has_temp) {
        out->max_temp_c = a->max_temp_dc / 10.0;
        out->min_temp_c = a->min_temp_dc / 10.0;
        out->max_temp_id = (uint8_t)global_no(sys, a->max_temp, true);
        out->min_temp_id = (uint8_t)global_no(sys, a->min_temp, true);
    }
    out->soh_pct = a->soh_pct;
    out->status_bits = status_bits(sys, ctl);
    out->alarm_bits = alarm_bits(sys, stale);
    if (cmd)
        memcpy(out->cmd, cmd, sizeof(out->cmd));
}

void mbmap_pack12s_ids_decode(uint16_t cell_index_low, uint16_t temp_sensor_ids,
                              uint16_t cell_index_high, struct mbmap_pack12s_ids *out)
{
    out->max_cell_no = (uint16_t)((cell_index_high & 0xff00) | (cell_index_low >> 8));
    out->min_cell_no = (uint16_t)((cell_index_high & 0xff) << 8 | (cell_index_low & 0xff));
    out->max_temp_id = (uint8_t)(temp_sensor_ids >> 8);
    out->min_temp_id = (uint8_t)(temp_sensor_ids & 0xff);
}
