/* SPDX-License-Identifier: MIT */
/* tinybms_regs.c — the TinyBMS register table (spec/tinybms.md), defined once. */
#include "bmsgw/tinybms.h"

const struct tinybms_block_def tinybms_blocks[TINYBMS_BLOCK_COUNT] = {
    [TINYBMS_BLOCK_LIVE] = { .name = "live", .first = 0, .count = TINYBMS_LIVE_COUNT },
    [TINYBMS_BLOCK_STATS] = { .name = "stats",
                              .first = BMSGW_STATS_FIRST,
                              .count = BMSGW_STATS_COUNT },
    [TINYBMS_BLOCK_EVENTS] = { .name = "events",
                               .first = TINYBMS_EVENTS_FIRST,
                               .count = TINYBMS_EVENTS_REGS },
    [TINYBMS_BLOCK_SETTINGS] = { .name = "settings",
                                 .first = BMSGW_SETTINGS_FIRST,
                                 .count = BMSGW_SETTINGS_COUNT },
    [TINYBMS_BLOCK_IDENTITY] = { .name = "identity",
                                 .first = BMSGW_IDENT_FIRST,
                                 .count = BMSGW_IDENT_COUNT },
};

static const struct bms_choice status_choices[] = {
    { 0x91, "charging" },
    { 0x92, "fully charged" },
    { 0x93, "discharging" },
    { 0x96, "regeneration" },
    { 0x97, "idle" },
    { 0x9B, "fault" },
    { 0, NULL },
};
static const struct bms_choice distance_units[] = {
    { 1, "meter" }, { 2, "kilometer" }, { 3, "feet" }, { 4, "mile" }, { 5, "yard" }, { 0, NULL },
};
static const struct bms_choice charger_types[] = {
    { 0, "variable" },
    { 1, "CC/CV" },
    { 2, "CAN" },
    { 0, NULL },
};
static const struct bms_choice temp_sensor_types[] = {
    { 0, "dual 10k NTC" },
    { 1, "multipoint active sensor" },
    { 0, NULL },
};
static const struct bms_choice operation_modes[] = {
    { 0, "dual port" },
    { 1, "single port" },
    { 0, NULL },
};
static const struct bms_choice precharge_durations[] = {
    { 0, "0.1 s" }, { 1, "0.2 s" }, { 2, "0.5 s" }, { 3, "1 s" }, { 4, "2 s" },
    { 5, "3 s" },   { 6, "4 s" },   { 7, "5 s" },   { 0, NULL },
};
static const struct bms_choice broadcast_intervals[] = {
    { 0, "off" }, { 1, "0.1 s" }, { 2, "0.2 s" }, { 3, "0.5 s" }, { 4, "1 s" },
    { 5, "2 s" }, { 6, "5 s" },   { 7, "10 s" },  { 0, NULL },
};
static const struct bms_choice broadcast_protocols[] = {
    { 0, "CA V3" },
    { 1, "ASCII" },
    { 2, "SOC bar" },
    { 0, NULL },
};
static const struct bms_choice reset_reasons[] = {
    { 0, "unknown" },
    { 1, "low power" },
    { 2, "window watchdog" },
    { 3, "independent watchdog" },
    { 4, "software" },
    { 5, "power on/down" },
    { 6, "reset pin" },
    { 7, "option bytes loading" },
    { 0, NULL },
};
static const struct bms_choice wakeup_reasons[] = {
    { 0, "charger connected" },  { 1, "ignition" }, { 2, "discharging detected" },
    { 3, "UART communication" }, { 0, NULL },
};

/* Read-only scalars of one block. */
#define RO(a, t, blk, k, nm, u, sc)                                                                \
    {                                                                                              \
        .addr = (a), .words = ((t) == TINYBMS_U32 || (t) == TINYBMS_FLOAT32) ? 2 : 1, .type = (t), \
        .word_order = ((t) == TINYBMS_U32 || (t) == TINYBMS_FLOAT32) ? TINYBMS_WORDS_CDAB : 0,     \
        .access = TINYBMS_READ, .block = (blk), .key = (k), .name = (nm), .unit = (u),             \
        .scale = (sc)                                                                              \
    }
/* A read-only byte of a register. */
#define RO_BYTE(a, t, h, blk, k, nm, u)                                                            \
    {                                                                                              \
        .addr = (a), .words = 1, .type = (t), .half = (h), .access = TINYBMS_READ, .block = (blk), \
        .key = (k), .name = (nm), .unit = (u), .scale = 1.0                                        \
    }
/* A writable settings value. */
#define RW(a, t, k, nm, u, sc, lo, hi)                                                             \
    {                                                                                              \
        .addr = (a), .words = ((t) == TINYBMS_U32) ? 2 : 1, .type = (t),                           \
        .word_order = ((t) == TINYBMS_U32) ? TINYBMS_WORDS_CDAB : 0, .access = TINYBMS_READ_WRITE, \
        .block = TINYBMS_BLOCK_SETTINGS, .key = (k), .name = (nm), .unit = (u), .scale = (sc),     \
        .min = (lo), .max = (hi)                                                                   \
    }
/* A writable byte of a settings register: a quantity, or a code (with names when known). */
#define RW_BYTE(a, h, kd, k, nm, u, lo, hi, ch)                                                    \
    {                                                                                              \
        .addr = (a), .words = 1, .type = TINYBMS_U8X2, .half = (h), .access = TINYBMS_READ_WRITE,  \
        .block = TINYBMS_BLOCK_SETTINGS, .kind = (kd), .key = (k), .name = (nm), .unit = (u),      \
        .scale = 1.0, .min = (lo), .max = (hi), .choices = (ch)                                    \
    }
#define Q TINYBMS_QUANTITY
#define C TINYBMS_CODE

#define L  TINYBMS_BLOCK_LIVE
#define S  TINYBMS_BLOCK_STATS
#define ID TINYBMS_BLOCK_IDENTITY
#define LO TINYBMS_LOW_BYTE
#define HI TINYBMS_HIGH_BYTE

const struct tinybms_reg tinybms_regs[] = {
    /* live data, 0..55 */
    { .addr = 0,
      .words = TINYBMS_MAX_CELLS,
      .type = TINYBMS_U16,
      .block = L,
      .key = "cell_voltage_mv",
      .name = "Cell voltages (top N registers hold N cells)",
      .unit = "mV",
      .scale = 0.1 },
    RO(32, TINYBMS_U32, L, "lifetime_s", "BMS lifetime counter", "s", 1.0),
    RO(34, TINYBMS_U32, L, "time_left_s", "Estimated time left", "s", 1.0),
    RO(36, TINYBMS_FLOAT32, L, "pack_voltage_v", "Pack voltage", "V", 1.0),
    RO(38, TINYBMS_FLOAT32, L, "pack_current_a", "Pack current (+ charging, - discharging)", "A",
       1.0),
    RO(40, TINYBMS_U16, L, "min_cell_voltage_mv", "Lowest cell voltage", "mV", 1.0),
    RO(41, TINYBMS_U16, L, "max_cell_voltage_mv", "Highest cell voltage", "mV", 1.0),
    { .addr = 42,
      .words = 1,
      .type = TINYBMS_I16,
      .block = L,
      .absent_min = true,
      .key = "external_temp_1_c",
      .name = "External temperature sensor 1",
      .unit = "degC",
      .scale = 0.1 },
    { .addr = 43,
      .words = 1,
      .type = TINYBMS_I16,
      .block = L,
      .absent_min = true,
      .key = "external_temp_2_c",
      .name = "External temperature sensor 2",
      .unit = "degC",
      .scale = 0.1 },
    RO(44, TINYBMS_U16, L, "distance_left_km", "Distance left", "km", 1.0),
    RO(45, TINYBMS_U16, L, "soh_pct", "State of health", "%", 0.002),
    RO(46, TINYBMS_U32, L, "soc_pct", "State of charge", "%", 0.000001),
    RO(48, TINYBMS_I16, L, "internal_temp_c", "BMS internal (MOSFET) temperature", "degC", 0.1),
    { .addr = 50,
      .words = 1,
      .type = TINYBMS_U16,
      .block = L,
      .kind = TINYBMS_CODE,
      .key = "online_status",
      .name = "Online status",
      .unit = "",
      .scale = 1.0,
      .choices = status_choices },
    { .addr = 51,
      .words = 1,
      .type = TINYBMS_U16,
      .block = L,
      .kind = TINYBMS_BITS,
      .key = "balancing_decision_bits",
      .name = "Balancing decision (bit i = cell i+1)",
      .unit = "",
      .scale = 1.0 },
    { .addr = 52,
      .words = 1,
      .type = TINYBMS_U16,
      .block = L,
      .kind = TINYBMS_BITS,
      .key = "balancing_active_bits",
      .name = "Balancing now (bit i = cell i+1)",
      .unit = "",
      .scale = 1.0 },
    RO(53, TINYBMS_U16, L, "detected_cells", "Number of detected cells", "", 1.0),
    RO(54, TINYBMS_FLOAT32, L, "speed_kmh", "Speed", "km/h", 1.0),

    /* statistics, 100..117 */
    RO(100, TINYBMS_U32, S, "total_distance_km", "Total distance", "km", 0.01),
    RO(102, TINYBMS_U16, S, "max_discharge_current_seen_a",
       "Highest discharge current seen (statistic, not a limit)", "A", 0.1),
    RO(103, TINYBMS_U16, S, "max_charge_current_seen_a",
       "Highest charge current seen (statistic, not a limit)", "A", 0.1),
    RO(104, TINYBMS_U16, S, "max_cell_difference_seen_mv", "Largest cell difference seen", "mV",
       0.1),
    RO(105, TINYBMS_U16, S, "under_voltage_count", "Under-voltage protections", "", 1.0),
    RO(106, TINYBMS_U16, S, "over_voltage_count", "Over-voltage protections", "", 1.0),
    RO(107, TINYBMS_U16, S, "discharge_over_current_count", "Discharge over-current protections",
       "", 1.0),
    RO(108, TINYBMS_U16, S, "charge_over_current_count", "Charge over-current protections", "",
       1.0),
    RO(109, TINYBMS_U16, S, "over_heat_count", "Over-heat protections", "", 1.0),
    RO(111, TINYBMS_U16, S, "charging_count", "Charging count", "", 1.0),
    RO(112, TINYBMS_U16, S, "full_charge_count", "Full charge count", "", 1.0),
    RO_BYTE(113, TINYBMS_I8X2, LO, S, "pack_temp_min_c", "Lowest pack temperature seen", "degC"),
    RO_BYTE(113, TINYBMS_I8X2, HI, S, "pack_temp_max_c", "Highest pack temperature seen", "degC"),
    { .addr = 114,
      .words = 1,
      .type = TINYBMS_U8X2,
      .half = LO,
      .block = S,
      .kind = TINYBMS_CODE,
      .key = "last_reset_reason",
      .name = "Last reset reason",
      .unit = "",
      .scale = 1.0,
      .choices = reset_reasons },
    { .addr = 114,
      .words = 1,
      .type = TINYBMS_U8X2,
      .half = HI,
      .block = S,
      .kind = TINYBMS_CODE,
      .key = "last_wakeup_reason",
      .name = "Last wake-up reason",
      .unit = "",
      .scale = 1.0,
      .choices = wakeup_reasons },
    RO(116, TINYBMS_U32, S, "stats_cleared_at_s", "Statistics last cleared at (lifetime)", "s",
       1.0),

    /* event log, 200..297 */
    { .addr = TINYBMS_EVENTS_FIRST,
      .words = TINYBMS_EVENTS_REGS,
      .type = TINYBMS_EVENTS,
      .block = TINYBMS_BLOCK_EVENTS,
      .key = "event_log",
      .name = "Event log: 49 entries of (timestamp bits 0-23, event id)",
      .unit = "",
      .scale = 1.0 },

    /* settings, 300..343 */
    RW(300, TINYBMS_U16, "fully_charged_voltage_mv", "Fully charged voltage (per cell)", "mV", 1.0,
       1200, 4500),
    RW(301, TINYBMS_U16, "fully_discharged_voltage_mv", "Fully discharged voltage (per cell)", "mV",
       1.0, 1000, 3500),
    RW(303, TINYBMS_U16, "early_balancing_threshold_mv", "Early balancing threshold", "mV", 1.0,
       1000, 4500),
    RW(304, TINYBMS_U16, "charge_finished_current_ma", "Charge finished current", "mA", 1.0, 100,
       5000),
    RW(305, TINYBMS_U16, "peak_discharge_current_cutoff_a", "Peak discharge current cutoff", "A",
       1.0, 1, 750),
    RW(306, TINYBMS_U16, "battery_capacity_ah", "Battery capacity", "Ah", 0.01, 0.1, 655.0),
    RW(307, TINYBMS_U16, "series_cells", "Number of series cells", "", 1.0, 4, 16),
    RW(308, TINYBMS_U16, "allowed_disbalance_mv", "Allowed disbalance", "mV", 1.0, 15, 100),
    RW(310, TINYBMS_U16, "charger_startup_delay_s", "Charger startup delay", "s", 1.0, 5, 60),
    RW(311, TINYBMS_U16, "charger_disable_delay_s", "Charger disable delay", "s", 1.0, 0, 60),
    RW(312, TINYBMS_U32, "pulses_per_unit", "Speed sensor pulses per distance unit", "", 1.0, 1,
       100000),
    { .addr = 314,
      .words = 1,
      .type = TINYBMS_U16,
      .access = TINYBMS_READ_WRITE,
      .block = TINYBMS_BLOCK_SETTINGS,
      .kind = TINYBMS_CODE,
      .key = "distance_unit",
      .name = "Distance unit",
      .unit = "",
      .scale = 1.0,
      .min = 1,
      .max = 5,
      .choices = distance_units },
    RW(315, TINYBMS_U16, "over_voltage_cutoff_mv", "Over-voltage cutoff (per cell)", "mV", 1.0,
       1200, 4500),
    RW(316, TINYBMS_U16, "under_voltage_cutoff_mv", "Under-voltage cutoff (per cell)", "mV", 1.0,
       800, 3500),
    RW(317, TINYBMS_U16, "discharge_over_current_cutoff_a", "Discharge over-current cutoff", "A",
       1.0, 1, 750),
    RW(318, TINYBMS_U16, "charge_over_current_cutoff_a", "Charge over-current cutoff", "A", 1.0, 1,
       750),
    RW(319, TINYBMS_I16, "over_heat_cutoff_c", "Over-heat cutoff", "degC", 1.0, 20, 90),
    RW(320, TINYBMS_I16, "low_temp_charger_cutoff_c", "Low-temperature charger cutoff", "degC", 1.0,
       -40, 10),
    RW(321, TINYBMS_U16, "charge_restart_level_pct", "Charge restart level", "%", 1.0, 60, 95),
    RW(322, TINYBMS_U16, "battery_max_cycles", "Battery maximum cycles", "", 1.0, 10, 65000),
    RW(323, TINYBMS_U16, "soh_setting_pct", "State of health setting", "%", 0.002, 0, 100),
    RW(328, TINYBMS_U16, "soc_setting_pct", "State of charge setting", "%", 0.002, 0, 100),
    { .addr = 329,
      .words = 1,
      .type = TINYBMS_U16,
      .access = TINYBMS_READ_WRITE,
      .block = TINYBMS_BLOCK_SETTINGS,
      .kind = TINYBMS_BITS,
      .key = "config_flags",
      .name = "Flags: bit0 invert external current sensor, bit1 disable switch diagnostics, bit2 "
              "enable charge restart level",
      .unit = "",
      .scale = 1.0,
      .min = 0,
      .max = 7 },
    RW_BYTE(330, LO, C, "charger_type", "Charger type", "", 0, 2, charger_types),
    RW_BYTE(330, HI, Q, "discharge_over_current_timeout_s", "Discharge over-current cutoff timeout",
            "s", 0, 30, NULL),
    RW_BYTE(331, LO, C, "load_switch_type", "Load switch type", "", 0, 8, NULL),
    RW_BYTE(332, LO, Q, "automatic_recovery_s", "Automatic recovery", "s", 1, 30, NULL),
    RW_BYTE(333, LO, C, "charger_switch_type", "Charger switch type", "", 1, 9, NULL),
    RW_BYTE(334, LO, C, "ignition", "Ignition input", "", 0, 6, NULL),
    RW_BYTE(335, LO, C, "charger_detection", "Charger detection", "", 1, 7, NULL),
    RW_BYTE(336, LO, C, "speed_sensor_input", "Speed sensor input", "", 0, 2, NULL),
    RW_BYTE(337, LO, C, "precharge_pin", "Precharge pin", "", 0, 16, NULL),
    RW_BYTE(338, LO, C, "precharge_duration", "Precharge duration", "", 0, 7, precharge_durations),
    RW_BYTE(339, LO, C, "temp_sensor_type", "Temperature sensor type", "", 0, 1, temp_sensor_types),
    RW_BYTE(340, LO, C, "operation_mode", "BMS operation mode", "", 0, 1, operation_modes),
    RW_BYTE(341, LO, C, "single_port_switch_type", "Single-port switch type", "", 0, 8, NULL),
    RW_BYTE(342, LO, C, "broadcast_interval", "Broadcast interval (0 = off)", "", 0, 7,
            broadcast_intervals),
    RW_BYTE(343, LO, C, "broadcast_protocol", "Broadcast protocol", "", 0, 2, broadcast_protocols),

    /* identity, 500..509 */
    RO_BYTE(500, TINYBMS_U8X2, LO, ID, "hardware_version", "Hardware version", ""),
    RO_BYTE(500, TINYBMS_U8X2, HI, ID, "hardware_changes", "Hardware changes version", ""),
    RO_BYTE(501, TINYBMS_U8X2, LO, ID, "firmware_version", "Public firmware version", ""),
    { .addr = 501,
      .words = 1,
      .type = TINYBMS_U8X2,
      .half = HI,
      .block = ID,
      .kind = TINYBMS_BITS,
      .key = "hardware_flags",
      .name = "bit0 high-power hardware, bits 1-2 current sensor (0 resistor, 1 hall, 2 external)",
      .unit = "",
      .scale = 1.0 },
    RO(502, TINYBMS_U16, ID, "internal_firmware_version", "Internal firmware version", "", 1.0),
    RO_BYTE(503, TINYBMS_U8X2, LO, ID, "bootloader_version", "Bootloader version", ""),
    RO_BYTE(503, TINYBMS_U8X2, HI, ID, "profile_version", "Register map profile version", ""),
    { .addr = 504,
      .words = 6,
      .type = TINYBMS_SERIAL,
      .block = ID,
      .key = "serial_number",
      .name = "Serial number (96 bits)",
      .unit = "",
      .scale = 1.0 },
};

const unsigned tinybms_reg_count = sizeof(tinybms_regs) / sizeof(tinybms_regs[0]);
