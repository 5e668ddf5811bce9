/* SPDX-License-Identifier: MIT */
/* mbmap_maps.h — the four register maps, their source structs, and how the gateway fills them. */
#ifndef BMSGW_MBMAP_MAPS_H
#define BMSGW_MBMAP_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/control.h"
#include "bmsgw/mbmap.h"
#include "bmsgw/model.h"

/*
 * Each map renders from its own plain source struct. The gateway fills the sources from the
 * snapshot with the *_from_system() functions below (pure); the simulators fill them from their
 * physics. Either way the same table decides every address, type and scale.
 */

extern const struct mbmap mbmap_mega;
extern const struct mbmap mbmap_tescom;
extern const struct mbmap mbmap_pack12s;
extern const struct mbmap mbmap_testpattern;

/* |current| below this counts as idle for the status bits (A). */
#define MBMAP_IDLE_CURRENT_A 0.5

/* ---- mega BMS (seed 000) ------------------------------------------------------------------- */

#define MBMAP_MEGA_CELLS   4992
#define MBMAP_MEGA_SENSORS 2304

/* Status coils 0..7 (discrete inputs 0..7 mirror them). */
enum mbmap_mega_status {
    MBMAP_MEGA_ONLINE = 0,
    MBMAP_MEGA_CHARGING,
    MBMAP_MEGA_DISCHARGING,
    MBMAP_MEGA_BALANCING,
    MBMAP_MEGA_ALARM,
    MBMAP_MEGA_WARNING,
    MBMAP_MEGA_CHARGE_ALLOWED,
    MBMAP_MEGA_DISCHARGE_ALLOWED,
    MBMAP_MEGA_STATUS_COUNT
};

/* Control coils. */
#define MBMAP_MEGA_COIL_CHARGE_ENABLE    100
#define MBMAP_MEGA_COIL_DISCHARGE_ENABLE 101
#define MBMAP_MEGA_COIL_ACK_ALERTS       102

/* A temperature written to the simulator with this raw value releases a forced sensor. */
#define MBMAP_MEGA_TEMP_RELEASE_RAW 0x7FFF

struct mbmap_mega_src {
    double soc_pct;
    double soh_pct;
    double total_v;
    double current_a; /* + = charging */
    bool has_temp;    /* false: the temperature values read 0 */
    double max_temp_c;
    double avg_temp_c;
    double avg_cell_v;
    double pack_v;
    uint16_t cell_mv[MBMAP_MEGA_CELLS];    /* 0 = no cell */
    int16_t sensor_dc[MBMAP_MEGA_SENSORS]; /* BMSGW_TEMP_ABSENT = not measured (0x8000) */
    bool status[MBMAP_MEGA_STATUS_COUNT];
    bool charge_enabled;
    bool discharge_enabled;
};

/* From the snapshot: cells and sensors numbered across strings in order (cells of a string that
 * is not online read 0, its sensors absent), aggregates from sys->agg, coils from the alarms,
 * limits and operator blocks (ctl may be NULL: nothing blocked). stale clears the online and
 * activity coils. */
void mbmap_mega_from_system(struct mbmap_mega_src *out, const struct bmsgw_system *sys,
                            const struct control_state *ctl, bool stale);

/* ---- Tescom (seed 002) --------------------------------------------------------------------- */

#define MBMAP_TESCOM_ARMS      4
#define MBMAP_TESCOM_BATTERIES 120

enum mbmap_tescom_value {
    MBMAP_TESCOM_VOLTAGE = 0, /* V */
    MBMAP_TESCOM_SOC,         /* % */
    MBMAP_TESCOM_RIMT,        /* module temperature, degC */
    MBMAP_TESCOM_SOH,         /* % */
    MBMAP_TESCOM_NTC1,        /* degC */
    MBMAP_TESCOM_NTC2,
    MBMAP_TESCOM_NTC3,
    MBMAP_TESCOM_VALUE_COUNT
};

enum mbmap_tescom_arm_alarm {
    MBMAP_TESCOM_ARM_HIGH_CURRENT = 0,
    MBMAP_TESCOM_ARM_HIGH_HUMIDITY,
    MBMAP_TESCOM_ARM_HIGH_AMBIENT,
    MBMAP_TESCOM_ARM_HIGH_TEMP,
    MBMAP_TESCOM_ARM_ALARM_COUNT
};

enum mbmap_tescom_battery_alarm {
    MBMAP_TESCOM_LOW_V_WARNING = 0,
    MBMAP_TESCOM_LOW_V_ALARM,
    MBMAP_TESCOM_HIGH_V_WARNING,
    MBMAP_TESCOM_HIGH_V_ALARM,
    MBMAP_TESCOM_MODULE_TEMP_ALARM,
    MBMAP_TESCOM_POS_POLE_TEMP_ALARM,
    MBMAP_TESCOM_NEG_POLE_TEMP_ALARM,
    MBMAP_TESCOM_BATTERY_ALARM_COUNT
};

struct mbmap_tescom_battery {
    bool present; /* status register: data present */
    double value[MBMAP_TESCOM_VALUE_COUNT];
    bool alarm[MBMAP_TESCOM_BATTERY_ALARM_COUNT];
};

struct mbmap_tescom_arm {
    uint16_t count; /* batteries installed (register 0..3) */
    bool ok;        /* arm status: 1 normal, 0 no data / error */
    double current_a;
    double humidity_pct;
    double module_temp_c;
    double ambient_temp_c;
    bool alarm[MBMAP_TESCOM_ARM_ALARM_COUNT];
    struct mbmap_tescom_battery bat[MBMAP_TESCOM_BATTERIES];
};

struct mbmap_tescom_src {
    struct mbmap_tescom_arm arm[MBMAP_TESCOM_ARMS];
};

/* Thresholds of the Tescom alarm registers (absolute values). */
struct mbmap_tescom_limits {
    int cell_high_mv;
    int cell_high_warning_mv;
    int cell_low_mv;
    int cell_low_warning_mv;
    double module_temp_high_c;
    double arm_temp_high_c;
    double ambient_high_c;
    double humidity_high_pct;
    double charge_current_a;
    double discharge_current_a;
    bool pole_sensors; /* NTC1/NTC2 sit on the poles (simulator); the gateway has none */
    bool env_sensors;  /* humidity and ambient are measured (simulator); the gateway has none */
};

struct alarm_thresholds;

/* From one string's alarm thresholds (alarms.h, the ones the CAN alarms use): cells and currents
 * as they are; module and arm temperature at the high-temperature alarm, ambient at its warning;
 * humidity at 85 %. */
void mbmap_tescom_limits_from(struct mbmap_tescom_limits *l, const struct alarm_thresholds *th);

/* Set the alarm flags of one arm from its values: battery alarms for present batteries, arm
 * alarms when the arm has data (humidity/ambient only with env_sensors, pole alarms with
 * pole_sensors). */
void mbmap_tescom_eval_arm(struct mbmap_tescom_arm *a, const struct mbmap_tescom_limits *l);

/* From the snapshot: arm k = string k, battery j = cell j of that string (voltage), with the
 * string's SOC/SOH, the BMS internal temperature as RIMT, external sensors 1/2 as NTC1/NTC2 and
 * the string's highest sensor as NTC3 and arm module temperature; humidity and ambient 0 (no
 * sensor). stale clears the status registers; alarms use each string's thresholds as
 * alarm_thresholds_resolve() gives them for cfg. */
void mbmap_tescom_from_system(struct mbmap_tescom_src *out, const struct bmsgw_system *sys,
                              const struct cfg_alarms *cfg, bool stale);

/* ---- 12S pack (seed 004) ------------------------------------------------------------------- */

enum mbmap_pack12s_cmd {
    MBMAP_PACK12S_CMD04 = 0, /* 1596 balance mode */
    MBMAP_PACK12S_CMD05,     /* 1598 reserved */
    MBMAP_PACK12S_CMD07,     /* 1599 compensation coefficient (37) */
    MBMAP_PACK12S_CMD06,     /* 1642 release protection for 2 s and precharge */
    MBMAP_PACK12S_CMD03,     /* 6452 force power-off */
    MBMAP_PACK12S_CMD02,     /* 10077 release forced power-off */
    MBMAP_PACK12S_CMD01,     /* 15115 decode */
    MBMAP_PACK12S_CMD_COUNT
};

/* Working status bits (register 1451). */
enum {
    MBMAP_PACK12S_ST_CHARGING = 1u << 0,
    MBMAP_PACK12S_ST_DISCHARGING = 1u << 1,
    MBMAP_PACK12S_ST_IDLE = 1u << 2,
    MBMAP_PACK12S_ST_BALANCING = 1u << 3,
    MBMAP_PACK12S_ST_PRECHARGE = 1u << 4,
    MBMAP_PACK12S_ST_POWER_OFF = 1u << 5,
    MBMAP_PACK12S_ST_PROTECTION = 1u << 6,
    MBMAP_PACK12S_ST_LOCKED = 1u << 7,
};

/* Alarm bits (register 1452). */
enum {
    MBMAP_PACK12S_AL_CELL_OV = 1u << 0,
    MBMAP_PACK12S_AL_CELL_UV = 1u << 1,
    MBMAP_PACK12S_AL_OVER_TEMP = 1u << 2,
    MBMAP_PACK12S_AL_UNDER_TEMP = 1u << 3,
    MBMAP_PACK12S_AL_CHARGE_OC = 1u << 4,
    MBMAP_PACK12S_AL_DISCHARGE_OC = 1u << 5,
    MBMAP_PACK12S_AL_IMBALANCE = 1u << 6,
    MBMAP_PACK12S_AL_SEVERE_OV = 1u << 7,
    MBMAP_PACK12S_AL_STALE = 1u << 8,
};

struct mbmap_pack12s_src {
    double nominal_ah;
    double stored_ah;
    double current_a; /* + = charging */
    double pack_v;
    uint16_t max_cell_mv;
    uint16_t min_cell_mv;
    uint16_t max_cell_no; /* 1-based; 0 = none */
    uint16_t min_cell_no;
    bool has_temp;
    double max_temp_c;
    double min_temp_c;
    uint8_t max_temp_id; /* 1-based sensor number; 0 = none */
    uint8_t min_temp_id;
    double soh_pct;
    uint16_t status_bits;
    uint16_t alarm_bits;
    uint16_t cmd[MBMAP_PACK12S_CMD_COUNT]; /* the command registers as last written */
};

/* The cell and sensor numbers that 1448, 1449 and 1453 pack into bytes, put back together
 * (the inverse of what the map renders from a source). */
struct mbmap_pack12s_ids {
    uint16_t max_cell_no; /* 1-based; 0 = none */
    uint16_t min_cell_no;
    uint8_t max_temp_id;
    uint8_t min_temp_id;
};
void mbmap_pack12s_ids_decode(uint16_t cell_index_low, uint16_t temp_sensor_ids,
                              uint16_t cell_index_high, struct mbmap_pack12s_ids *out);

/* Address of a command register. */
unsigned mbmap_pack12s_cmd_addr(enum mbmap_pack12s_cmd c);
/* The command register a decoded write goes to, or -1 when it is not one. */
int mbmap_pack12s_cmd_of(const struct mbmap_write *w);

/* From the snapshot (the whole system as one pack; cell and sensor numbers across strings).
 * Status: charging/discharging/idle from the current, balancing from the cells, forced
 * power-off while both directions are blocked, protection while an alarm is at alarm level.
 * Alarm bits from sys->alarms (alarm level), bit 8 when stale. cmd: the stored commands. */
void mbmap_pack12s_from_system(struct mbmap_pack12s_src *out, const struct bmsgw_system *sys,
                               const struct control_state *ctl, const uint16_t *cmd, bool stale);

/* ---- test pattern (seed 003) --------------------------------------------------------------- */

#define MBMAP_TP_BITS 301 /* coils and discrete inputs 0..300 */

struct mbmap_testpattern_src {
    int64_t t;       /* seconds since start */
    int64_t epoch_s; /* wall clock for the string at 901 */
    uint8_t coils[MBMAP_TP_BITS];
    char hello_epoch[48];
};

/* The device behind the map: the coil state between ticks. */
struct mbmap_testpattern {
    int64_t start_ms;
    int64_t t;
    uint8_t coils[MBMAP_TP_BITS];
};

void mbmap_testpattern_init(struct mbmap_testpattern *tp, int64_t start_ms);
/* Apply the ticks up to now_ms: coils 0..100 toggle once per tick, 101..200 return to 0 and
 * 201..300 to 1. */
void mbmap_testpattern_advance(struct mbmap_testpattern *tp, int64_t now_ms);
/* Monotonic ms of the next tick. */
int64_t mbmap_testpattern_next_tick_ms(const struct mbmap_testpattern *tp);
void mbmap_testpattern_source(const struct mbmap_testpattern *tp, int64_t epoch_s,
                              struct mbmap_testpattern_src *out);
/* Apply coil writes (decoded by mbmap_write_decode). Returns MBMAP_EX_NONE. */
int mbmap_testpattern_write(struct mbmap_testpattern *tp, const struct mbmap_write *w, unsigned n);

#endif
