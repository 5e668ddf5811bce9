/* SPDX-License-Identifier: MIT */
/* model.c — names for the model's enums, staleness and system aggregation (pure). */
#include "bmsgw/model.h"

#include <math.h>
#include <string.h>

const char *bmsgw_link_state_name(enum bmsgw_link_state s)
{
    switch (s) {
    case BMSGW_LINK_DISABLED:
        return "disabled";
    case BMSGW_LINK_CONNECTING:
        return "connecting";
    case BMSGW_LINK_UP:
        return "up";
    case BMSGW_LINK_DEGRADED:
        return "degraded";
    case BMSGW_LINK_DOWN:
        return "down";
    }
    return "unknown";
}

const char *bmsgw_bms_status_name(uint16_t status)
{
    switch (status) {
    case BMSGW_STATUS_CHARGING:
        return "charging";
    case BMSGW_STATUS_FULL:
        return "fully charged";
    case BMSGW_STATUS_DISCHARGING:
        return "discharging";
    case BMSGW_STATUS_REGENERATION:
        return "regeneration";
    case BMSGW_STATUS_IDLE:
        return "idle";
    case BMSGW_STATUS_FAULT:
        return "fault";
    default:
        return "unknown";
    }
}

static const char *const alarm_names[BMSGW_ALARM_COUNT] = {
    [BMSGW_ALARM_GENERAL] = "general",
    [BMSGW_ALARM_HIGH_VOLTAGE] = "high_voltage",
    [BMSGW_ALARM_LOW_VOLTAGE] = "low_voltage",
    [BMSGW_ALARM_HIGH_TEMP] = "high_temperature",
    [BMSGW_ALARM_LOW_TEMP] = "low_temperature",
    [BMSGW_ALARM_HIGH_TEMP_CHARGE] = "high_temperature_charge",
    [BMSGW_ALARM_LOW_TEMP_CHARGE] = "low_temperature_charge",
    [BMSGW_ALARM_HIGH_DISCHARGE_CURRENT] = "high_discharge_current",
    [BMSGW_ALARM_HIGH_CHARGE_CURRENT] = "high_charge_current",
    [BMSGW_ALARM_CONTACTOR] = "contactor",
    [BMSGW_ALARM_SHORT_CIRCUIT] = "short_circuit",
    [BMSGW_ALARM_BMS_INTERNAL] = "bms_internal",
    [BMSGW_ALARM_CELL_IMBALANCE] = "cell_imbalance",
};

const char *bmsgw_alarm_name(enum bmsgw_alarm_id id)
{
    return (unsigned)id < BMSGW_ALARM_COUNT ? alarm_names[id] : "unknown";
}

const char *bmsgw_alarm_level_name(enum bmsgw_alarm_level l)
{
    switch (l) {
    case BMSGW_LEVEL_UNSUPPORTED:
        return "unsupported";
    case BMSGW_LEVEL_OK:
        return "ok";
    case BMSGW_LEVEL_WARNING:
        return "warning";
    case BMSGW_LEVEL_ALARM:
        return "alarm";
    }
    return "unknown";
}

const char *bmsgw_charge_phase_name(enum bmsgw_charge_phase p)
{
    switch (p) {
    case BMSGW_PHASE_BULK:
        return "bulk";
    case BMSGW_PHASE_ABSORPTION:
        return "absorption";
    case BMSGW_PHASE_FLOAT:
        return "float";
    case BMSGW_PHASE_BLOCKED:
        return "blocked";
    }
    return "unknown";
}

const char *bmsgw_can_bus_state_name(enum bmsgw_can_bus_state s)
{
    switch (s) {
    case BMSGW_CAN_BUS_UNKNOWN:
        return "unknown";
    case BMSGW_CAN_BUS_ERROR_ACTIVE:
        return "error-active";
    case BMSGW_CAN_BUS_ERROR_WARNING:
        return "error-warning";
    case BMSGW_CAN_BUS_ERROR_PASSIVE:
        return "error-passive";
    case BMSGW_CAN_BUS_OFF:
        return "bus-off";
    case BMSGW_CAN_BUS_STOPPED:
        return "stopped";
    }
    return "unknown";
}

bool bmsgw_string_is_fresh(const struct bmsgw_string *st, int64_t now_ms, int stale_after_ms)
{
    return st->online && st->sample_ms > 0 && now_ms - st->sample_ms <= stale_after_ms;
}

int64_t bmsgw_system_age_ms(const struct bmsgw_system *sys, int64_t now_ms)
{
    int64_t oldest = 0;
    for (unsigned i = 0; i < sys->string_count; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        if (!st->online || st->sample_ms <= 0)
            continue;
        if (oldest == 0 || st->sample_ms < oldest)
            oldest = st->sample_ms;
    }
    return oldest ? now_ms - oldest : INT64_MAX;
}

bool bmsgw_system_is_stale(const struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms)
{
    return bmsgw_system_age_ms(sys, now_ms) > stale_after_ms;
}

struct temp_acc {
    long sum;
    unsigned n;
};

static void agg_cells(const struct bmsgw_system *sys, unsigned si, struct bmsgw_aggregate *a,
                      double *sum_mv, unsigned *n_cells)
{
    const struct bmsgw_string *st = &sys->strings[si];
    for (unsigned c = 0; c < st->cell_count; c++) {
        unsigned k = st->cell_first + c;
        if (k >= BMSGW_MAX_CELLS)
            break;
        uint16_t mv = sys->cell_mv[k];
        if (sys->cell_flags[k] & BMSGW_CELL_BALANCING)
            a->balancing = true;
        if (mv == 0)
            continue;
        if (*n_cells == 0 || mv < a->min_cell_mv) {
            a->min_cell_mv = mv;
            a->min_cell = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(c + 1) };
        }
        if (*n_cells == 0 || mv > a->max_cell_mv) {
            a->max_cell_mv = mv;
            a->max_cell = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(c + 1) };
        }
        *sum_mv += mv;
        (*n_cells)++;
    }
}

static void agg_temps(const struct bmsgw_system *sys, unsigned si, struct bmsgw_aggregate *a,
                      struct temp_acc *acc)
{
    const struct bmsgw_string *st = &sys->strings[si];
    for (unsigned t = 0; t < st->sensor_count; t++) {
        unsigned k = st->sensor_first + t;
        if (k >= BMSGW_MAX_SENSORS)
            break;
        int16_t dc = sys->sensor_dc[k];
        if (dc == BMSGW_TEMP_ABSENT)
            continue;
        if (acc->n == 0 || dc < a->min_temp_dc) {
            a->min_temp_dc = dc;
            a->min_temp = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(t + 1) };
        }
        if (acc->n == 0 || dc > a->max_temp_dc) {
            a->max_temp_dc = dc;
            a->max_temp = (struct bmsgw_pos){ .string = (int16_t)si, .no = (uint16_t)(t + 1) };
        }
        acc->sum += dc;
        acc->n++;
    }
}

static void agg_string_values(const struct bmsgw_string *st, struct bmsgw_aggregate *a,
                              double *w_soc, double *w_soh, double *w)
{
    double weight = st->capacity_ah > 0 ? st->capacity_ah : 1.0;
    a->pack_v += st->pack_v;
    a->current_a += st->current_a;
    a->capacity_ah += st->capacity_ah;
    *w_soc += st->soc_pct * weight;
    *w_soh += st->soh_pct * weight;
    *w += weight;
    if (st->status == BMSGW_STATUS_FAULT)
        a->fault = true;
    if (a->oldest_sample_ms == 0 || st->sample_ms < a->oldest_sample_ms)
        a->oldest_sample_ms = st->sample_ms;
    if (st->sample_ms > a->newest_sample_ms)
        a->newest_sample_ms = st->sample_ms;
}

void bmsgw_system_aggregate(struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms)
{
    struct bmsgw_aggregate a;
    memset(&a, 0, sizeof(a));
    a.min_cell.string = a.max_cell.string = a.min_temp.string = a.max_temp.string = -1;
    a.min_temp_dc = a.max_temp_dc = a.avg_temp_dc = BMSGW_TEMP_ABSENT;
    double w_soc = 0, w_soh = 0, w = 0, sum_mv = 0;
    unsigned n_cells = 0;
    struct temp_acc acc = { 0, 0 };
    unsigned n = sys->string_count < BMSGW_MAX_STRINGS ? sys->string_count : BMSGW_MAX_STRINGS;

    a.strings_configured = (uint16_t)n;
    for (unsigned i = 0; i < n; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        a.charged_wh += st->charged_wh;
        a.discharged_wh += st->discharged_wh;
        if (!bmsgw_string_is_fresh(st, now_ms, stale_after_ms))
            continue;
        a.strings_online++;
        agg_string_values(st, &a, &w_soc, &w_soh, &w);
        agg_cells(sys, i, &a, &sum_mv, &n_cells);
        agg_temps(sys, i, &a, &acc);
    }
    if (a.strings_online) {
        a.pack_v /= a.strings_online;
        a.soc_pct = w_soc / w;
        a.soh_pct = w_soh / w;
    }
    if (n_cells)
        a.avg_cell_mv = sum_mv / n_cells;
    if (acc.n) {
        a.temp_count = (uint16_t)acc.n;
        a.avg_temp_dc = (int16_t)lround((double)acc.sum / acc.n);
    }
    sys->agg = a;
}

const char *bmsgw_threshold_name(enum bmsgw_threshold t)
{
    static const char *const names[BMSGW_THRESHOLD_COUNT] = {
        [BMSGW_THRESHOLD_OVER_VOLTAGE] = "over-voltage cutoff",
        [BMSGW_THRESHOLD_UNDER_VOLTAGE] = "under-voltage cutoff",
        [BMSGW_THRESHOLD_DISCHARGE_CURRENT] = "discharge over-current cutoff",
        [BMSGW_THRESHOLD_CHARGE_CURRENT] = "charge over-current cutoff",
        [BMSGW_THRESHOLD_OVER_HEAT] = "over-heat cutoff",
        [BMSGW_THRESHOLD_CHARGE_LOW_TEMP] = "low-temperature charge cutoff",
    };
    return (unsigned)t < BMSGW_THRESHOLD_COUNT ? names[t] : "unknown";
}

const char *bmsgw_threshold_unit(enum bmsgw_threshold t)
{
    switch (t) {
    case BMSGW_THRESHOLD_OVER_VOLTAGE:
    case BMSGW_THRESHOLD_UNDER_VOLTAGE:
        return "mV";
    case BMSGW_THRESHOLD_DISCHARGE_CURRENT:
    case BMSGW_THRESHOLD_CHARGE_CURRENT:
        return "A";
    default:
        return "degC";
    }
}

const char *bmsgw_temp_source_name(enum bmsgw_temp_source s)
{
    switch (s) {
    case BMSGW_TEMP_SOURCE_SENSORS:
        return "battery sensors";
    case BMSGW_TEMP_SOURCE_INTERNAL:
        return "BMS internal";
    default:
        return "none";
    }
}
