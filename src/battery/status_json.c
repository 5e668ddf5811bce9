/* SPDX-License-Identifier: MIT */
/* status_json.c — the battery system as JSON (pure: no clock, no lock, no I/O). */
#include "bmsgw/status_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ESTIMATE_S (30LL * 24 * 3600)
#define IDLE_CURRENT_A 0.1

json_t *json_number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *json_rounded(double v, int decimals)
{
    if (!isfinite(v))
        return json_null();
    double f = pow(10.0, decimals);
    return json_real(round(v * f) / f);
}

static json_t *temp_or_null(int16_t dc)
{
    return dc == BMSGW_TEMP_ABSENT ? json_null() : json_rounded(dc / 10.0, 1);
}

json_t *json_age_or_null(int64_t now_ms, int64_t t_ms)
{
    return t_ms > 0 ? json_integer(now_ms - t_ms) : json_null();
}

static json_t *string_no_or_null(int16_t string)
{
    return string >= 0 ? json_integer(string + 1) : json_null();
}

int64_t status_time_to_full_s(double soc_pct, double capacity_ah, double current_a)
{
    if (!(capacity_ah > 0) || !(current_a > IDLE_CURRENT_A) || !isfinite(soc_pct))
        return -1;
    double missing = soc_pct >= 100.0 ? 0.0 : (100.0 - soc_pct) / 100.0 * capacity_ah;
    double s = missing / current_a * 3600.0;
    return s <= MAX_ESTIMATE_S ? (int64_t)llround(s) : -1;
}

int64_t status_time_to_empty_s(double soc_pct, double capacity_ah, double current_a)
{
    if (!(capacity_ah > 0) || !(current_a < -IDLE_CURRENT_A) || !isfinite(soc_pct))
        return -1;
    double left = soc_pct <= 0.0 ? 0.0 : soc_pct / 100.0 * capacity_ah;
    double s = left / -current_a * 3600.0;
    return s <= MAX_ESTIMATE_S ? (int64_t)llround(s) : -1;
}

static json_t *seconds_or_null(int64_t s)
{
    return s >= 0 ? json_integer(s) : json_null();
}

static json_t *pos_json(struct bmsgw_pos p, const char *what)
{
    if (p.string < 0)
        return json_null();
    return json_pack("{s:I,s:I}", "string", (json_int_t)(p.string + 1), what, (json_int_t)p.no);
}

static const char *system_state(const struct bmsgw_system *sys, bool stale)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    if (a->strings_online == 0)
        return "offline";
    if (a->fault)
        return "fault";
    if (stale)
        return "stale";
    if (a->current_a > IDLE_CURRENT_A)
        return "charging";
    if (a->current_a < -IDLE_CURRENT_A)
        return "discharging";
    return "idle";
}

static json_t *system_json(const struct bmsgw_system *sys, bool stale)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    bool data = a->strings_online > 0;
    bool cells = data && a->min_cell.string >= 0;
    json_t *o = json_object();

    json_object_set_new(o, "state", json_string(system_state(sys, stale)));
    json_object_set_new(o, "strings_configured", json_integer(a->strings_configured));
    json_object_set_new(o, "strings_online", json_integer(a->strings_online));
    json_object_set_new(o, "pack_voltage_v", data ? json_rounded(a->pack_v, 3) : json_null());
    json_object_set_new(o, "current_a", data ? json_rounded(a->current_a, 3) : json_null());
    json_object_set_new(o, "power_w",
                        data ? json_rounded(a->pack_v * a->current_a, 1) : json_null());
    json_object_set_new(o, "soc_pct", data ? json_rounded(a->soc_pct, 2) : json_null());
    json_object_set_new(o, "soh_pct", data ? json_rounded(a->soh_pct, 2) : json_null());
    json_object_set_new(o, "capacity_ah", data ? json_rounded(a->capacity_ah, 2) : json_null());
    json_object_set_new(o, "min_cell_mv", cells ? json_integer(a->min_cell_mv) : json_null());
    json_object_set_new(o, "max_cell_mv", cells ? json_integer(a->max_cell_mv) : json_null());
    json_object_set_new(o, "avg_cell_mv", cells ? json_rounded(a->avg_cell_mv, 1) : json_null());
    json_object_set_new(o, "cell_spread_mv",
                        cells ? json_integer(a->max_cell_mv - a->min_cell_mv) : json_null());
    json_object_set_new(o, "min_cell", cells ? pos_json(a->min_cell, "cell") : json_null());
    json_object_set_new(o, "max_cell", cells ? pos_json(a->max_cell, "cell") : json_null());
    json_object_set_new(o, "temperature_count", json_integer(data ? a->temp_count : 0));
    json_object_set_new(o, "min_temperature_c", data ? temp_or_null(a->min_temp_dc) : json_null());
    json_object_set_new(o, "max_temperature_c", data ? temp_or_null(a->max_temp_dc) : json_null());
    json_object_set_new(o, "avg_temperature_c", data ? temp_or_null(a->avg_temp_dc) : json_null());
    json_object_set_new(o, "min_temperature", data ? pos_json(a->min_temp, "sensor") : json_null());
    json_object_set_new(o, "max_temperature", data ? pos_json(a->max_temp, "sensor") : json_null());
    json_object_set_new(o, "balancing", json_boolean(data && a->balancing));
    json_object_set_new(o, "fault", json_boolean(a->fault));
    int64_t full = data ? status_time_to_full_s(a->soc_pct, a->capacity_ah, a->current_a) : -1;
    int64_t empty = data ? status_time_to_empty_s(a->soc_pct, a->capacity_ah, a->current_a) : -1;
    json_object_set_new(o, "time_to_full_s", seconds_or_null(full));
    json_object_set_new(o, "time_to_empty_s", seconds_or_null(empty));
    return o;
}

/* The BMS settings refused as less safe than the configuration (strings numbered from 1). */
static json_t *refused_json(const struct bmsgw_limits *l)
{
    json_t *arr = json_array();
    unsigned n = l->refused_count < BMSGW_REFUSED_MAX ? l->refused_count : BMSGW_REFUSED_MAX;
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_refused *r = &l->refused[i];
        json_array_append_new(
            arr, json_pack("{s:o,s:s,s:s,s:o,s:o}", "string", string_no_or_null(r->string),
                           "threshold", bmsgw_threshold_name(r->what), "unit",
                           bmsgw_threshold_unit(r->what), "bms_value", json_rounded(r->bms, 1),
                           "config_value", json_rounded(r->config, 1)));
    }
    return arr;
}

static json_t *limits_json(const struct bmsgw_limits *l, int64_t now_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "valid", json_boolean(l->valid));
    json_object_set_new(o, "phase", json_string(bmsgw_charge_phase_name(l->phase)));
    json_object_set_new(o, "cvl_v", l->valid ? json_rounded(l->cvl_v, 3) : json_null());
    json_object_set_new(o, "ccl_a", l->valid ? json_rounded(l->ccl_a, 2) : json_null());
    json_object_set_new(o, "dcl_a", l->valid ? json_rounded(l->dcl_a, 2) : json_null());
    json_object_set_new(o, "dvl_v", l->valid ? json_rounded(l->dvl_v, 3) : json_null());
    json_object_set_new(o, "cvl_reason", json_string(l->cvl_reason));
    json_object_set_new(o, "ccl_reason", json_string(l->ccl_reason));
    json_object_set_new(o, "dcl_reason", json_string(l->dcl_reason));
    json_object_set_new(o, "dvl_reason", json_string(l->dvl_reason));
    json_object_set_new(o, "temp_source",
                        l->valid ? json_string(bmsgw_temp_source_name(l->temp_source))
                                 : json_null());
    json_object_set_new(o, "refused_count", json_integer(l->refused_count));
    json_object_set_new(o, "refused", refused_json(l));
    json_object_set_new(o, "age_ms", json_age_or_null(now_ms, l->computed_ms));
    return o;
}

static const struct status_alarm_info alarm_info[BMSGW_ALARM_COUNT] = {
    [BMSGW_ALARM_GENERAL] = { "General alarm", "", 1.0, 0 },
    [BMSGW_ALARM_HIGH_VOLTAGE] = { "High cell voltage", "mV", 1.0, 0 },
    [BMSGW_ALARM_LOW_VOLTAGE] = { "Low cell voltage", "mV", 1.0, 0 },
    [BMSGW_ALARM_HIGH_TEMP] = { "High battery temperature", "degC", 0.1, 1 },
    [BMSGW_ALARM_LOW_TEMP] = { "Low battery temperature", "degC", 0.1, 1 },
    [BMSGW_ALARM_HIGH_TEMP_CHARGE] = { "High temperature while charging", "degC", 0.1, 1 },
    [BMSGW_ALARM_LOW_TEMP_CHARGE] = { "Low temperature while charging", "degC", 0.1, 1 },
    [BMSGW_ALARM_HIGH_DISCHARGE_CURRENT] = { "High discharge current", "A", 1.0, 1 },
    [BMSGW_ALARM_HIGH_CHARGE_CURRENT] = { "High charge current", "A", 1.0, 1 },
    [BMSGW_ALARM_CONTACTOR] = { "Contactor", "", 1.0, 0 },
    [BMSGW_ALARM_SHORT_CIRCUIT] = { "Short circuit", "", 1.0, 0 },
    [BMSGW_ALARM_BMS_INTERNAL] = { "BMS internal fault", "", 1.0, 0 },
    [BMSGW_ALARM_CELL_IMBALANCE] = { "Cell imbalance", "mV", 1.0, 0 },
};

const struct status_alarm_info *status_alarm_info(unsigned alarm_id)
{
    static const struct status_alarm_info unknown = { "Unknown condition", "", 1.0, 0 };
    return alarm_id < BMSGW_ALARM_COUNT ? &alarm_info[alarm_id] : &unknown;
}

static json_t *alarms_json(const struct bmsgw_alarms *al, int64_t now_ms)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        const struct bmsgw_alarm_state *s = &al->a[i];
        const struct status_alarm_info *info = &alarm_info[i];
        bool known = s->level != BMSGW_LEVEL_UNSUPPORTED;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(bmsgw_alarm_name(i)));
        json_object_set_new(o, "title", json_string(info->title));
        json_object_set_new(o, "level", json_string(bmsgw_alarm_level_name(s->level)));
        json_object_set_new(o, "string", known ? string_no_or_null(s->string) : json_null());
        json_object_set_new(
            o, "value", known ? json_rounded(s->value * info->scale, info->decimals) : json_null());
        json_object_set_new(o, "threshold",
                            known ? json_rounded(s->threshold * info->scale, info->decimals)
                                  : json_null());
        json_object_set_new(o, "unit", json_string(info->unit));
        json_object_set_new(o, "for_ms", json_age_or_null(now_ms, s->since_ms));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* A clamp in force: {limit_a, left_ms, by}, else null. */
static json_t *clamp_json(const struct control_clamp *c, int64_t now_ms)
{
    if (!control_clamp_active(c, now_ms))
        return json_null();
    return json_pack("{s:o,s:I,s:s}", "limit_a", json_rounded(c->limit_a, 1), "left_ms",
                     (json_int_t)(c->until_ms - now_ms), "by", c->by);
}

static json_t *control_json(const struct control_state *c, int64_t now_ms)
{
    if (!c)
        return json_null();
    json_t *o = json_pack(
        "{s:b,s:s?,s:o,s:b,s:s?,s:o}", "charge_blocked", c->charge_blocked, "charge_blocked_by",
        c->charge_blocked ? c->charge_by : NULL, "charge_blocked_for_ms",
        c->charge_blocked ? json_age_or_null(now_ms, c->charge_since_ms) : json_null(),
        "discharge_blocked", c->discharge_blocked, "discharge_blocked_by",
        c->discharge_blocked ? c->discharge_by : NULL, "discharge_blocked_for_ms",
        c->discharge_blocked ? json_age_or_null(now_ms, c->discharge_since_ms) : json_null());
    json_object_set_new(o, "charge_clamp", clamp_json(&c->clamp[CONTROL_CHARGE], now_ms));
    json_object_set_new(o, "discharge_clamp", clamp_json(&c->clamp[CONTROL_DISCHARGE], now_ms));
    return o;
}

json_t *status_link_json(const struct bmsgw_link *l, int64_t now_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(bmsgw_link_state_name(l->state)));
    json_object_set_new(o, "for_ms", json_age_or_null(now_ms, l->since_ms));
    json_object_set_new(o, "last_ok_age_ms", json_age_or_null(now_ms, l->last_ok_ms));
    json_object_set_new(o, "requests", json_integer((json_int_t)l->requests));
    json_object_set_new(o, "timeouts", json_integer((json_int_t)l->timeouts));
    json_object_set_new(o, "crc_errors", json_integer((json_int_t)l->crc_errors));
    json_object_set_new(o, "exceptions", json_integer((json_int_t)l->exceptions));
    json_object_set_new(o, "reconnects", json_integer((json_int_t)l->reconnects));
    json_object_set_new(o, "rejected_samples", json_integer((json_int_t)l->rejected_samples));
    json_object_set_new(o, "cycle_last_ms", json_rounded(l->cycle_last_us / 1000.0, 3));
    json_object_set_new(o, "cycle_p50_ms", json_rounded(l->cycle_p50_us / 1000.0, 3));
    json_object_set_new(o, "cycle_p99_ms", json_rounded(l->cycle_p99_us / 1000.0, 3));
    json_object_set_new(o, "last_error", json_string(l->last_error));
    return o;
}

static void string_cells_json(json_t *o, const struct bmsgw_system *sys,
                              const struct bmsgw_string *st)
{
    json_t *mv = json_array(), *bal = json_array(), *need = json_array(), *temps = json_array();
    for (unsigned c = 0; c < st->cell_count && st->cell_first + c < BMSGW_MAX_CELLS; c++) {
        unsigned k = st->cell_first + c;
        json_array_append_new(mv, sys->cell_mv[k] ? json_integer(sys->cell_mv[k]) : json_null());
        json_array_append_new(bal, json_boolean(sys->cell_flags[k] & BMSGW_CELL_BALANCING));
        json_array_append_new(need, json_boolean(sys->cell_flags[k] & BMSGW_CELL_BALANCE_NEEDED));
    }
    for (unsigned t = 0; t < st->sensor_count && st->sensor_first + t < BMSGW_MAX_SENSORS; t++)
        json_array_append_new(temps, temp_or_null(sys->sensor_dc[st->sensor_first + t]));
    json_object_set_new(o, "cells_mv", mv);
    json_object_set_new(o, "cells_balancing", bal);
    json_object_set_new(o, "cells_balance_needed", need);
    json_object_set_new(o, "temperatures_c", temps);
}

static void string_values_json(json_t *o, const struct bmsgw_string *st, bool data)
{
    json_object_set_new(o, "pack_voltage_v", data ? json_rounded(st->pack_v, 3) : json_null());
    json_object_set_new(o, "current_a", data ? json_rounded(st->current_a, 3) : json_null());
    json_object_set_new(o, "power_w",
                        data ? json_rounded(st->pack_v * st->current_a, 1) : json_null());
    json_object_set_new(o, "soc_pct", data ? json_rounded(st->soc_pct, 2) : json_null());
    json_object_set_new(o, "soh_pct", data ? json_rounded(st->soh_pct, 2) : json_null());
    json_object_set_new(o, "capacity_ah",
                        st->capacity_ah > 0 ? json_rounded(st->capacity_ah, 2) : json_null());
    json_object_set_new(o, "min_cell_mv", data ? json_integer(st->min_cell_mv) : json_null());
    json_object_set_new(o, "max_cell_mv", data ? json_integer(st->max_cell_mv) : json_null());
    json_object_set_new(o, "min_cell",
                        data && st->min_cell_no ? json_integer(st->min_cell_no) : json_null());
    json_object_set_new(o, "max_cell",
                        data && st->max_cell_no ? json_integer(st->max_cell_no) : json_null());
    json_object_set_new(o, "mosfet_temperature_c",
                        data ? temp_or_null(st->mosfet_temp_dc) : json_null());
    json_object_set_new(o, "status", json_string(bmsgw_bms_state_name(st->state)));
    json_object_set_new(o, "status_code", json_integer(st->status_code));
    json_object_set_new(o, "time_left_s", data ? json_integer(st->time_left_s) : json_null());
    json_object_set_new(o, "lifetime_s", data ? json_integer(st->lifetime_s) : json_null());
    json_object_set_new(o, "charged_wh", json_rounded(st->charged_wh, 1));
    json_object_set_new(o, "discharged_wh", json_rounded(st->discharged_wh, 1));
}

static json_t *string_json(const struct bmsgw_system *sys, unsigned i,
                           const struct status_json_opts *opt)
{
    const struct bmsgw_string *st = &sys->strings[i];
    bool data = st->sample_ms > 0;
    bool fresh = bmsgw_string_is_fresh(st, opt->now_ms, opt->stale_after_ms);
    json_t *o = json_object();
    json_object_set_new(o, "string", json_integer(i + 1));
    json_object_set_new(o, "name", json_string(st->name));
    json_object_set_new(o, "online", json_boolean(st->online));
    json_object_set_new(o, "stale", json_boolean(!fresh));
    json_object_set_new(o, "age_ms", json_age_or_null(opt->now_ms, st->sample_ms));
    string_values_json(o, st, data);
    string_cells_json(o, sys, st);
    json_object_set_new(o, "link", status_link_json(&st->link, opt->now_ms));
    return o;
}

static json_t *can_json(const struct bmsgw_can_health *c, int64_t now_ms)
{
    return json_pack("{s:s,s:s,s:b,s:b,s:b,s:o}", "link", bmsgw_link_state_name(c->link.state),
                     "bus_state", bmsgw_can_bus_state_name(c->bus_state), "sending", c->sending,
                     "blocked", c->blocked, "inverter_identified", c->inverter_identified,
                     "inverter_seen_age_ms", json_age_or_null(now_ms, c->last_keepalive_ms));
}

json_t *status_to_json(const struct bmsgw_system *sys, const struct status_json_opts *o)
{
    int64_t age = bmsgw_system_age_ms(sys, o->now_ms);
    bool stale = age > o->stale_after_ms;
    json_t *root = json_object(), *strings = json_array();
    if (!root || !strings) {
        json_decref(root);
        json_decref(strings);
        return NULL;
    }
    json_object_set_new(root, "generation", json_integer((json_int_t)sys->generation));
    json_object_set_new(root, "time_ms", json_integer(o->now_real_ms));
    json_object_set_new(root, "age_ms", age == INT64_MAX ? json_null() : json_integer(age));
    json_object_set_new(root, "snapshot_age_ms", json_age_or_null(o->now_ms, sys->updated_ms));
    json_object_set_new(root, "stale", json_boolean(stale));
    json_object_set_new(root, "system", system_json(sys, stale));
    json_object_set_new(root, "energy",
                        json_pack("{s:o,s:o}", "charged_wh", json_rounded(sys->agg.charged_wh, 1),
                                  "discharged_wh", json_rounded(sys->agg.discharged_wh, 1)));
    json_object_set_new(root, "limits", limits_json(&sys->limits, o->now_ms));
    json_object_set_new(root, "alarms", alarms_json(&sys->alarms, o->now_ms));
    json_object_set_new(root, "control", control_json(o->control, o->now_ms));
    json_object_set_new(root, "can", can_json(&sys->can, o->now_ms));
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(strings, string_json(sys, i, o));
    json_object_set_new(root, "strings", strings);
    return root;
}

char *status_json_dumps(const struct bmsgw_system *sys, const struct status_json_opts *o,
                        size_t *len)
{
    json_t *j = status_to_json(sys, o);
    if (!j)
        return NULL;
    char *s = json_dumps(j, BMSGW_JSON_FLAGS);
    json_decref(j);
    if (s && len)
        *len = strlen(s);
    return s;
}
