/* SPDX-License-Identifier: MIT */
/* alarms.c — alarm and warning evaluation per string with hysteresis (pure). */
#include "bmsgw/alarms.h"

#include <string.h>

#include "bmsgw/tinybms.h"

/* TinyBMS settings registers used as thresholds, with their documented ranges. */
enum {
    REG_OVER_VOLTAGE_MV = 315,
    REG_UNDER_VOLTAGE_MV = 316,
    REG_DISCHARGE_OC_A = 317,
    REG_CHARGE_OC_A = 318,
    REG_OVER_HEAT_C = 319,
    REG_CHARGE_LOW_TEMP_C = 320,
};

/* Register value when it is within lo..hi (signed when is_signed), else fallback. */
static int reg_or(const struct bmsgw_string *st, unsigned reg, bool is_signed, int lo, int hi,
                  int fallback, bool *used)
{
    uint16_t raw = st->settings_reg[reg - BMSGW_SETTINGS_FIRST];
    int v = is_signed ? (int)(int16_t)raw : (int)raw;
    if (v < lo || v > hi)
        return fallback;
    *used = true;
    return v;
}

void alarm_thresholds_resolve(const struct cfg_alarms *cfg, const struct bmsgw_string *st,
                              struct alarm_thresholds *out)
{
    int high_mv = cfg->cell_high_mv, low_mv = cfg->cell_low_mv;
    int heat_c = cfg->temp_high_c, charge_low_c = cfg->charge_temp_low_c;
    double dis_a = cfg->discharge_current_a, chg_a = cfg->charge_current_a;
    bool used = false;

    if (st && cfg->thresholds_from_bms && st->settings_valid) {
        high_mv = reg_or(st, REG_OVER_VOLTAGE_MV, false, 1200, 4500, high_mv, &used);
        low_mv = reg_or(st, REG_UNDER_VOLTAGE_MV, false, 800, 3500, low_mv, &used);
        int a = reg_or(st, REG_DISCHARGE_OC_A, false, 1, 750, -1, &used);
        if (a > 0)
            dis_a = a;
        a = reg_or(st, REG_CHARGE_OC_A, false, 1, 750, -1, &used);
        if (a > 0)
            chg_a = a;
        heat_c = reg_or(st, REG_OVER_HEAT_C, true, 20, 90, heat_c, &used);
        charge_low_c = reg_or(st, REG_CHARGE_LOW_TEMP_C, true, -40, 10, charge_low_c, &used);
    }
    *out = (struct alarm_thresholds){
        .from_bms = used,
        .cell_high_mv = high_mv,
        .cell_high_warning_mv = high_mv - cfg->cell_high_warning_mv,
        .cell_low_mv = low_mv,
        .cell_low_warning_mv = low_mv + cfg->cell_low_warning_mv,
        .temp_high_dc = heat_c * 10,
        .temp_high_warning_dc = (heat_c - cfg->temp_high_warning_c) * 10,
        .temp_low_dc = cfg->temp_low_c * 10,
        .temp_low_warning_dc = cfg->temp_low_warning_c * 10,
        .charge_temp_low_dc = charge_low_c * 10,
        .charge_temp_low_warning_dc = (charge_low_c + cfg->charge_temp_warning_c) * 10,
        .charge_current_a = chg_a,
        .charge_current_warning_a = chg_a * cfg->current_warning_pct / 100.0,
        .discharge_current_a = dis_a,
        .discharge_current_warning_a = dis_a * cfg->current_warning_pct / 100.0,
        .imbalance_mv = cfg->imbalance_alarm_mv,
        .imbalance_warning_mv = cfg->imbalance_warning_mv,
        .hysteresis_mv = cfg->hysteresis_mv,
        .hysteresis_dc = cfg->hysteresis_dc,
    };
}

/* One condition's result for one string. */
struct cond {
    uint8_t level;
    double value;
    double threshold;
};

/* A condition that is active above its thresholds (warn <= alarm). */
static struct cond eval_high(double v, double warn, double alarm, double hyst, uint8_t prev)
{
    if (v >= alarm || (prev == BMSGW_LEVEL_ALARM && v > alarm - hyst))
        return (struct cond){ BMSGW_LEVEL_ALARM, v, alarm };
    if (v >= warn || (prev >= BMSGW_LEVEL_WARNING && v > warn - hyst))
        return (struct cond){ BMSGW_LEVEL_WARNING, v, warn };
    return (struct cond){ BMSGW_LEVEL_OK, v, warn };
}

/* A condition that is active below its thresholds (warn >= alarm). */
static struct cond eval_low(double v, double warn, double alarm, double hyst, uint8_t prev)
{
    if (v <= alarm || (prev == BMSGW_LEVEL_ALARM && v < alarm + hyst))
        return (struct cond){ BMSGW_LEVEL_ALARM, v, alarm };
    if (v <= warn || (prev >= BMSGW_LEVEL_WARNING && v < warn + hyst))
        return (struct cond){ BMSGW_LEVEL_WARNING, v, warn };
    return (struct cond){ BMSGW_LEVEL_OK, v, warn };
}

/* Extremes of one string's measurements. */
struct string_view {
    unsigned n_cells;
    uint16_t min_mv, max_mv;
    unsigned n_temps;
    int16_t min_dc, max_dc;
};

static void string_view(const struct bmsgw_system *sys, const struct bmsgw_string *st,
                        struct string_view *v)
{
    memset(v, 0, sizeof(*v));
    for (unsigned c = 0; c < st->cell_count && st->cell_first + c < BMSGW_MAX_CELLS; c++) {
        uint16_t mv = sys->cell_mv[st->cell_first + c];
        if (mv == 0)
            continue;
        if (v->n_cells == 0 || mv < v->min_mv)
            v->min_mv = mv;
        if (v->n_cells == 0 || mv > v->max_mv)
            v->max_mv = mv;
        v->n_cells++;
    }
    for (unsigned t = 0; t < st->sensor_count && st->sensor_first + t < BMSGW_MAX_SENSORS; t++) {
        int16_t dc = sys->sensor_dc[st->sensor_first + t];
        if (dc == BMSGW_TEMP_ABSENT)
            continue;
        if (v->n_temps == 0 || dc < v->min_dc)
            v->min_dc = dc;
        if (v->n_temps == 0 || dc > v->max_dc)
            v->max_dc = dc;
        v->n_temps++;
    }
}

static bool charging(const struct bmsgw_string *st, uint8_t prev)
{
    return st->current_a > ALARMS_CHARGING_MIN_A ||
           (prev >= BMSGW_LEVEL_WARNING && st->current_a > 0);
}

static void eval_temps(const struct bmsgw_string *st, const struct string_view *v,
                       const struct alarm_thresholds *t, const uint8_t *prev, struct cond *c)
{
    if (v->n_temps == 0)
        return;
    double h = t->hysteresis_dc;
    c[BMSGW_ALARM_HIGH_TEMP] = eval_high(v->max_dc, t->temp_high_warning_dc, t->temp_high_dc, h,
                                         prev[BMSGW_ALARM_HIGH_TEMP]);
    c[BMSGW_ALARM_LOW_TEMP] =
        eval_low(v->min_dc, t->temp_low_warning_dc, t->temp_low_dc, h, prev[BMSGW_ALARM_LOW_TEMP]);
    uint8_t p = prev[BMSGW_ALARM_HIGH_TEMP_CHARGE];
    c[BMSGW_ALARM_HIGH_TEMP_CHARGE] =
        charging(st, p) ? eval_high(v->max_dc, t->temp_high_warning_dc, t->temp_high_dc, h, p)
                        : (struct cond){ BMSGW_LEVEL_OK, v->max_dc, t->temp_high_warning_dc };
    p = prev[BMSGW_ALARM_LOW_TEMP_CHARGE];
    c[BMSGW_ALARM_LOW_TEMP_CHARGE] =
        charging(st, p)
            ? eval_low(v->min_dc, t->charge_temp_low_warning_dc, t->charge_temp_low_dc, h, p)
            : (struct cond){ BMSGW_LEVEL_OK, v->min_dc, t->charge_temp_low_warning_dc };
}

static void eval_currents(const struct bmsgw_string *st, const struct alarm_thresholds *t,
                          const uint8_t *prev, struct cond *c)
{
    double chg = st->current_a > 0 ? st->current_a : 0;
    double dis = st->current_a < 0 ? -st->current_a : 0;
    c[BMSGW_ALARM_HIGH_CHARGE_CURRENT] =
        eval_high(chg, t->charge_current_warning_a, t->charge_current_a,
                  t->charge_current_a * ALARMS_CURRENT_HYST_PCT / 100.0,
                  prev[BMSGW_ALARM_HIGH_CHARGE_CURRENT]);
    c[BMSGW_ALARM_HIGH_DISCHARGE_CURRENT] =
        eval_high(dis, t->discharge_current_warning_a, t->discharge_current_a,
                  t->discharge_current_a * ALARMS_CURRENT_HYST_PCT / 100.0,
                  prev[BMSGW_ALARM_HIGH_DISCHARGE_CURRENT]);
}

/* Fault status, or a recent fault/warning event (timestamps are 24-bit BMS lifetime seconds). */
static struct cond eval_internal(const struct bmsgw_string *st)
{
    struct cond c = { BMSGW_LEVEL_OK, st->status, BMSGW_STATUS_FAULT };
    if (st->status == BMSGW_STATUS_FAULT) {
        c.level = BMSGW_LEVEL_ALARM;
        return c;
    }
    if (st->event_count == 0)
        return c;
    const struct bmsgw_bms_event *e = &st->events[0];
    uint32_t age_s = ((st->lifetime_s & 0xFFFFFFu) - e->timestamp_s) & 0xFFFFFFu;
    if (age_s > ALARMS_EVENT_ACTIVE_S)
        return c;
    const char *sev = tinybms_event_severity(e->id);
    if (strcmp(sev, "fault") == 0)
        c = (struct cond){ BMSGW_LEVEL_ALARM, e->id, 0 };
    else if (strcmp(sev, "warning") == 0)
        c = (struct cond){ BMSGW_LEVEL_WARNING, e->id, 0 };
    return c;
}

/* All conditions of one fresh string; c[] starts unsupported. */
static void eval_string(const struct bmsgw_system *sys, const struct bmsgw_string *st,
                        const struct alarm_thresholds *t, const uint8_t *prev, struct cond *c)
{
    struct string_view v;
    string_view(sys, st, &v);
    if (v.n_cells) {
        double h = t->hysteresis_mv;
        c[BMSGW_ALARM_HIGH_VOLTAGE] = eval_high(v.max_mv, t->cell_high_warning_mv, t->cell_high_mv,
                                                h, prev[BMSGW_ALARM_HIGH_VOLTAGE]);
        c[BMSGW_ALARM_LOW_VOLTAGE] = eval_low(v.min_mv, t->cell_low_warning_mv, t->cell_low_mv, h,
                                              prev[BMSGW_ALARM_LOW_VOLTAGE]);
        c[BMSGW_ALARM_CELL_IMBALANCE] =
            eval_high(v.max_mv - v.min_mv, t->imbalance_warning_mv, t->imbalance_mv, h,
                      prev[BMSGW_ALARM_CELL_IMBALANCE]);
    }
    eval_temps(st, &v, t, prev, c);
    eval_currents(st, t, prev, c);
    c[BMSGW_ALARM_BMS_INTERNAL] = eval_internal(st);
}

/* Direction of a condition's value: +1 larger is worse, -1 smaller is worse. */
static int worse_dir(unsigned id)
{
    return id == BMSGW_ALARM_LOW_VOLTAGE || id == BMSGW_ALARM_LOW_TEMP ||
                   id == BMSGW_ALARM_LOW_TEMP_CHARGE
               ? -1
               : 1;
}

/* Merge one string's result into the system result: the higher level, then the worse value. */
static void merge(struct bmsgw_alarm_state *sys_a, const struct cond *c, unsigned id, int string,
                  bool *seen)
{
    if (c->level == BMSGW_LEVEL_UNSUPPORTED)
        return;
    bool take = !*seen || c->level > sys_a->level;
    if (*seen && c->level == sys_a->level)
        take = worse_dir(id) > 0 ? c->value > sys_a->value : c->value < sys_a->value;
    if (take) {
        sys_a->level = c->level;
        sys_a->value = c->value;
        sys_a->threshold = c->threshold;
        sys_a->string = (int16_t)string;
    }
    *seen = true;
}

void alarms_init(struct alarms_state *st)
{
    memset(st, 0, sizeof(*st));
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        st->last.a[i].string = -1;
}

static void general_level(struct bmsgw_alarms *a)
{
    struct bmsgw_alarm_state *g = &a->a[BMSGW_ALARM_GENERAL];
    *g = (struct bmsgw_alarm_state){ .level = BMSGW_LEVEL_UNSUPPORTED, .string = -1 };
    for (unsigned i = BMSGW_ALARM_GENERAL + 1; i < BMSGW_ALARM_COUNT; i++) {
        if (a->a[i].level > g->level) {
            g->level = a->a[i].level;
            g->string = a->a[i].string;
        }
    }
    g->value = g->level;
    g->threshold = BMSGW_LEVEL_WARNING;
}

void alarms_evaluate(const struct cfg_alarms *cfg, const struct bmsgw_system *sys, int64_t now_ms,
                     int stale_after_ms, struct alarms_state *st, struct bmsgw_alarms *out)
{
    struct bmsgw_alarms res;
    bool seen[BMSGW_ALARM_COUNT] = { false };
    unsigned fresh = 0, n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : 0;

    memset(&res, 0, sizeof(res));
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        res.a[i].string = -1;
    for (unsigned s = 0; s < n; s++) {
        const struct bmsgw_string *str = &sys->strings[s];
        struct cond c[BMSGW_ALARM_COUNT];
        memset(c, 0, sizeof(c));
        if (bmsgw_string_is_fresh(str, now_ms, stale_after_ms)) {
            struct alarm_thresholds t;
            alarm_thresholds_resolve(cfg, str, &t);
            eval_string(sys, str, &t, st->level[s], c);
            fresh++;
        }
        for (unsigned id = 0; id < BMSGW_ALARM_COUNT; id++) {
            st->level[s][id] = c[id].level;
            merge(&res.a[id], &c[id], id, (int)s, &seen[id]);
        }
    }
    if (fresh == 0) {
        *out = st->last;
        return;
    }
    general_level(&res);
    for (unsigned id = 0; id < BMSGW_ALARM_COUNT; id++)
        res.a[id].since_ms =
            res.a[id].level == st->last.a[id].level ? st->last.a[id].since_ms : now_ms;
    st->last = res;
    *out = res;
}

bool alarms_any(const struct bmsgw_alarms *a, enum bmsgw_alarm_level lvl)
{
    for (unsigned i = BMSGW_ALARM_GENERAL + 1; i < BMSGW_ALARM_COUNT; i++)
        if (a->a[i].level >= lvl)
            return true;
    return false;
}
