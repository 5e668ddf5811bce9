/* SPDX-License-Identifier: MIT */
/* map_mega.c — the mega BMS map (seed 000): 4992 cells, 2304 sensors, status and control coils. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "bmsgw/mbmap_maps.h"

#define SRC(p) ((const struct mbmap_mega_src *)(p))

/* Scalars addressed by offset into the source struct (arg). */
static bool get_scalar(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                       double *v)
{
    (void)g;
    (void)i;
    memcpy(v, (const char *)src + f->arg, sizeof(*v));
    return true;
}

static bool get_temp(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                     double *v)
{
    if (!SRC(src)->has_temp)
        return false;
    return get_scalar(src, f, g, i, v);
}

static bool get_cell(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                     double *v)
{
    (void)f;
    (void)g;
    *v = SRC(src)->cell_mv[i];
    return true;
}

static bool get_sensor(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                       double *v)
{
    (void)f;
    (void)g;
    int16_t dc = SRC(src)->sensor_dc[i];
    *v = dc / 10.0;
    return dc != BMSGW_TEMP_ABSENT;
}

static bool get_status(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                       double *v)
{
    (void)g;
    (void)i;
    *v = SRC(src)->status[f->arg];
    return true;
}

static bool get_control(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                        double *v)
{
    (void)g;
    (void)i;
    const struct mbmap_mega_src *s = SRC(src);
    *v = f->arg == 0 ? s->charge_enabled : f->arg == 1 ? s->discharge_enabled : 0;
    return true;
}

#define OFF(member) ((int)offsetof(struct mbmap_mega_src, member))

#define SCALAR(k, l, u, a, t, sc, member, getter)                                                  \
    {                                                                                              \
        .key = k, .label = l, .unit = u, .table = MBMAP_REGS, .type = t, .addr = a, .count = 1,    \
        .scale = sc, .arg = OFF(member), .get = getter                                             \
    }

#define STATUS(tbl, k, l, a)                                                                       \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = tbl, .type = MBMAP_BIT, .addr = a, .count = 1,  \
        .arg = a, .get = get_status,                                                               \
        .flags = (a) == MBMAP_MEGA_ALARM || (a) == MBMAP_MEGA_WARNING ? MBMAP_ALARM : 0            \
    }

#define CONTROL(k, l, a, n)                                                                        \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = MBMAP_COILS, .type = MBMAP_BIT, .addr = a,      \
        .count = 1, .flags = MBMAP_WRITABLE, .min = 0, .max = 1, .arg = n, .get = get_control      \
    }

static const struct mbmap_field fields[] = {
    { .key = "soc",
      .label = "SOC",
      .unit = "%",
      .table = MBMAP_REGS,
      .type = MBMAP_U32,
      .addr = 1000,
      .count = 1,
      .scale = 0.01,
      .flags = MBMAP_SIM_WRITE,
      .min = 0,
      .max = 100,
      .arg = OFF(soc_pct),
      .get = get_scalar },
    SCALAR("soh", "SOH", "%", 1002, MBMAP_U32, 0.01, soh_pct, get_scalar),
    SCALAR("total_voltage", "total voltage", "V", 1004, MBMAP_U32, 0.01, total_v, get_scalar),
    SCALAR("max_temperature", "max temperature", "degC", 1006, MBMAP_S32, 0.1, max_temp_c,
           get_temp),
    SCALAR("current", "current", "A", 1008, MBMAP_S32, 0.01, current_a, get_scalar),
    { .key = "cell_voltage",
      .label = "voltage",
      .unit = "mV",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = 1010,
      .count = MBMAP_MEGA_CELLS,
      .item_label = "cell",
      .flags = MBMAP_SIM_WRITE,
      .min = 0,
      .max = 65535,
      .get = get_cell },
    { .key = "temperature",
      .label = "temperature",
      .unit = "degC",
      .table = MBMAP_REGS,
      .type = MBMAP_S16,
      .addr = 7000,
      .count = MBMAP_MEGA_SENSORS,
      .item_label = "sensor",
      .scale = 0.1,
      .flags = MBMAP_SIM_WRITE | MBMAP_ABSENT,
      .absent_raw = 0x8000,
      .min = -3276.8,
      .max = 3276.7,
      .get = get_sensor },
    SCALAR("avg_temperature", "average temperature", "degC", 30003, MBMAP_F32, 1, avg_temp_c,
           get_temp),
    SCALAR("avg_cell_voltage", "average cell voltage", "V", 30005, MBMAP_F32, 1, avg_cell_v,
           get_scalar),
    SCALAR("pack_voltage", "pack voltage", "V", 30007, MBMAP_F32, 1, pack_v, get_scalar),

    STATUS(MBMAP_COILS, "online", "system online", MBMAP_MEGA_ONLINE),
    STATUS(MBMAP_COILS, "charging", "charging", MBMAP_MEGA_CHARGING),
    STATUS(MBMAP_COILS, "discharging", "discharging", MBMAP_MEGA_DISCHARGING),
    STATUS(MBMAP_COILS, "balancing", "balancing", MBMAP_MEGA_BALANCING),
    STATUS(MBMAP_COILS, "alarm_active", "alarm active", MBMAP_MEGA_ALARM),
    STATUS(MBMAP_COILS, "warning_active", "warning active", MBMAP_MEGA_WARNING),
    STATUS(MBMAP_COILS, "charge_allowed", "charge allowed", MBMAP_MEGA_CHARGE_ALLOWED),
    STATUS(MBMAP_COILS, "discharge_allowed", "discharge allowed", MBMAP_MEGA_DISCHARGE_ALLOWED),
    CONTROL("charge_enable", "charge enable", MBMAP_MEGA_COIL_CHARGE_ENABLE, 0),
    CONTROL("discharge_enable", "discharge enable", MBMAP_MEGA_COIL_DISCHARGE_ENABLE, 1),
    CONTROL("ack_alerts", "acknowledge all alerts", MBMAP_MEGA_COIL_ACK_ALERTS, 2),

    STATUS(MBMAP_DISCRETE, "input_online", "system online", MBMAP_MEGA_ONLINE),
    STATUS(MBMAP_DISCRETE, "input_charging", "charging", MBMAP_MEGA_CHARGING),
    STATUS(MBMAP_DISCRETE, "input_discharging", "discharging", MBMAP_MEGA_DISCHARGING),
    STATUS(MBMAP_DISCRETE, "input_balancing", "balancing", MBMAP_MEGA_BALANCING),
    STATUS(MBMAP_DISCRETE, "input_alarm_active", "alarm active", MBMAP_MEGA_ALARM),
    STATUS(MBMAP_DISCRETE, "input_warning_active", "warning active", MBMAP_MEGA_WARNING),
    STATUS(MBMAP_DISCRETE, "input_charge_allowed", "charge allowed", MBMAP_MEGA_CHARGE_ALLOWED),
    STATUS(MBMAP_DISCRETE, "input_discharge_allowed", "discharge allowed",
           MBMAP_MEGA_DISCHARGE_ALLOWED),
};

static const struct mbmap_range ranges[] = {
    { MBMAP_REGS, MBMAP_LIVE, 1000, 1009, "main values" },
    { MBMAP_REGS, MBMAP_LIVE, 1010, 6001, "cell voltages" },
    { MBMAP_REGS, MBMAP_LIVE, 7000, 9303, "temperature sensors" },
    { MBMAP_REGS, MBMAP_LIVE, 30003, 30008, "float values" },
    { MBMAP_COILS, 0, 0, 7, "status" },
    { MBMAP_COILS, 0, 100, 102, "control" },
    { MBMAP_DISCRETE, 0, 0, 7, "status" },
};

const struct mbmap mbmap_mega = {
    .name = "mega",
    .title = "mega BMS",
    .kind = MBMAP_MEGA,
    .src_size = sizeof(struct mbmap_mega_src),
    .ranges = ranges,
    .n_ranges = sizeof(ranges) / sizeof(ranges[0]),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
};

/* ---- from the snapshot --------------------------------------------------------------------- */

static bool any_level(const struct bmsgw_alarms *a, uint8_t level)
{
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        if (a->a[i].level == level)
            return true;
    return false;
}

static void flatten(struct mbmap_mega_src *out, const struct bmsgw_system *sys)
{
    unsigned nc = 0, ns = 0;
    for (unsigned k = 0; k < MBMAP_MEGA_SENSORS; k++)
        out->sensor_dc[k] = BMSGW_TEMP_ABSENT;
    for (unsigned s = 0; s < sys->string_count && s < BMSGW_MAX_STRINGS; s++) {
        const struct bmsgw_string *st = &sys->strings[s];
        bool up = st->online && st->sample_ms > 0;
        for (unsigned c = 0; c < st->cell_count && nc < MBMAP_MEGA_CELLS; c++, nc++) {
            unsigned k = st->cell_first + c;
            out->cell_mv[nc] = up && k < BMSGW_MAX_CELLS ? sys->cell_mv[k] : 0;
        }
        for (unsigned t = 0; t < st->sensor_count && ns < MBMAP_MEGA_SENSORS; t++, ns++) {
            unsigned k = st->sensor_first + t;
            if (up && k < BMSGW_MAX_SENSORS)
                out->sensor_dc[ns] = sys->sensor_dc[k];
        }
    }
}

void mbmap_mega_from_system(struct mbmap_mega_src *out, const struct bmsgw_system *sys,
                            const struct control_state *ctl, bool stale)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    memset(out, 0, sizeof(*out));
    flatten(out, sys);
    out->soc_pct = a->soc_pct;
    out->soh_pct = a->soh_pct;
    out->total_v = a->pack_v;
    out->current_a = a->current_a;
    out->has_temp = a->temp_count > 0 && a->max_temp_dc != BMSGW_TEMP_ABSENT;
    out->max_temp_c = out->has_temp ? a->max_temp_dc / 10.0 : 0;
    out->avg_temp_c = out->has_temp ? a->avg_temp_dc / 10.0 : 0;
    out->avg_cell_v = a->avg_cell_mv / 1000.0;
    out->pack_v = a->pack_v;

    bool live = !stale && a->strings_online > 0;
    out->status[MBMAP_MEGA_ONLINE] = live;
    out->status[MBMAP_MEGA_CHARGING] = live && a->current_a >= MBMAP_IDLE_CURRENT_A;
    out->status[MBMAP_MEGA_DISCHARGING] = live && a->current_a <= -MBMAP_IDLE_CURRENT_A;
    out->status[MBMAP_MEGA_BALANCING] = live && a->balancing;
    out->status[MBMAP_MEGA_ALARM] = any_level(&sys->alarms, BMSGW_LEVEL_ALARM);
    out->status[MBMAP_MEGA_WARNING] = any_level(&sys->alarms, BMSGW_LEVEL_WARNING);
    out->status[MBMAP_MEGA_CHARGE_ALLOWED] = live && sys->limits.valid && sys->limits.ccl_a > 0;
    out->status[MBMAP_MEGA_DISCHARGE_ALLOWED] = live && sys->limits.valid && sys->limits.dcl_a > 0;
    out->charge_enabled = !(ctl && ctl->charge_blocked);
    out->discharge_enabled = !(ctl && ctl->discharge_blocked);
}
