/* SPDX-License-Identifier: MIT */
/* alarms.c — alarm and warning evaluation per string with hysteresis (pure). */
#include "bmsgw/alarms.h"

#include <string.h>

/* Which side of each cut-off is the safer one. */
static const bool lower_is_safer[BMSGW_THRESHOLD_COUNT] = {
    [BMSGW_THRESHOLD_OVER_VOLTAGE] = true,      [BMSGW_THRESHOLD_UNDER_VOLTAGE] = false,
    [BMSGW_THRESHOLD_DISCHARGE_CURRENT] = true, [BMSGW_THRESHOLD_CHARGE_CURRENT] = true,
    [BMSGW_THRESHOLD_OVER_HEAT] = true,         [BMSGW_THRESHOLD_CHARGE_LOW_TEMP] = false,
};

/* The stricter of the configured value and the BMS's own cut-off (when its driver read one); a
 * cut-off on the less safe side is refused and recorded. */
static double stricter(const struct bmsgw_string *st, enum bmsgw_threshold which, double cfg,
                       struct alarm_thresholds *out)
{
    if (!(st->cutoff_valid & (1u << which)))
        return cfg;
    double v = st->cutoff[which];
    bool safer = lower_is_safer[which] ? v <= cfg : v >= cfg;
    if (!safer) {
        out->refused |= (uint8_t)(1u << which);
        out->refused_bms[which] = v;
        out->refused_cfg[which] = cfg;
        return cfg;
    }
    out->from_bms = true;
    return v;
}

void alarm_thresholds_resolve(const struct cfg_alarms *cfg, const struct bmsgw_string *st,
                              struct alarm_thresholds *out)
{
    double in_force[BMSGW_THRESHOLD_COUNT] = {
        [BMSGW_THRESHOLD_OVER_VOLTAGE] = cfg->cell_high_mv,
        [BMSGW_THRESHOLD_UNDER_VOLTAGE] = cfg->cell_low_mv,
        [BMSGW_THRESHOLD_DISCHARGE_CURRENT] = cfg->discharge_current_a,
        [BMSGW_THRESHOLD_CHARGE_CURRENT] = cfg->charge_current_a,
        [BMSGW_THRESHOLD_OVER_HEAT] = cfg->temp_high_c,
        [BMSGW_THRESHOLD_CHARGE_LOW_TEMP] = cfg->charge_temp_low_c,
    };
    memset(out, 0, sizeof(*out));
    if (st && cfg->thresholds_from_bms)
        for (unsigned i = 0; i < BMSGW_THRESHOLD_COUNT; i++)
            in_force[i] = stricter(st, (enum bmsgw_threshold)i, in_force[i], out);
    int high_mv = (int)in_force[BMSGW_THRESHOLD_OVER_VOLTAGE];
    int low_mv = (int)in_force[BMSGW_THRESHOLD_UNDER_VOLTAGE];
    int heat_c = (int)in_force[BMSGW_THRESHOLD_OVER_HEAT];
    int charge_low_c = (int)in_force[BMSGW_THRESHOLD_CHARGE_LOW_TEMP];
    double dis_a = in_force[BMSGW_THRESHOLD_DISCHARGE_CURRENT];
    double chg_a = in_force[BMSGW_THRESHOLD_CHARGE_CURRENT];
    out->cell_high_mv = high_mv;
    out->cell_high_warning_mv = high_mv - cfg->cell_high_warning_mv;
    out->cell_low_mv = low_mv;
    out->cell_low_warning_mv = low_mv + cfg->cell_low_warning_mv;
    out->temp_high_dc = heat_c * 10;
    out->temp_high_warning_dc = (heat_c - cfg->temp_high_warning_c) * 10;
    out->temp_low_dc = cfg->temp_low_c * 10;
    out->temp_low_warning_dc = cfg->temp_low_warning_c * 10;
    out->charge_temp_low_dc = charge_low_c * 10;
    out->charge_temp_low_warning_dc = (charge_low_c + cfg->charge_temp_warning_c) * 10;
    out->charge_current_a = chg_a;
    out->charge_current_warning_a = chg_a * cfg->current_warning_pct / 100.0;
    out->discharge_current_a = dis_a;
    out->discharge_current_warning_a = dis_a * cfg->current_warning_pct / 100.0;
    out->imbalance_mv = cfg->imbalance_alarm_mv;
    out->imbalance_warning_mv = cfg->imbalance_warning_mv;
    out->hysteresis_mv = cfg->hysteresis_mv;
    out->hysteresis_dc = cfg->hysteresis_dc;
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
    bool internal; /* no battery sensor: the temperatures are the BMS internal sensor's */
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
    if (v->n_temps == 0 && st->mosfet_temp_dc != BMSGW_TEMP_ABSENT) {
        v->min_dc = v->max_dc = st->mosfet_temp_dc;
        v->internal = true;
    }
}

static bool charging(const struct bmsgw_string *st, uint8_t prev)
{
    return st->current_a > ALARMS_CHARGING_MIN_A ||
           (prev >= BMSGW_LEVEL_WARNING && st->current_a > 0);
}

/* A "while charging" condition: its alarm blocks charging, so it is shown whether or not
 * current flows (spec "Safety invariants" 8); its warning only while charging. */
static struct cond while_charging(const struct bmsgw_string *st, struct cond c, uint8_t prev)
{
    if (c.level == BMSGW_LEVEL_WARNING && !charging(st, prev))
        c.level = BMSGW_LEVEL_OK;
    return c;
}

static void eval_temps(const struct bmsgw_string *st, const struct string_view *v,
                       const struct alarm_thresholds *t, const uint8_t *prev, struct cond *c)
{
    double h = t->hysteresis_dc;
    if (v->n_temps) { /* the battery's own temperature: not the MOSFET's */
        c[BMSGW_ALARM_HIGH_TEMP] = eval_high(v->max_dc, t->temp_high_warning_dc, t->temp_high_dc, h,
                                             prev[BMSGW_ALARM_HIGH_TEMP]);
        c[BMSGW_ALARM_LOW_TEMP] = eval_low(v->min_dc, t->temp_low_warning_dc, t->temp_low_dc, h,
                                           prev[BMSGW_ALARM_LOW_TEMP]);
        uint8_t p = prev[BMSGW_ALARM_HIGH_TEMP_CHARGE];
        c[BMSGW_ALARM_HIGH_TEMP_CHARGE] = while_charging(
            st, eval_high(v->max_dc, t->temp_high_warning_dc, t->temp_high_dc, h, p), p);
    }
    if (v->n_temps || v->internal) { /* the charge cutoff also on the internal sensor */
        uint8_t p = prev[BMSGW_ALARM_LOW_TEMP_CHARGE];
        c[BMSGW_ALARM_LOW_TEMP_CHARGE] = while_charging(
            st, eval_low(v->min_dc, t->charge_temp_low_warning_dc, t->charge_temp_low_dc, h, p), p);
    }
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

/* Age of event e on the BMS's clock (timestamps are 24-bit lifetime seconds). */
static uint32_t event_age_s(const struct bmsgw_string *st, const struct bmsgw_bms_event *e)
{
    return ((st->lifetime_s & 0xFFFFFFu) - e->timestamp_s) & 0xFFFFFFu;
}

/* The newest fault event at most ALARMS_EVENT_ACTIVE_S old with no recovery after it, or NULL.
 * What an event means (fault, recovery, which side it stops) is the driver's description. */
static const struct bmsgw_bms_event *recent_fault_event(const struct bmsgw_string *st)
{
    unsigned n = st->event_count < BMSGW_EVENTS_MAX ? st->event_count : BMSGW_EVENTS_MAX;
    for (unsigned i = 0; i < n; i++) { /* newest first */
        const struct bmsgw_bms_event *e = &st->events[i];
        if (event_age_s(st, e) > ALARMS_EVENT_ACTIVE_S || e->flags & BMSGW_EVENT_RECOVERY)
            return NULL;
        if (e->severity == BMSGW_SEVERITY_FAULT)
            return e;
    }
    return NULL;
}

int alarms_string_fault(const struct bmsgw_string *st, unsigned *event)
{
    const struct bmsgw_bms_event *e = recent_fault_event(st);
    *event = e ? e->id : 0;
    if (e)
        return e->flags & BMSGW_EVENT_STOPS_DISCHARGE ? 2 : 1;
    /* fault state without a recent event that says which side: stop both */
    return st->state == BMSGW_BMS_FAULT ? 2 : 0;
}

/* A fault (alarms_string_fault), or a recent warning event. The value is the event's code, or
 * the BMS's status code when its fault state alone raised it (no event says more). */
static struct cond eval_internal(const struct bmsgw_string *st)
{
    struct cond c = { BMSGW_LEVEL_OK, st->status_code, 0 };
    unsigned id;
    if (alarms_string_fault(st, &id))
        return (struct cond){ BMSGW_LEVEL_ALARM, id ? id : st->status_code, 0 };
    if (st->event_count == 0)
        return c;
    const struct bmsgw_bms_event *e = &st->events[0];
    if (event_age_s(st, e) <= ALARMS_EVENT_ACTIVE_S && e->severity == BMSGW_SEVERITY_WARNING)
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
    unsigned fresh = 0;
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;

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
