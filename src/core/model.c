/* SPDX-License-Identifier: MIT */
/* model.c — names for the model's enums and staleness (pure). */
#include "bmsgw/model.h"

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

const char *bmsgw_bms_state_name(enum bmsgw_bms_state s)
{
    switch (s) {
    case BMSGW_BMS_CHARGING:
        return "charging";
    case BMSGW_BMS_FULL:
        return "fully charged";
    case BMSGW_BMS_DISCHARGING:
        return "discharging";
    case BMSGW_BMS_REGENERATION:
        return "regeneration";
    case BMSGW_BMS_IDLE:
        return "idle";
    case BMSGW_BMS_FAULT:
        return "fault";
    case BMSGW_BMS_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *bmsgw_event_severity_name(enum bmsgw_event_severity s)
{
    switch (s) {
    case BMSGW_SEVERITY_FAULT:
        return "fault";
    case BMSGW_SEVERITY_WARNING:
        return "warning";
    case BMSGW_SEVERITY_INFO:
        break;
    }
    return "info";
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
