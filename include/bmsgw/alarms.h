/* SPDX-License-Identifier: MIT */
/* alarms.h — alarm and warning evaluation with hysteresis (pure; spec/victron-can.md 0x35A). */
#ifndef BMSGW_ALARMS_H
#define BMSGW_ALARMS_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"

/*
 * Conditions are evaluated per fresh string against that string's thresholds; the system level
 * of a condition is the worst over the strings (the string is named in the result). Levels:
 * BMSGW_LEVEL_OK / WARNING / ALARM for the monitored conditions, BMSGW_LEVEL_UNSUPPORTED for
 * contactor and short circuit (no BMS driver reports them yet).
 *
 *   high voltage      any cell >= cell_high_mv (or the BMS's over-voltage cut-off); warning at
 * cell_high_mv - margin low voltage       any cell <= cell_low_mv (or its under-voltage cut-off);
 * warning at cell_low_mv + margin high temperature  any battery sensor >= temp_high (or its
 * over-heat cut-off); warning margin below low temperature   any battery sensor <= temp_low;
 * warning <= temp_low_warning low temp charge   any sensor <= charge_temp_low (or its charge
 * low-temperature cut-off), charging or not (it blocks charging: spec "Safety invariants" 8); the
 * warning, margin above it, only while charging. With no battery sensor the BMS internal sensor
 * counts. high temp charge  the high-temperature alarm (it blocks charging), its warning only while
 *                     charging
 *   high discharge /  discharge / charge current >= the stricter of the configured value and
 *                     the BMS's over-current cut-offs;
 *   charge current    warnings at current_warning_pct of those
 *   cell imbalance    max - min cell of a string >= imbalance_mv (warning imbalance_warning_mv)
 *   BMS internal      alarms_string_fault(), or (warning) a warning event at most
 *                     ALARMS_EVENT_ACTIVE_S old on the BMS's lifetime clock
 *   general           any alarm (warning) above
 *
 * Absent sensors (BMSGW_TEMP_ABSENT) and unread cells (0 mV) are ignored. Hysteresis: a level
 * is left only when the value is back inside its threshold by hysteresis_mv (voltages and
 * imbalance), hysteresis_dc (temperatures) or ALARMS_CURRENT_HYST_PCT of the threshold
 * (currents). With no fresh string at all the previous levels are kept: consumers apply their
 * stale policy to the data's age. The levels are immediate; debouncing belongs to the alerts.
 */

/* A string is charging while its current is above this (sensor noise stays below). */
#define ALARMS_CHARGING_MIN_A 0.5
/* How long the newest BMS event keeps "BMS internal" raised (it clears earlier when a newer
 * event, such as a recovery, follows). */
#define ALARMS_EVENT_ACTIVE_S 60
/* Current conditions clear this share of their threshold below it. */
#define ALARMS_CURRENT_HYST_PCT 5

/* The thresholds a BMS may also set, in model.h's order (enum bmsgw_threshold). */

/* Thresholds of one string, absolute values. */
struct alarm_thresholds {
    bool from_bms; /* at least one threshold came from the string's settings registers */
    /* registers refused as less safe than the configuration: bit (1 << enum bmsgw_threshold),
     * with the register's value and the configured one (mV, degC or A) */
    uint8_t refused;
    double refused_bms[BMSGW_THRESHOLD_COUNT];
    double refused_cfg[BMSGW_THRESHOLD_COUNT];
    int cell_high_mv;
    int cell_high_warning_mv;
    int cell_low_mv;
    int cell_low_warning_mv;
    int temp_high_dc; /* 0.1 degC */
    int temp_high_warning_dc;
    int temp_low_dc;
    int temp_low_warning_dc;
    int charge_temp_low_dc;
    int charge_temp_low_warning_dc;
    double charge_current_a;
    double charge_current_warning_a;
    double discharge_current_a;
    double discharge_current_warning_a;
    int imbalance_mv;
    int imbalance_warning_mv;
    int hysteresis_mv;
    int hysteresis_dc;
};

/*
 * Thresholds of string st: from cfg and, when cfg->thresholds_from_bms and st->settings_valid,
 * the cut-offs of registers 315-320, the stricter of the two in force (spec "Safety invariants"
 * 3: over-voltage, over-heat and currents the lower, under-voltage and the low-temperature
 * charge cutoff the higher). A register less safe than the configuration is not used and is
 * recorded in refused; one outside its documented range is ignored. Warnings keep cfg's
 * margins from the cutoff in force. st may be NULL (configured values only).
 */
void alarm_thresholds_resolve(const struct cfg_alarms *cfg, const struct bmsgw_string *st,
                              struct alarm_thresholds *out);

/* Evaluation state: the per-string levels that hysteresis depends on, and the last result. */
struct alarms_state {
    uint8_t level[BMSGW_MAX_STRINGS][BMSGW_ALARM_COUNT];
    struct bmsgw_alarms last;
};

/* Everything unsupported, nothing seen yet. */
void alarms_init(struct alarms_state *st);

/*
 * Evaluate the conditions over sys's fresh strings (fresh at now_ms within stale_after_ms) and
 * write the system result to *out (since_ms kept from the state unless the level changed).
 */
void alarms_evaluate(const struct cfg_alarms *cfg, const struct bmsgw_system *sys, int64_t now_ms,
                     int stale_after_ms, struct alarms_state *st, struct bmsgw_alarms *out);

/*
 * A fault of string st that stops it (spec "Safety invariants" 7): fault status, or a fault
 * event at most ALARMS_EVENT_ACTIVE_S old on the BMS's clock with no recovery event after it.
 * Returns 0 (none), 1 (blocks charging: over-voltage, charge or regeneration over-current,
 * charger switch, low-temperature charging) or 2 (blocks both: under-voltage, over-temperature,
 * discharge over-current, low temperature, load or single-port switch, fully discharged, or
 * the fault status without such a recent event); *event gets the event id (0 for the status).
 */
int alarms_string_fault(const struct bmsgw_string *st, unsigned *event);

/* True when any condition (other than general) is at least at level lvl. */
bool alarms_any(const struct bmsgw_alarms *a, enum bmsgw_alarm_level lvl);

#endif
