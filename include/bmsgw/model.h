/* SPDX-License-Identifier: MIT */
/* model.h — the battery-system data model that the snapshot holds and every consumer copies. */
#ifndef BMSGW_MODEL_H
#define BMSGW_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* Capacities (the mega map's size); each string's share is assigned from the configuration. */
#define BMSGW_MAX_CELLS   4992
#define BMSGW_MAX_SENSORS 2304
#define BMSGW_MAX_STRINGS 64
#define BMSGW_NAME_MAX    32

struct bms_driver;

/* A temperature that is not measured (an unplugged sensor). */
#define BMSGW_TEMP_ABSENT INT16_MIN

/* Room for the raw words a driver keeps of its BMS's statistics, settings and identity pages
 * (bmsgw_string.stats_reg, settings_reg, ident_reg), read and shown only through that driver's
 * register table, and for the entries of its event log. */
#define BMSGW_STATS_COUNT    18
#define BMSGW_SETTINGS_COUNT 44
#define BMSGW_IDENT_COUNT    10
#define BMSGW_EVENTS_MAX     49

/* Cell flags (system cell_flags[]). */
enum {
    BMSGW_CELL_BALANCE_NEEDED = 1u << 0, /* the BMS wants to balance the cell */
    BMSGW_CELL_BALANCING = 1u << 1,      /* it is balancing it */
};

/* What a BMS says it is doing; each driver maps its own status codes onto these. */
enum bmsgw_bms_state {
    BMSGW_BMS_UNKNOWN = 0, /* a code the driver does not know, or nothing read yet */
    BMSGW_BMS_IDLE,
    BMSGW_BMS_CHARGING,
    BMSGW_BMS_DISCHARGING,
    BMSGW_BMS_FULL, /* fully charged */
    BMSGW_BMS_REGENERATION,
    BMSGW_BMS_FAULT,
};

/* Health of one link (a serial port, the CAN interface). */
enum bmsgw_link_state {
    BMSGW_LINK_DISABLED = 0,
    BMSGW_LINK_CONNECTING,
    BMSGW_LINK_UP,
    BMSGW_LINK_DEGRADED,
    BMSGW_LINK_DOWN,
};

struct bmsgw_link {
    enum bmsgw_link_state state;
    int64_t since_ms;   /* monotonic ms of the last state change */
    int64_t last_ok_ms; /* monotonic ms of the last good exchange, 0 = never */
    uint64_t requests;
    uint64_t timeouts;
    uint64_t crc_errors;
    uint64_t exceptions;
    uint64_t reconnects;
    uint64_t rejected_samples; /* samples that failed the plausibility checks */
    uint64_t garbage_bytes;    /* bytes skipped to find frames (noise, unsolicited output) */
    uint32_t cycle_last_us;
    uint32_t cycle_p50_us;
    uint32_t cycle_p99_us;
    char last_error[96];
};

/* How bad a BMS event is (the driver's reading of its code). */
enum bmsgw_event_severity {
    BMSGW_SEVERITY_INFO = 0,
    BMSGW_SEVERITY_WARNING,
    BMSGW_SEVERITY_FAULT, /* a cutoff: charging stops */
};

/* What an event means beyond its severity (bmsgw_bms_event.flags). */
enum {
    BMSGW_EVENT_STOPS_DISCHARGE = 1u << 0, /* a fault that stops discharging too */
    BMSGW_EVENT_RECOVERY = 1u << 1,        /* ends the faults before it */
};

/* One entry of a BMS's event log, described by its driver. */
struct bmsgw_bms_event {
    uint32_t timestamp_s; /* BMS lifetime seconds */
    uint8_t id;           /* the BMS's own event code, shown as is */
    uint8_t severity;     /* enum bmsgw_event_severity */
    uint8_t flags;        /* BMSGW_EVENT_* */
    uint8_t recovered_by; /* the code of the event that ends this one, 0 = none */
    const char *name;     /* the driver's text for the code: static, never NULL once described */
};

/* The cut-offs a BMS may also define (the stricter of it and the configuration is in force). */
enum bmsgw_threshold {
    BMSGW_THRESHOLD_OVER_VOLTAGE = 0,  /* mV */
    BMSGW_THRESHOLD_UNDER_VOLTAGE,     /* mV */
    BMSGW_THRESHOLD_DISCHARGE_CURRENT, /* A */
    BMSGW_THRESHOLD_CHARGE_CURRENT,    /* A */
    BMSGW_THRESHOLD_OVER_HEAT,         /* degC */
    BMSGW_THRESHOLD_CHARGE_LOW_TEMP,   /* degC */
    BMSGW_THRESHOLD_COUNT
};

/* One string: one pack with its own BMS (a Tescom arm, a mega-BMS string in the simulator). */
struct bmsgw_string {
    char name[BMSGW_NAME_MAX];
    const char *bms_name; /* its driver's name for the BMS ("TinyBMS"): static; NULL = none yet */
    const struct bms_driver *driver; /* the driver that reads it (bms_driver.h), NULL = none */
    bool online;                     /* link up and the newest sample accepted */
    int64_t sample_ms;               /* monotonic ms of the newest accepted sample, 0 = none yet */

    uint16_t cell_first; /* range in bmsgw_system.cell_mv[] */
    uint16_t cell_count;
    uint16_t sensor_first; /* range in bmsgw_system.sensor_dc[] (battery sensors only) */
    uint16_t sensor_count;

    double pack_v;
    double current_a; /* + = charging, - = discharging */
    double soc_pct;
    double soh_pct;
    double capacity_ah; /* installed capacity, 0 = unknown */
    uint16_t min_cell_mv;
    uint16_t max_cell_mv;
    uint16_t min_cell_no; /* 1-based within the string, 0 = none */
    uint16_t max_cell_no;
    int16_t mosfet_temp_dc; /* BMS internal temperature, BMSGW_TEMP_ABSENT if none */
    uint8_t state;          /* enum bmsgw_bms_state */
    uint16_t status_code;   /* the BMS's own code for it, shown as is, never interpreted */
    uint32_t time_left_s;
    uint32_t lifetime_s;

    bool stats_valid;
    bool settings_valid;
    bool ident_valid;
    /* The cut-offs the BMS itself enforces, in the units of enum bmsgw_threshold, as its driver
     * read them from its settings: bit i of cutoff_valid = cutoff[i] is known. */
    uint8_t cutoff_valid;
    double cutoff[BMSGW_THRESHOLD_COUNT];
    int64_t settings_ms; /* monotonic ms of the last settings read */
    uint16_t stats_reg[BMSGW_STATS_COUNT];
    uint16_t settings_reg[BMSGW_SETTINGS_COUNT];
    uint16_t ident_reg[BMSGW_IDENT_COUNT];

    uint16_t event_count;                            /* valid entries in events[] */
    uint32_t event_seq;                              /* incremented for every new event seen */
    struct bmsgw_bms_event events[BMSGW_EVENTS_MAX]; /* newest first */

    double charged_wh;
    double discharged_wh;

    struct bmsgw_link link;
};

/* A position in the system: string index (0-based) and the cell/sensor number in it (1-based). */
struct bmsgw_pos {
    int16_t string; /* -1 = none */
    uint16_t no;
};

struct bmsgw_aggregate {
    uint16_t strings_configured;
    uint16_t strings_online;
    double pack_v;    /* mean over online strings (strings are in parallel) */
    double current_a; /* sum over online strings */
    double soc_pct;   /* weighted by capacity */
    double soh_pct;
    double capacity_ah; /* sum over online strings */
    uint16_t min_cell_mv;
    uint16_t max_cell_mv;
    double avg_cell_mv;
    struct bmsgw_pos min_cell;
    struct bmsgw_pos max_cell;
    uint16_t temp_count; /* connected battery sensors over online strings */
    int16_t min_temp_dc; /* BMSGW_TEMP_ABSENT when no sensor is connected */
    int16_t max_temp_dc;
    int16_t avg_temp_dc;
    struct bmsgw_pos min_temp;
    struct bmsgw_pos max_temp;
    bool balancing;
    bool fault; /* a string reports BMS fault status */
    double charged_wh;
    double discharged_wh;
    int64_t oldest_sample_ms; /* over online strings, 0 = none */
    int64_t newest_sample_ms;
};

/* Alarm conditions, grouped by what they watch; the summary first (the alarm evaluation and the
 * oracle rely on it). Each CAN protocol and register map maps them onto its own bits. */
enum bmsgw_alarm_id {
    BMSGW_ALARM_GENERAL = 0, /* the worst of all the others */
    /* cells */
    BMSGW_ALARM_HIGH_VOLTAGE,
    BMSGW_ALARM_LOW_VOLTAGE,
    BMSGW_ALARM_CELL_IMBALANCE,
    /* temperatures */
    BMSGW_ALARM_HIGH_TEMP,
    BMSGW_ALARM_LOW_TEMP,
    BMSGW_ALARM_HIGH_TEMP_CHARGE,
    BMSGW_ALARM_LOW_TEMP_CHARGE,
    /* currents */
    BMSGW_ALARM_HIGH_CHARGE_CURRENT,
    BMSGW_ALARM_HIGH_DISCHARGE_CURRENT,
    BMSGW_ALARM_SHORT_CIRCUIT,
    /* the BMS and its switch */
    BMSGW_ALARM_BMS_INTERNAL,
    BMSGW_ALARM_CONTACTOR,
    BMSGW_ALARM_COUNT
};

enum bmsgw_alarm_level {
    BMSGW_LEVEL_UNSUPPORTED = 0, /* not monitored */
    BMSGW_LEVEL_OK,
    BMSGW_LEVEL_WARNING,
    BMSGW_LEVEL_ALARM,
};

struct bmsgw_alarm_state {
    uint8_t level;    /* enum bmsgw_alarm_level */
    int16_t string;   /* string that triggered it, -1 = system */
    double value;     /* the measured value, in the condition's unit */
    double threshold; /* the threshold crossed (or the nearest one when OK) */
    int64_t since_ms; /* monotonic ms of the last level change */
};

struct bmsgw_alarms {
    struct bmsgw_alarm_state a[BMSGW_ALARM_COUNT];
};

/* Where a string's temperature for the charge rules comes from. */
enum bmsgw_temp_source {
    BMSGW_TEMP_SOURCE_SENSORS = 0, /* battery sensors */
    BMSGW_TEMP_SOURCE_INTERNAL,    /* none connected: the BMS internal (MOSFET) sensor */
    BMSGW_TEMP_SOURCE_NONE,        /* no temperature at all: no charging */
};

/* A BMS setting not used because it is less safe than the configuration. */
struct bmsgw_refused {
    int16_t string; /* 0-based */
    uint8_t what;   /* enum bmsgw_threshold */
    double bms;     /* the BMS's value */
    double config;  /* the configured value, in force instead */
};
#define BMSGW_REFUSED_MAX 16

enum bmsgw_charge_phase {
    BMSGW_PHASE_BULK = 0,
    BMSGW_PHASE_ABSORPTION,
    BMSGW_PHASE_FLOAT,
    BMSGW_PHASE_BLOCKED, /* no valid data or a hard limit */
};

struct bmsgw_limits {
    bool valid;
    uint8_t phase; /* enum bmsgw_charge_phase */
    double cvl_v;
    double ccl_a;
    double dcl_a;
    double dvl_v;
    char cvl_reason[80];
    char ccl_reason[80];
    char dcl_reason[80];
    char dvl_reason[80];
    uint16_t strings_blocking_charge; /* online strings whose state forbids charging */
    uint16_t strings_blocking_discharge;
    uint8_t temp_source;    /* enum bmsgw_temp_source: the worst over the fresh strings */
    uint16_t refused_count; /* settings refused as less safe (may exceed BMSGW_REFUSED_MAX) */
    struct bmsgw_refused refused[BMSGW_REFUSED_MAX];
    int64_t computed_ms;
};

/* Per-frame CAN counters are indexed by the position in the CAN protocol's frame table
 * (can_proto.h); no protocol has more frames than this. */
#define BMSGW_CAN_FRAMES_MAX 32

enum bmsgw_can_bus_state {
    BMSGW_CAN_BUS_UNKNOWN = 0,
    BMSGW_CAN_BUS_ERROR_ACTIVE,
    BMSGW_CAN_BUS_ERROR_WARNING,
    BMSGW_CAN_BUS_ERROR_PASSIVE,
    BMSGW_CAN_BUS_OFF,
    BMSGW_CAN_BUS_STOPPED,
};

/* Written by the CAN thread; kept beside the battery data, not part of its generation. */
struct bmsgw_can_health {
    struct bmsgw_link link;
    char interface[16];
    uint8_t bus_state; /* enum bmsgw_can_bus_state */
    uint32_t bitrate;  /* 0 = unknown / not applicable (vcan) */
    bool sending;      /* frames are going out (false while silenced) */
    bool blocked;      /* sending with the stale/operator block applied */
    uint64_t tx_frames;
    uint64_t rx_frames;
    uint64_t tx_dropped; /* ENOBUFS and other send failures */
    uint64_t bus_errors;
    uint64_t restarts;
    int64_t last_keepalive_ms; /* the inverter's keepalive, monotonic ms, 0 = never seen */
    int64_t last_identify_ms;  /* the inverter's identification */
    bool inverter_identified;  /* it identified itself as the protocol's peer */
    int64_t frame_last_ms[BMSGW_CAN_FRAMES_MAX]; /* by frame index of the protocol */
};

/* The whole system. Plain data: copy it, never share pointers into it. */
struct bmsgw_system {
    uint64_t generation; /* incremented by every battery-data commit */
    int64_t updated_ms;  /* monotonic ms of the last commit */

    uint16_t string_count;
    uint16_t cell_count;
    uint16_t sensor_count;
    struct bmsgw_string strings[BMSGW_MAX_STRINGS];
    uint16_t cell_mv[BMSGW_MAX_CELLS];
    uint8_t cell_flags[BMSGW_MAX_CELLS];
    int16_t sensor_dc[BMSGW_MAX_SENSORS]; /* 0.1 degC, BMSGW_TEMP_ABSENT = not connected */

    struct bmsgw_aggregate agg;
    struct bmsgw_alarms alarms;
    struct bmsgw_limits limits;
    struct bmsgw_can_health can;
};

/* Names for enums (static strings, never NULL). */
const char *bmsgw_link_state_name(enum bmsgw_link_state s);
const char *bmsgw_bms_state_name(enum bmsgw_bms_state s);
const char *bmsgw_event_severity_name(enum bmsgw_event_severity s); /* "info", "warning", "fault" */
const char *bmsgw_alarm_name(enum bmsgw_alarm_id id);
const char *bmsgw_alarm_level_name(enum bmsgw_alarm_level l);
const char *bmsgw_charge_phase_name(enum bmsgw_charge_phase p);
const char *bmsgw_can_bus_state_name(enum bmsgw_can_bus_state s);
const char *bmsgw_threshold_name(enum bmsgw_threshold t);
const char *bmsgw_threshold_unit(enum bmsgw_threshold t);
const char *bmsgw_temp_source_name(enum bmsgw_temp_source s);

/* True when the string is online and its newest sample is at most stale_after_ms old. */
bool bmsgw_string_is_fresh(const struct bmsgw_string *st, int64_t now_ms, int stale_after_ms);

/* Age in ms of the system's battery data at now_ms: the oldest online string's sample age, or
 * INT64_MAX when no string is online. */
int64_t bmsgw_system_age_ms(const struct bmsgw_system *sys, int64_t now_ms);

/* True when the battery data must not be used as fresh (no online string, or older than
 * stale_after_ms). */
bool bmsgw_system_is_stale(const struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms);

#endif
