/* SPDX-License-Identifier: MIT */
/* config.h — the daemon's configuration: types, loading (file + runtime overlay), validation. */
#ifndef BMSGW_CONFIG_H
#define BMSGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/model.h"

#define CFG_MAX_PORTS       8
#define CFG_MAX_MAPS        4
#define CFG_PATH_MAX        256
#define CFG_TABLE_MAX       8
#define CFG_CAN_PERIODS_MAX BMSGW_CAN_FRAMES_MAX /* can.period_<id>_ms keys, all protocols */
#define CFG_DEFAULT_FILE    "/etc/bmsgw.conf"
#define CFG_OVERLAY_NAME    "runtime.conf"

/* Enumerations are stored as the index of their name in the schema. */
enum cfg_log_level {
    CFG_LOG_ERROR = 0,
    CFG_LOG_WARNING,
    CFG_LOG_NOTICE,
    CFG_LOG_INFO,
    CFG_LOG_DEBUG
};
enum cfg_on_stale { CFG_STALE_SILENCE = 0, CFG_STALE_BLOCK };
enum cfg_chemistry { CFG_CHEM_LFP = 0, CFG_CHEM_NMC, CFG_CHEM_LTO, CFG_CHEM_COUNT };
enum cfg_map_kind { CFG_MAP_MEGA = 0, CFG_MAP_TESCOM, CFG_MAP_PACK12S, CFG_MAP_TESTPATTERN };
enum cfg_word_order { CFG_WORDS_ABCD = 0, CFG_WORDS_CDAB };
enum cfg_rts { CFG_RTS_NONE = 0, CFG_RTS_UP, CFG_RTS_DOWN };

struct cfg_port {
    char name[BMSGW_NAME_MAX];
    char device[CFG_PATH_MAX];
    bool rs485;       /* put the adapter into RS485 mode (TIOCSRS485) */
    int rts;          /* enum cfg_rts: drive RTS for direction control */
    int rts_delay_us; /* RTS settle delay */
    int cells;        /* series cells, 0 = the first count seen */
    int type;         /* index into the BMS drivers built in (cfg_bms_driver_name) */
};

struct cfg_bms {
    int poll_interval_ms;
    int stale_after_ms;
    int timeout_ms;
    int fail_threshold;
    int slow_interval_ms;
    int settings_interval_ms;
    int reconnect_min_ms;
    int reconnect_max_ms;
    int port_count;
    struct cfg_port ports[CFG_MAX_PORTS];
};

struct cfg_can {
    bool enabled;
    char interface[16];
    bool set_bitrate;
    int bitrate;
    int on_stale; /* enum cfg_on_stale */
    int restart_min_ms;
    int restart_max_ms;
    char manufacturer[9];   /* 0x35E */
    char battery_name[17];  /* 0x370/0x371 */
    char battery_family[9]; /* 0x382 */
    char serial[17];        /* 0x380/0x381 */
    int model_id;           /* 0x35F */
    int hardware_version;   /* 0x35F */
    int protocol;           /* index in the CAN protocols built in (can.protocol) */
    /* send periods by key slot (cfg_can_period_slot): can.period_<id>_ms of every protocol */
    int period_ms[CFG_CAN_PERIODS_MAX];
};

/* A piecewise-linear factor table: x[] strictly increasing (mV or degC), f[] in 0..1. */
struct cfg_table {
    int n_x;
    int x[CFG_TABLE_MAX];
    int n_f;
    double f[CFG_TABLE_MAX];
};

struct cfg_limits {
    int chemistry; /* enum cfg_chemistry */
    int cell_charge_mv;
    int cell_float_mv;
    int cell_min_mv;
    int cell_discharge_min_mv;
    double max_cvl_v; /* 0 = no cap beyond the over-voltage rule */
    int float_spread_mv;
    int float_after_s;
    int rebulk_soc_pct;
    int rebulk_spread_mv;
    int cvl_slew_mv_per_s;
    int recover_hold_s;
    double ccl_ramp_a_per_s;
    double max_charge_current_a;
    double max_discharge_current_a;
    double no_sensor_charge_factor; /* CCL share of a string without a battery sensor */
    struct cfg_table ccl_cell;      /* x = highest cell mV */
    struct cfg_table ccl_temp;      /* x = degC */
    struct cfg_table dcl_cell;      /* x = lowest cell mV */
    struct cfg_table dcl_temp;      /* x = degC */
    uint32_t preset_explicit; /* bit per preset key: set by the file/overlay, not the preset */
};

struct cfg_alarms {
    bool thresholds_from_bms;
    int cell_high_mv;
    int cell_high_warning_mv;
    int cell_low_mv;
    int cell_low_warning_mv;
    int temp_high_c;
    int temp_high_warning_c;
    int temp_low_c;
    int temp_low_warning_c;
    int charge_temp_low_c;
    int charge_temp_warning_c;
    double charge_current_a;
    double discharge_current_a;
    int current_warning_pct;
    int imbalance_alarm_mv;
    int imbalance_warning_mv;
    int hysteresis_mv;
    int hysteresis_dc;
    int debounce_ms;
};

struct cfg_map {
    int kind; /* enum cfg_map_kind */
    int port;
    int unit_id;    /* 0 = answer every unit id */
    int word_order; /* enum cfg_word_order */
};

struct cfg_mbtcp {
    bool enabled;
    char bind[64];
    bool allow_writes;
    bool serve_stale;
    int max_connections;
    int idle_timeout_s;
    int frame_timeout_ms;
    int map_count;
    struct cfg_map maps[CFG_MAX_MAPS];
};

struct cfg_http {
    bool enabled;
    char bind[64];
    int port;
    char api_token_file[CFG_PATH_MAX];
    bool read_requires_token;
    char web_root[CFG_PATH_MAX];
    char chartjs_dir[CFG_PATH_MAX];
    int max_connections;
    int request_timeout_s;
    int rate_limit_per_min;
};

struct cfg_ws {
    bool enabled;
    int port;
    int max_clients;
    int telemetry_min_interval_ms;
    int queue_len;
};

/* MQTT (spec/mqtt.md). Empty strings mean the documented default, resolved by the service
 * (mqtt.h): gateway_id = the host name, client_id = "bmsgw-<gateway_id>", topic_prefix =
 * "bmsgw/<gateway_id>"; port 0 = 1883, or 8883 with TLS. */
struct cfg_mqtt_tls {
    bool enabled;
    char ca_file[CFG_PATH_MAX]; /* "" = the system's CA certificates */
    char cert_file[CFG_PATH_MAX];
    char key_file[CFG_PATH_MAX];
    bool verify;
};

struct cfg_mqtt {
    bool enabled;
    char host[128];
    int port;
    char client_id[64];
    char gateway_id[48];
    char topic_prefix[96];
    char username[64];
    char password_file[CFG_PATH_MAX];
    struct cfg_mqtt_tls tls;
    int keepalive_s;
    int state_interval_ms;
    bool ha_discovery;
    char ha_prefix[64];
    bool ha_cells;
    bool commands;
    int command_max_ttl_s;
};

struct cfg_log {
    int level; /* enum cfg_log_level */
};

struct bmsgw_config {
    char state_dir[CFG_PATH_MAX];
    struct cfg_log log;
    struct cfg_bms bms;
    struct cfg_can can;
    struct cfg_limits limits;
    struct cfg_alarms alarms;
    struct cfg_mbtcp mbtcp;
    struct cfg_http http;
    struct cfg_ws ws;
    struct cfg_mqtt mqtt;
};

/* CVL stays this far below cells x the over-voltage cutoff (spec/victron-can.md). */
#define CFG_OV_MARGIN_MV 50

/*
 * What the configuration asks of the CAN protocols built in, without knowing any: the CAN
 * module answers (src/can/can_protocols.c, from can_proto.h). Protocol p is 0..count-1, the
 * value of can.protocol; frame i is 0..cfg_can_frame_count(p)-1.
 */
/* The BMS drivers built in (src/bms/bms_drivers.c); the first is the default of
 * bms.ports[].type. */
unsigned cfg_bms_driver_count(void);
const char *cfg_bms_driver_name(unsigned d);
unsigned cfg_bms_driver_max_cells(unsigned d); /* series cells one BMS of driver d handles */
unsigned cfg_can_protocol_count(void);
const char *cfg_can_protocol_name(unsigned p);
unsigned cfg_can_frame_count(unsigned p);
/* The CAN ID of frame i of protocol p and its default send period. */
void cfg_can_frame(unsigned p, unsigned i, unsigned *can_id, int *period_ms);
/* 1 with why filled ("contains PYLON: the GX would ...") when protocol p refuses a name it
 * sends, 0 when the name is fine. */
int cfg_can_name_check(int p, const char *text, char *why, size_t size);

/* The slot in cfg_can.period_ms of the key can.period_<id>_ms (one per CAN ID over every
 * protocol, in the order of the protocols' tables), or -1 when no protocol sends can_id. */
int cfg_can_period_slot(unsigned can_id);

/* One error: where (file:line when it came from a file, the key path), and what is allowed. */
struct cfg_error {
    char file[CFG_PATH_MAX]; /* "" when not from a file */
    int line;                /* 0 when unknown */
    char key[128];           /* dotted path: "bms.ports[0].device"; "" for syntax errors */
    char msg[256];
};

/* "file:line: key: msg" (the parts that are known). */
const char *cfg_error_str(const struct cfg_error *e, char *buf, unsigned size);

/* Every key at its default (LFP presets). */
void config_defaults(struct bmsgw_config *cfg);

/*
 * Load path over the defaults, then the overlay over that, then chemistry presets for the preset
 * keys neither file set, then the cross-key checks. overlay_path NULL = <state_dir>/runtime.conf,
 * "" = none. A missing overlay is fine; a missing main file is an error.
 * Returns 0 or -EINVAL with *err filled.
 */
int config_load(struct bmsgw_config *cfg, const char *path, const char *overlay_path,
                struct cfg_error *err);

/* The same from text (tests); name is used as the file name in errors. */
int config_load_string(struct bmsgw_config *cfg, const char *text, const char *name,
                       struct cfg_error *err);

/* Cross-key checks (unique names/ports, monotonic tables, ordered thresholds). */
int config_validate(const struct bmsgw_config *cfg, struct cfg_error *err);

/* The overlay path for a config: <state_dir>/runtime.conf. */
void config_overlay_path(const struct bmsgw_config *cfg, char *buf, unsigned size);

/* Re-apply the chemistry presets to the preset keys not set explicitly. */
void config_apply_presets(struct bmsgw_config *cfg);

/* Syslog level of cfg->log.level. */
int config_log_syslog_level(const struct bmsgw_config *cfg);

/* Names of enum values ("mega", "lfp", ...). */
const char *config_map_kind_name(int kind);
const char *config_chemistry_name(int chem);

/* The TCP port a map kind listens on when its configured port is 0 (mega 502, tescom 1502,
 * pack12s 7001, testpattern 5020); 0 for an unknown kind. */
int config_map_default_port(int kind);

/* Dotted paths of keys whose values differ and that need a restart to take effect, written
 * comma-separated into buf. Returns how many differ. */
int config_restart_keys(const struct bmsgw_config *a, const struct bmsgw_config *b, char *buf,
                        unsigned size);

#endif
