/* SPDX-License-Identifier: MIT */
/* map_tescom.c — the Tescom map (seed 002): four arms of up to 120 batteries, alarms, status. */
#include <math.h>
#include <string.h>

#include "bmsgw/alarms.h"
#include "bmsgw/mbmap_maps.h"

#define SRC(p) ((const struct mbmap_tescom_src *)(p))

/* Arm k (1-based) blocks, as the seed's examples place them (its formulas disagree). */
#define LIVE_BASE     1001 /* + (k - 1) x 1000 */
#define LIVE_STRIDE   1000
#define LIVE_SIZE     994
#define ALARM_BASE    5001 /* + (k - 1) x 844 */
#define ALARM_STRIDE  844
#define STATUS_BASE   9001 /* + (k - 1) x 121 */
#define STATUS_STRIDE 121
#define PER_BATTERY   7

static bool get_count(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                      double *v)
{
    (void)f;
    (void)g;
    *v = SRC(src)->arm[i].count;
    return true;
}

static bool get_arm(const void *src, const struct mbmap_field *f, unsigned g, unsigned i, double *v)
{
    (void)i;
    const struct mbmap_tescom_arm *a = &SRC(src)->arm[g];
    static const size_t off[] = {
        offsetof(struct mbmap_tescom_arm, current_a),
        offsetof(struct mbmap_tescom_arm, humidity_pct),
        offsetof(struct mbmap_tescom_arm, module_temp_c),
        offsetof(struct mbmap_tescom_arm, ambient_temp_c),
    };
    memcpy(v, (const char *)a + off[f->arg], sizeof(*v));
    return true;
}

static bool get_battery(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                        double *v)
{
    const struct mbmap_tescom_battery *b = &SRC(src)->arm[g].bat[i];
    *v = i < SRC(src)->arm[g].count ? b->value[f->arg] : 0;
    return true;
}

static bool get_arm_alarm(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                          double *v)
{
    (void)i;
    *v = SRC(src)->arm[g].alarm[f->arg];
    return true;
}

static bool get_battery_alarm(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                              double *v)
{
    const struct mbmap_tescom_arm *a = &SRC(src)->arm[g];
    *v = i < a->count && a->bat[i].alarm[f->arg];
    return true;
}

static bool get_arm_status(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                           double *v)
{
    (void)f;
    (void)i;
    *v = SRC(src)->arm[g].ok;
    return true;
}

static bool get_battery_status(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                               double *v)
{
    (void)f;
    const struct mbmap_tescom_arm *a = &SRC(src)->arm[g];
    *v = a->ok && i < a->count && a->bat[i].present;
    return true;
}

#define ARM(k, l, u, off, n)                                                                       \
    {                                                                                              \
        .key = k, .label = l, .unit = u, .table = MBMAP_REGS, .type = MBMAP_S16,                   \
        .addr = LIVE_BASE + (off), .count = 1, .groups = MBMAP_TESCOM_ARMS,                        \
        .group_stride = LIVE_STRIDE, .group_label = "arm", .scale = 0.01, .arg = n, .get = get_arm \
    }

#define BATTERY(k, l, u, n)                                                                        \
    {                                                                                              \
        .key = k, .label = l, .unit = u, .table = MBMAP_REGS, .type = MBMAP_S16,                   \
        .addr = LIVE_BASE + 4 + (n), .count = MBMAP_TESCOM_BATTERIES, .stride = PER_BATTERY,       \
        .groups = MBMAP_TESCOM_ARMS, .group_stride = LIVE_STRIDE, .group_label = "arm",            \
        .item_label = "battery", .scale = 0.01, .arg = n, .get = get_battery                       \
    }

#define ARM_ALARM(k, l, n)                                                                         \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = MBMAP_REGS, .type = MBMAP_U16,                  \
        .addr = ALARM_BASE + (n), .count = 1, .groups = MBMAP_TESCOM_ARMS,                         \
        .group_stride = ALARM_STRIDE, .group_label = "arm", .flags = MBMAP_ALARM, .arg = n,        \
        .get = get_arm_alarm                                                                       \
    }

#define BATTERY_ALARM(k, l, n)                                                                     \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = MBMAP_REGS, .type = MBMAP_U16,                  \
        .addr = ALARM_BASE + 4 + (n), .count = MBMAP_TESCOM_BATTERIES, .stride = PER_BATTERY,      \
        .groups = MBMAP_TESCOM_ARMS, .group_stride = ALARM_STRIDE, .group_label = "arm",           \
        .item_label = "battery", .flags = MBMAP_ALARM, .arg = n, .get = get_battery_alarm          \
    }

static const struct mbmap_field fields[] = {
    { .key = "battery_count",
      .label = "battery count",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = 0,
      .count = MBMAP_TESCOM_ARMS,
      .item_label = "arm",
      .get = get_count },
    ARM("arm_current", "current", "A", 0, 0),
    ARM("arm_humidity", "humidity", "%", 1, 1),
    ARM("arm_module_temperature", "module temperature", "degC", 2, 2),
    ARM("arm_ambient_temperature", "ambient temperature", "degC", 3, 3),
    BATTERY("battery_voltage", "voltage", "V", MBMAP_TESCOM_VOLTAGE),
    BATTERY("battery_soc", "SOC", "%", MBMAP_TESCOM_SOC),
    BATTERY("battery_rimt", "RIMT (module temperature)", "degC", MBMAP_TESCOM_RIMT),
    BATTERY("battery_soh", "SOH", "%", MBMAP_TESCOM_SOH),
    BATTERY("battery_ntc1", "NTC1 temperature", "degC", MBMAP_TESCOM_NTC1),
    BATTERY("battery_ntc2", "NTC2 temperature", "degC", MBMAP_TESCOM_NTC2),
    BATTERY("battery_ntc3", "NTC3 temperature", "degC", MBMAP_TESCOM_NTC3),
    ARM_ALARM("alarm_high_current", "high current alarm", MBMAP_TESCOM_ARM_HIGH_CURRENT),
    ARM_ALARM("alarm_high_humidity", "high humidity alarm", MBMAP_TESCOM_ARM_HIGH_HUMIDITY),
    ARM_ALARM("alarm_high_ambient", "high ambient temperature alarm",
              MBMAP_TESCOM_ARM_HIGH_AMBIENT),
    ARM_ALARM("alarm_high_arm_temperature", "high arm temperature alarm",
              MBMAP_TESCOM_ARM_HIGH_TEMP),
    BATTERY_ALARM("alarm_low_voltage_warning", "low-voltage warning", MBMAP_TESCOM_LOW_V_WARNING),
    BATTERY_ALARM("alarm_low_voltage", "low-voltage alarm", MBMAP_TESCOM_LOW_V_ALARM),
    BATTERY_ALARM("alarm_high_voltage_warning", "high-voltage warning",
                  MBMAP_TESCOM_HIGH_V_WARNING),
    BATTERY_ALARM("alarm_high_voltage", "high-voltage alarm", MBMAP_TESCOM_HIGH_V_ALARM),
    BATTERY_ALARM("alarm_module_temperature", "module temperature alarm",
                  MBMAP_TESCOM_MODULE_TEMP_ALARM),
    BATTERY_ALARM("alarm_positive_pole_temperature", "positive-pole temperature alarm",
                  MBMAP_TESCOM_POS_POLE_TEMP_ALARM),
    BATTERY_ALARM("alarm_negative_pole_temperature", "negative-pole temperature alarm",
                  MBMAP_TESCOM_NEG_POLE_TEMP_ALARM),
    { .key = "arm_status",
      .label = "status",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = STATUS_BASE,
      .count = 1,
      .groups = MBMAP_TESCOM_ARMS,
      .group_stride = STATUS_STRIDE,
      .group_label = "arm",
      .get = get_arm_status },
    { .key = "battery_status",
      .label = "status",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_U16,
      .addr = STATUS_BASE + 1,
      .count = MBMAP_TESCOM_BATTERIES,
      .groups = MBMAP_TESCOM_ARMS,
      .group_stride = STATUS_STRIDE,
      .group_label = "arm",
      .item_label = "battery",
      .get = get_battery_status },
};

#define LIVE_RANGE(k, name)                                                                        \
    {                                                                                              \
        MBMAP_REGS, MBMAP_LIVE, LIVE_BASE + ((k)-1) * LIVE_STRIDE,                                 \
            LIVE_BASE + ((k)-1) * LIVE_STRIDE + LIVE_SIZE - 1, name                                \
    }

static const struct mbmap_range ranges[] = {
    { MBMAP_REGS, 0, 0, 3, "battery counts" },
    LIVE_RANGE(1, "arm 1 live data"),
    LIVE_RANGE(2, "arm 2 live data"),
    LIVE_RANGE(3, "arm 3 live data"),
    LIVE_RANGE(4, "arm 4 live data"),
    { MBMAP_REGS, MBMAP_LIVE, ALARM_BASE, ALARM_BASE + 4 * ALARM_STRIDE - 1, "alarms" },
    { MBMAP_REGS, 0, STATUS_BASE, STATUS_BASE + 4 * STATUS_STRIDE - 1, "status" },
};

const struct mbmap mbmap_tescom = {
    .name = "tescom",
    .title = "Tescom BMS",
    .kind = MBMAP_TESCOM,
    .src_size = sizeof(struct mbmap_tescom_src),
    .ranges = ranges,
    .n_ranges = sizeof(ranges) / sizeof(ranges[0]),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
};

/* ---- alarms -------------------------------------------------------------------------------- */

void mbmap_tescom_limits_from(struct mbmap_tescom_limits *l, const struct alarm_thresholds *th)
{
    memset(l, 0, sizeof(*l));
    l->cell_high_mv = th->cell_high_mv;
    l->cell_high_warning_mv = th->cell_high_warning_mv;
    l->cell_low_mv = th->cell_low_mv;
    l->cell_low_warning_mv = th->cell_low_warning_mv;
    l->module_temp_high_c = th->temp_high_dc / 10.0;
    l->arm_temp_high_c = th->temp_high_dc / 10.0;
    l->ambient_high_c = th->temp_high_warning_dc / 10.0;
    l->humidity_high_pct = 85;
    l->charge_current_a = th->charge_current_a;
    l->discharge_current_a = th->discharge_current_a;
}

static void eval_battery(struct mbmap_tescom_battery *b, const struct mbmap_tescom_limits *l)
{
    double mv = b->value[MBMAP_TESCOM_VOLTAGE] * 1000.0;
    memset(b->alarm, 0, sizeof(b->alarm));
    if (!b->present)
        return;
    b->alarm[MBMAP_TESCOM_LOW_V_WARNING] = mv <= l->cell_low_warning_mv;
    b->alarm[MBMAP_TESCOM_LOW_V_ALARM] = mv <= l->cell_low_mv;
    b->alarm[MBMAP_TESCOM_HIGH_V_WARNING] = mv >= l->cell_high_warning_mv;
    b->alarm[MBMAP_TESCOM_HIGH_V_ALARM] = mv >= l->cell_high_mv;
    b->alarm[MBMAP_TESCOM_MODULE_TEMP_ALARM] = b->value[MBMAP_TESCOM_RIMT] >= l->module_temp_high_c;
    if (l->pole_sensors) {
        b->alarm[MBMAP_TESCOM_POS_POLE_TEMP_ALARM] =
            b->value[MBMAP_TESCOM_NTC1] >= l->module_temp_high_c;
        b->alarm[MBMAP_TESCOM_NEG_POLE_TEMP_ALARM] =
            b->value[MBMAP_TESCOM_NTC2] >= l->module_temp_high_c;
    }
}

void mbmap_tescom_eval_arm(struct mbmap_tescom_arm *a, const struct mbmap_tescom_limits *l)
{
    bool data = a->ok;
    memset(a->alarm, 0, sizeof(a->alarm));
    for (unsigned j = 0; j < MBMAP_TESCOM_BATTERIES; j++) {
        if (j >= a->count)
            a->bat[j].present = false;
        eval_battery(&a->bat[j], l);
        data = data || a->bat[j].present;
    }
    if (!data)
        return;
    a->alarm[MBMAP_TESCOM_ARM_HIGH_CURRENT] =
        a->current_a >= l->charge_current_a || -a->current_a >= l->discharge_current_a;
    if (l->env_sensors) {
        a->alarm[MBMAP_TESCOM_ARM_HIGH_HUMIDITY] = a->humidity_pct >= l->humidity_high_pct;
        a->alarm[MBMAP_TESCOM_ARM_HIGH_AMBIENT] = a->ambient_temp_c >= l->ambient_high_c;
    }
    a->alarm[MBMAP_TESCOM_ARM_HIGH_TEMP] = a->module_temp_c >= l->arm_temp_high_c;
}

/* ---- from the snapshot --------------------------------------------------------------------- */

static double sensor_c(const struct bmsgw_system *sys, const struct bmsgw_string *st, unsigned n)
{
    unsigned k = st->sensor_first + n;
    if (n >= st->sensor_count || k >= BMSGW_MAX_SENSORS || sys->sensor_dc[k] == BMSGW_TEMP_ABSENT)
        return 0;
    return sys->sensor_dc[k] / 10.0;
}

static double string_max_c(const struct bmsgw_system *sys, const struct bmsgw_string *st)
{
    bool any = false;
    int16_t best = 0;
    for (unsigned n = 0; n < st->sensor_count; n++) {
        unsigned k = st->sensor_first + n;
        if (k >= BMSGW_MAX_SENSORS || sys->sensor_dc[k] == BMSGW_TEMP_ABSENT)
            continue;
        if (!any || sys->sensor_dc[k] > best)
            best = sys->sensor_dc[k];
        any = true;
    }
    return any ? best / 10.0 : 0;
}

static void fill_arm(struct mbmap_tescom_arm *a, const struct bmsgw_system *sys,
                     const struct bmsgw_string *st, bool stale)
{
    bool up = st->online && st->sample_ms > 0;
    a->count = st->cell_count < MBMAP_TESCOM_BATTERIES ? st->cell_count : MBMAP_TESCOM_BATTERIES;
    a->ok = up && !stale;
    if (!up)
        return;
    double max_c = string_max_c(sys, st);
    a->current_a = st->current_a;
    a->module_temp_c = max_c;
    for (unsigned j = 0; j < a->count; j++) {
        struct mbmap_tescom_battery *b = &a->bat[j];
        unsigned k = st->cell_first + j;
        uint16_t mv = k < BMSGW_MAX_CELLS ? sys->cell_mv[k] : 0;
        b->present = mv > 0;
        b->value[MBMAP_TESCOM_VOLTAGE] = mv / 1000.0;
        b->value[MBMAP_TESCOM_SOC] = st->soc_pct;
        b->value[MBMAP_TESCOM_RIMT] =
            st->mosfet_temp_dc == BMSGW_TEMP_ABSENT ? 0 : st->mosfet_temp_dc / 10.0;
        b->value[MBMAP_TESCOM_SOH] = st->soh_pct;
        b->value[MBMAP_TESCOM_NTC1] = sensor_c(sys, st, 0);
        b->value[MBMAP_TESCOM_NTC2] = sensor_c(sys, st, 1);
        b->value[MBMAP_TESCOM_NTC3] = max_c;
    }
}

void mbmap_tescom_from_system(struct mbmap_tescom_src *out, const struct bmsgw_system *sys,
                              const struct cfg_alarms *cfg, bool stale)
{
    memset(out, 0, sizeof(*out));
    for (unsigned k = 0; k < MBMAP_TESCOM_ARMS && k < sys->string_count; k++) {
        struct alarm_thresholds th;
        struct mbmap_tescom_limits l;
        alarm_thresholds_resolve(cfg, &sys->strings[k], &th);
        mbmap_tescom_limits_from(&l, &th);
        fill_arm(&out->arm[k], sys, &sys->strings[k], stale);
        mbmap_tescom_eval_arm(&out->arm[k], &l);
    }
}
