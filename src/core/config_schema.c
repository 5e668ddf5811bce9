/* SPDX-License-Identifier: MIT */
/* config_schema.c — every configuration key, defined once. */
#include "bmsgw/config_schema.h"

#include "config_walk.h"

#include <stdio.h>
#include <string.h>

/* Member of a group struct G. */
#define INT(G, f, lo, hi, d, u, h, fl)                                                             \
    {                                                                                              \
        .name = #f, .type = CFG_T_INT, .offset = offsetof(G, f), .min = (lo), .max = (hi),         \
        .def_i = (d), .unit = (u), .help = (h), .flags = (fl)                                      \
    }
#define DBL(G, f, lo, hi, d, u, h, fl)                                                             \
    {                                                                                              \
        .name = #f, .type = CFG_T_DOUBLE, .offset = offsetof(G, f), .dmin = (lo), .dmax = (hi),    \
        .def_d = (d), .unit = (u), .help = (h), .flags = (fl)                                      \
    }
#define BOOL(G, f, d, h, fl)                                                                       \
    {                                                                                              \
        .name = #f, .type = CFG_T_BOOL, .offset = offsetof(G, f), .def_i = (d), .help = (h),       \
        .flags = (fl)                                                                              \
    }
#define STR(G, f, minlen, d, h, fl)                                                                \
    {                                                                                              \
        .name = #f, .type = CFG_T_STRING, .offset = offsetof(G, f), .size = sizeof(((G *)0)->f),   \
        .min = (minlen), .max = sizeof(((G *)0)->f) - 1, .def_s = (d), .help = (h), .flags = (fl)  \
    }
#define ENUM(G, f, names, d, h, fl)                                                                \
    {                                                                                              \
        .name = #f, .type = CFG_T_ENUM, .offset = offsetof(G, f), .enums = (names), .def_i = (d),  \
        .help = (h), .flags = (fl)                                                                 \
    }
#define PRESET_INT(G, f, lo, hi, u, h, bit)                                                        \
    {                                                                                              \
        .name = #f, .type = CFG_T_INT, .offset = offsetof(G, f), .min = (lo), .max = (hi),         \
        .unit = (u), .help = (h), .flags = CFG_F_PRESET, .preset_bit = (bit)                       \
    }
/* A table half: x (int array) or f (double array) of struct cfg_table member t. */
#define TABLE_X(t, keyname, lo, hi, u, h, bit)                                                     \
    {                                                                                              \
        .name = keyname, .type = CFG_T_INT_ARRAY, .offset = offsetof(struct cfg_limits, t.x),      \
        .count_offset = offsetof(struct cfg_limits, t.n_x), .size = CFG_TABLE_MAX, .min = 2,       \
        .max = CFG_TABLE_MAX, .dmin = (lo), .dmax = (hi), .unit = (u), .help = (h),                \
        .flags = CFG_F_PRESET, .preset_bit = (bit)                                                 \
    }
#define TABLE_F(t, keyname, h, bit)                                                                \
    {                                                                                              \
        .name = keyname, .type = CFG_T_DOUBLE_ARRAY, .offset = offsetof(struct cfg_limits, t.f),   \
        .count_offset = offsetof(struct cfg_limits, t.n_f), .size = CFG_TABLE_MAX, .min = 2,       \
        .max = CFG_TABLE_MAX, .dmin = 0.0, .dmax = 1.0, .help = (h), .flags = CFG_F_PRESET,        \
        .preset_bit = (bit)                                                                        \
    }
/* A list of up to max_n groups (struct E each) in member f of G, its length in member c;
 * elem_def fills a new element, list_def is the list when the file has none. */
#define LIST(G, f, c, E, max_n, subkeys, elem_def, list_def, h)                                    \
    {                                                                                              \
        .name = #f, .type = CFG_T_LIST, .offset = offsetof(G, f), .count_offset = offsetof(G, c),  \
        .size = (max_n), .min = 0, .max = (max_n), .sub = (subkeys), .elem_size = sizeof(E),       \
        .elem_defaults = (elem_def), .list_defaults = (list_def), .flags = R, .help = (h)          \
    }
#define GROUP(f, members, h)                                                                       \
    {                                                                                              \
        .name = #f, .type = CFG_T_GROUP, .offset = offsetof(struct bmsgw_config, f),               \
        .sub = (members), .help = (h)                                                              \
    }

#define R CFG_F_RESTART

static const char *const log_levels[] = { "error", "warning", "notice", "info", "debug", NULL };
static const char *const on_stale_names[] = { "silence", "block", NULL };
static const char *const chemistries[] = { "lfp", "nmc", "lto", NULL };
static const char *const map_kinds[] = { "mega", "tescom", "pack12s", "testpattern", NULL };
/* The TCP port each map kind listens on when its port is 0 (same order). */
static const uint16_t map_default_ports[] = { 502, 1502, 7001, 5020 };
static const char *const word_orders[] = { "abcd", "cdab", NULL };
static const char *const rts_modes[] = { "none", "up", "down", NULL };

static const struct cfg_key log_keys[] = {
    ENUM(struct cfg_log, level, log_levels, CFG_LOG_INFO,
         "Lowest level written to the log: error, warning, notice, info or debug.", 0),
    { 0 },
};

static void port_elem_defaults(void *elem, unsigned index)
{
    struct cfg_port *p = elem;
    memset(p, 0, sizeof(*p));
    char name[BMSGW_NAME_MAX];
    snprintf(name, sizeof(name), "string%u", index + 1);
    cfg_set_string(p->name, sizeof(p->name), name);
}

static void ports_defaults(struct bmsgw_config *cfg)
{
    cfg->bms.port_count = 1;
    port_elem_defaults(&cfg->bms.ports[0], 0);
    cfg_set_string(cfg->bms.ports[0].name, sizeof(cfg->bms.ports[0].name), "house");
    cfg_set_string(cfg->bms.ports[0].device, sizeof(cfg->bms.ports[0].device), "/dev/ttyUSB0");
}

/* Filled before main from the drivers built in (cfg_bms_driver_name), as the CAN protocols. */
#define BMS_DRIVERS_MAX 8
static const char *bms_driver_names[BMS_DRIVERS_MAX + 1];

static const struct cfg_key port_keys[] = {
    STR(struct cfg_port, name, 1, "string<N>",
        "Name of this string, shown in the API, the dashboard and the logs.", CFG_F_ASCII),
    ENUM(struct cfg_port, type, bms_driver_names, 0,
         "BMS on this port: tinybms (Energus TinyBMS over Modbus RTU, the only one so far).", 0),
    STR(struct cfg_port, device, 1, "",
        "Serial device of the BMS (USB adapter or RS485 adapter); required.", 0),
    BOOL(struct cfg_port, rs485, 0,
         "Put the adapter into RS485 mode (kernel TIOCSRS485); not applicable to USB-UART cables.",
         0),
    ENUM(struct cfg_port, rts, rts_modes, CFG_RTS_NONE,
         "Drive RTS for RS485 direction control: none, up (RTS high while sending) or down.", 0),
    INT(struct cfg_port, rts_delay_us, 0, 100000, 0, "us",
        "Delay between raising RTS and sending, and after sending.", 0),
    INT(struct cfg_port, cells, 0, 48, 0, NULL,
        "Series cells of this string, at most what its BMS handles (tinybms: 16); 0 = the count "
        "the BMS reports first after start. A sample with another count, or whose pack voltage "
        "is more than half a cell from its cell sum, is rejected.",
        0),
    { 0 },
};

static const struct cfg_key bms_keys[] = {
    INT(struct cfg_bms, poll_interval_ms, 100, 5000, 250, "ms",
        "Fast-cycle period: cell voltages and live values of every BMS.", 0),
    INT(struct cfg_bms, stale_after_ms, 500, 60000, 3000, "ms",
        "Data older than this is stale for every consumer (CAN, Modbus TCP, web).", 0),
    INT(struct cfg_bms, timeout_ms, 20, 2000, 200, "ms",
        "Response timeout of one request; a timed-out request is sent once more (wake-up rule).",
        0),
    INT(struct cfg_bms, fail_threshold, 1, 100, 3, NULL,
        "Consecutive failed cycles after which the link is down and the string offline.", 0),
    INT(struct cfg_bms, slow_interval_ms, 1000, 600000, 10000, "ms",
        "Period of the statistics and event-log reads.", 0),
    INT(struct cfg_bms, settings_interval_ms, 5000, 3600000, 60000, "ms",
        "Period of the settings reads (TinyBMS: registers 300-343).", 0),
    INT(struct cfg_bms, reconnect_min_ms, 100, 60000, 500, "ms",
        "First delay before reopening a lost serial device; doubles up to reconnect_max_ms.", 0),
    INT(struct cfg_bms, reconnect_max_ms, 1000, 600000, 10000, "ms",
        "Longest delay between reconnection attempts.", 0),
    LIST(struct cfg_bms, ports, port_count, struct cfg_port, CFG_MAX_PORTS, port_keys,
         port_elem_defaults, ports_defaults,
         "Serial ports, one BMS each (one string of the battery system)."),
    { 0 },
};

/* The fixed keys of the can group; schema_lists_init() appends one period key per frame ID of the
 * protocols' tables (cfg_can_frame), so no ID is typed here. */
#define CAN_PROTOCOLS_MAX 8
static const char *can_protocol_names[CAN_PROTOCOLS_MAX + 1];
#define CAN_FIXED_KEYS_MAX 24
static struct cfg_key can_keys[CAN_FIXED_KEYS_MAX + CFG_CAN_PERIODS_MAX + 1] = {
    BOOL(struct cfg_can, enabled, 1, "Publish the frames of the CAN protocol (can.protocol).", R),
    ENUM(struct cfg_can, protocol, can_protocol_names, 0,
         "CAN protocol spoken on the interface: victron (Victron CAN-bus BMS, the only one so "
         "far).",
         R),
    STR(struct cfg_can, interface, 1, "can0", "SocketCAN interface.", R),
    BOOL(struct cfg_can, set_bitrate, 0,
         "Set the interface bitrate at start (needs CAP_NET_ADMIN; not applicable to vcan).", R),
    INT(struct cfg_can, bitrate, 10000, 1000000, 500000, "bit/s",
        "Bitrate to set when set_bitrate is true (Victron: 500000).", R),
    ENUM(struct cfg_can, on_stale, on_stale_names, CFG_STALE_SILENCE,
         "On stale data: silence (stop sending; the GX stops charging) or block (send CCL = DCL "
         "= 0 with the general alarm).",
         0),
    INT(struct cfg_can, restart_min_ms, 100, 60000, 1000, "ms",
        "First delay before restarting the interface after bus-off; doubles up to "
        "restart_max_ms.",
        0),
    INT(struct cfg_can, restart_max_ms, 1000, 600000, 30000, "ms",
        "Longest delay between bus-off restarts.", 0),
    STR(struct cfg_can, manufacturer, 1, "TinyBMS",
        "Manufacturer name the CAN protocol sends to the inverter (ASCII, 8 characters at most; "
        "the protocol may refuse names the inverter would misread: for victron never PYLON, BYD, "
        "PELIO or the word LG, the GX would apply that product's quirks).",
        CFG_F_ASCII),
    STR(struct cfg_can, battery_name, 1, "TinyBMS LFP",
        "Battery name the CAN protocol sends (ASCII, 16 characters at most).", CFG_F_ASCII),
    STR(struct cfg_can, battery_family, 0, "LFP",
        "Battery family the CAN protocol sends (ASCII, 8 characters at most; the same names "
        "refused as in manufacturer).",
        CFG_F_ASCII),
    STR(struct cfg_can, serial, 0, "",
        "Serial number the CAN protocol sends (ASCII, 16 characters at most).", CFG_F_ASCII),
    INT(struct cfg_can, model_id, 0, 65535, 0, NULL, "Model id the CAN protocol sends.", 0),
    INT(struct cfg_can, hardware_version, 0, 65535, 0, NULL,
        "Hardware version the CAN protocol sends.", 0),
};

#define L struct cfg_limits
static const struct cfg_key limits_keys[] = {
    ENUM(L, chemistry, chemistries, CFG_CHEM_LFP,
         "Cell chemistry: lfp, nmc or lto; selects the defaults of the keys marked 'preset'.", 0),
    PRESET_INT(L, cell_charge_mv, 1500, 4500, "mV",
               "Absorption voltage per cell: CVL = cells x this value in bulk/absorption.", 0),
    PRESET_INT(L, cell_float_mv, 1500, 4500, "mV", "Float voltage per cell.", 1),
    PRESET_INT(L, cell_min_mv, 1500, 4500, "mV", "CVL never goes below cells x this value.", 2),
    PRESET_INT(L, cell_discharge_min_mv, 1000, 4000, "mV",
               "Discharge voltage limit per cell: DVL = cells x this value.", 3),
    DBL(L, max_cvl_v, 0.0, 1000.0, 0.0, "V", "Upper cap of CVL for the pack; 0 = no extra cap.", 0),
    INT(L, float_spread_mv, 1, 200, 10, "mV",
        "Every cell within this spread (after absorption) starts the float timer.", 0),
    INT(L, float_after_s, 0, 86400, 900, "s",
        "Time in absorption with a tight spread before CVL ramps down to float.", 0),
    INT(L, rebulk_soc_pct, 0, 100, 80, "%", "Back to absorption when SOC falls below this.", 0),
    INT(L, rebulk_spread_mv, 5, 1000, 80, "mV",
        "Back to absorption when the cell spread reaches this.", 0),
    INT(L, cvl_slew_mv_per_s, 1, 10000, 50, "mV/s", "Largest CVL change per second (pack).", 0),
    INT(L, recover_hold_s, 0, 3600, 30, "s",
        "After a current limit dropped to 0 it stays there at least this long.", 0),
    DBL(L, ccl_ramp_a_per_s, 0.1, 1000.0, 5.0, "A/s", "Ramp of CCL/DCL back up after a hold.", 0),
    DBL(L, max_charge_current_a, 0.0, 10000.0, 50.0, "A",
        "Largest charge current of one string (CCL scales with the online strings).", 0),
    DBL(L, max_discharge_current_a, 0.0, 10000.0, 100.0, "A",
        "Largest discharge current of one string.", 0),
    DBL(L, no_sensor_charge_factor, 0.0, 1.0, 0.1, NULL,
        "Share of the charge current a string without a connected battery temperature sensor "
        "may take (its low-temperature cutoff then uses the BMS internal sensor; with no "
        "temperature at all it takes none).",
        0),
    TABLE_X(ccl_cell, "ccl_cell_mv", 1000, 5000, "mV",
            "CCL factor table by highest cell: cell voltages (increasing).", 4),
    TABLE_F(ccl_cell, "ccl_cell_factor", "CCL factors (0..1) at ccl_cell_mv.", 5),
    TABLE_X(ccl_temp, "ccl_temp_c", -60, 100, "degC",
            "CCL factor table by temperature: temperatures (increasing).", 6),
    TABLE_F(ccl_temp, "ccl_temp_factor", "CCL factors (0..1) at ccl_temp_c.", 7),
    TABLE_X(dcl_cell, "dcl_cell_mv", 1000, 5000, "mV",
            "DCL factor table by lowest cell: cell voltages (increasing).", 8),
    TABLE_F(dcl_cell, "dcl_cell_factor", "DCL factors (0..1) at dcl_cell_mv.", 9),
    TABLE_X(dcl_temp, "dcl_temp_c", -60, 100, "degC",
            "DCL factor table by temperature: temperatures (increasing).", 10),
    TABLE_F(dcl_temp, "dcl_temp_factor", "DCL factors (0..1) at dcl_temp_c.", 11),
    { 0 },
};
#undef L

#define A struct cfg_alarms
static const struct cfg_key alarms_keys[] = {
    BOOL(A, thresholds_from_bms, 1,
         "Also use the TinyBMS settings (registers 315-320) as thresholds once read: each "
         "threshold in force is the stricter of the configured one and the register; a "
         "register less safe than the configuration is refused and raises a warning alert.",
         0),
    PRESET_INT(A, cell_high_mv, 1200, 4500, "mV",
               "Over-voltage cutoff of a cell: the high voltage alarm, CCL 0, CVL at most cells x "
               "(this - 50 mV). A TinyBMS register 315 below it replaces it; one above it is "
               "refused (the stricter wins).",
               CFG_PRESET_ALARMS_FIRST),
    INT(A, cell_high_warning_mv, 0, 1000, 50, "mV",
        "High cell voltage warning this far below the alarm.", 0),
    PRESET_INT(A, cell_low_mv, 800, 4000, "mV",
               "Under-voltage cutoff of a cell: the low voltage alarm, DCL 0. A TinyBMS register "
               "316 above it replaces it; one below it is refused.",
               CFG_PRESET_ALARMS_FIRST + 1),
    INT(A, cell_low_warning_mv, 0, 1000, 100, "mV",
        "Low cell voltage warning this far above the alarm.", 0),
    INT(A, temp_high_c, 20, 100, 60, "degC",
        "Over-heat cutoff: the high temperature alarm and CCL = DCL = 0 (TinyBMS register 319).",
        0),
    INT(A, temp_high_warning_c, 0, 50, 5, "degC",
        "High temperature warning this far below the alarm.", 0),
    INT(A, temp_low_c, -60, 20, -20, "degC", "Low battery temperature alarm.", 0),
    INT(A, temp_low_warning_c, -60, 30, -10, "degC", "Low battery temperature warning.", 0),
    INT(A, charge_temp_low_c, -40, 20, 0, "degC",
        "Low-temperature charge cutoff: CCL 0 and the alarm at or below it, charging or not "
        "(TinyBMS register 320).",
        0),
    INT(A, charge_temp_warning_c, 0, 30, 5, "degC",
        "Low temperature while charging warning this far above its alarm.", 0),
    DBL(A, charge_current_a, 1.0, 10000.0, 100.0, "A",
        "High charge current alarm (TinyBMS register 318).", 0),
    DBL(A, discharge_current_a, 1.0, 10000.0, 200.0, "A",
        "High discharge current alarm (TinyBMS register 317).", 0),
    INT(A, current_warning_pct, 10, 100, 80, "%",
        "Current warnings at this share of the alarm thresholds.", 0),
    INT(A, imbalance_alarm_mv, 5, 1000, 80, "mV", "Cell imbalance (max - min) alarm.", 0),
    INT(A, imbalance_warning_mv, 5, 1000, 40, "mV", "Cell imbalance warning.", 0),
    INT(A, hysteresis_mv, 0, 500, 20, "mV",
        "A voltage condition clears only this far back inside its threshold.", 0),
    INT(A, hysteresis_dc, 0, 200, 20, "0.1 degC",
        "A temperature condition clears only this far back inside its threshold.", 0),
    INT(A, debounce_ms, 0, 600000, 2000, "ms",
        "A condition must hold this long before an alert is raised or cleared.", 0),
    { 0 },
};
#undef A

static void map_elem_defaults(void *elem, unsigned index)
{
    (void)index;
    memset(elem, 0, sizeof(struct cfg_map));
}

static void maps_defaults(struct bmsgw_config *cfg)
{
    cfg->mbtcp.map_count = 2;
    cfg->mbtcp.maps[0] = (struct cfg_map){ .kind = CFG_MAP_MEGA, .port = 502 };
    cfg->mbtcp.maps[1] = (struct cfg_map){ .kind = CFG_MAP_TESCOM, .port = 1502 };
}

static const struct cfg_key map_keys[] = {
    { .name = "map",
      .type = CFG_T_ENUM,
      .offset = offsetof(struct cfg_map, kind),
      .enums = map_kinds,
      .def_i = CFG_MAP_MEGA,
      .help = "Register map: mega, tescom, pack12s or testpattern." },
    INT(struct cfg_map, port, 0, 65535, 0, NULL,
        "TCP port; 0 = the map's default (mega 502, tescom 1502, pack12s 7001, testpattern "
        "5020).",
        0),
    INT(struct cfg_map, unit_id, 0, 247, 0, NULL,
        "Answer only this unit id (others get exception 0x0B); 0 = answer every unit id.", 0),
    ENUM(struct cfg_map, word_order, word_orders, CFG_WORDS_ABCD,
         "Order of the 16-bit words of 32/64-bit values: abcd (high word first) or cdab.", 0),
    { 0 },
};

static const struct cfg_key mbtcp_keys[] = {
    BOOL(struct cfg_mbtcp, enabled, 1, "Serve the Modbus TCP register maps.", R),
    STR(struct cfg_mbtcp, bind, 1, "0.0.0.0", "Address to listen on.", R),
    BOOL(struct cfg_mbtcp, allow_writes, 0,
         "Accept writes (mega control coils 100-102, pack12s command registers).", 0),
    BOOL(struct cfg_mbtcp, serve_stale, 0,
         "Answer reads of live values when the data is stale (otherwise exception 0x04).", 0),
    INT(struct cfg_mbtcp, max_connections, 1, 1000, 64, NULL,
        "Simultaneous client connections over all maps.", R),
    INT(struct cfg_mbtcp, idle_timeout_s, 1, 86400, 60, "s",
        "A connection without a request for this long is closed.", 0),
    INT(struct cfg_mbtcp, frame_timeout_ms, 100, 60000, 2000, "ms",
        "A connection that sent part of a request and stalls for this long is closed.", 0),
    LIST(struct cfg_mbtcp, maps, map_count, struct cfg_map, CFG_MAX_MAPS, map_keys,
         map_elem_defaults, maps_defaults, "The register maps to serve, each on its own port."),
    { 0 },
};

static const struct cfg_key http_keys[] = {
    BOOL(struct cfg_http, enabled, 1, "Serve the REST API and the dashboard.", R),
    STR(struct cfg_http, bind, 1, "0.0.0.0", "Address of the HTTP and WebSocket listeners.", R),
    INT(struct cfg_http, port, 1, 65535, 8080, NULL, "HTTP port.", R),
    STR(struct cfg_http, api_token_file, 1, "/var/lib/bmsgw/api-token",
        "Bearer token for mutating requests; generated (mode 0600) on first start.",
        R | CFG_F_FILE_ONLY),
    BOOL(struct cfg_http, read_requires_token, 0, "GET requests need the token too.", 0),
    STR(struct cfg_http, web_root, 1, "/usr/share/bmsgw/web", "Folder of the dashboard files.", R),
    STR(struct cfg_http, chartjs_dir, 1, "/usr/share/javascript/chart.js",
        "Folder of Chart.js (Debian libjs-chart.js), served under /chart.js/.", R),
    INT(struct cfg_http, max_connections, 1, 1024, 64, NULL, "Simultaneous HTTP connections.", R),
    INT(struct cfg_http, request_timeout_s, 1, 300, 10, "s",
        "A connection idle for this long is closed.", R),
    INT(struct cfg_http, rate_limit_per_min, 1, 100000, 60, "1/min",
        "Mutating requests per client and minute; beyond that 429.", 0),
    { 0 },
};

static const struct cfg_key ws_keys[] = {
    BOOL(struct cfg_ws, enabled, 1, "Serve the WebSocket streams.", R),
    INT(struct cfg_ws, port, 1, 65535, 8081, NULL, "WebSocket port (same bind as http).", R),
    INT(struct cfg_ws, max_clients, 1, 1024, 32, NULL, "Simultaneous WebSocket clients.", R),
    INT(struct cfg_ws, telemetry_min_interval_ms, 50, 60000, 250, "ms",
        "Shortest interval between two telemetry messages to one client.", 0),
    INT(struct cfg_ws, queue_len, 4, 4096, 64, NULL,
        "Messages queued per client; a client whose queue stays full is disconnected.", R),
    { 0 },
};

static const struct cfg_key mqtt_tls_keys[] = {
    BOOL(struct cfg_mqtt_tls, enabled, 0, "Connect over TLS.", 0),
    STR(struct cfg_mqtt_tls, ca_file, 0, "",
        "CA certificate(s) (PEM) of the broker; empty: the system's CA certificates.", 0),
    STR(struct cfg_mqtt_tls, cert_file, 0, "", "Client certificate (PEM), with key_file.", 0),
    STR(struct cfg_mqtt_tls, key_file, 0, "", "Private key of cert_file (PEM).", 0),
    BOOL(struct cfg_mqtt_tls, verify, 1,
         "Verify the broker's certificate and host name (off only for testing).", 0),
    { 0 },
};

static const struct cfg_key mqtt_keys[] = {
    BOOL(struct cfg_mqtt, enabled, 0, "Publish to an MQTT broker.", R),
    STR(struct cfg_mqtt, host, 1, "localhost", "Broker host name or address.", 0),
    INT(struct cfg_mqtt, port, 0, 65535, 0, NULL, "Broker port; 0: 1883, or 8883 with tls.", 0),
    STR(struct cfg_mqtt, client_id, 0, "", "MQTT client id; empty: bmsgw-<gateway_id>.", 0),
    STR(struct cfg_mqtt, gateway_id, 0, "",
        "This gateway's id in topics and unique ids ([a-z0-9_-]); empty: the host name.", 0),
    STR(struct cfg_mqtt, topic_prefix, 0, "",
        "Prefix of every topic (no + or #, no leading or trailing /); empty: bmsgw/<gateway_id>.",
        0),
    STR(struct cfg_mqtt, username, 0, "", "User name at the broker; empty: none.", 0),
    STR(struct cfg_mqtt, password_file, 0, "",
        "File holding the broker password (mode 0600; never logged or returned by the API).",
        CFG_F_FILE_ONLY),
    { .name = "tls",
      .type = CFG_T_GROUP,
      .offset = offsetof(struct cfg_mqtt, tls),
      .sub = mqtt_tls_keys,
      .help = "TLS to the broker." },
    INT(struct cfg_mqtt, keepalive_s, 5, 3600, 30, "s", "MQTT keepalive.", 0),
    INT(struct cfg_mqtt, state_interval_ms, 1000, 3600000, 5000, "ms",
        "Shortest interval between two state messages (at once on an alarm or limit change).", 0),
    BOOL(struct cfg_mqtt, ha_discovery, 1, "Publish Home Assistant discovery documents.", 0),
    STR(struct cfg_mqtt, ha_prefix, 1, "homeassistant", "Home Assistant discovery prefix.", 0),
    BOOL(struct cfg_mqtt, ha_cells, 1, "One Home Assistant sensor per cell.", 0),
    BOOL(struct cfg_mqtt, commands, 0,
         "Accept commands on <topic_prefix>/cmd/# (limit clamps, acknowledge alerts).", 0),
    INT(struct cfg_mqtt, command_max_ttl_s, 1, 86400, 3600, "s",
        "Longest lifetime a limit clamp command may ask for.", 0),
    { 0 },
};

const struct cfg_key cfg_schema[] = {
    { .name = "state_dir",
      .type = CFG_T_STRING,
      .offset = offsetof(struct bmsgw_config, state_dir),
      .size = CFG_PATH_MAX,
      .min = 1,
      .max = CFG_PATH_MAX - 1,
      .def_s = "/var/lib/bmsgw",
      .help = "Folder of the persistent state: energy counters, alert history, runtime.conf.",
      .flags = R | CFG_F_FILE_ONLY },
    GROUP(log, log_keys, "Logging."),
    GROUP(
        bms, bms_keys,
        "BMS pollers, one per serial port (bms.ports[].type picks the driver; tinybms: Modbus RTU, "
        "115200 8N1, address 0xAA)."),
    GROUP(can, can_keys, "The CAN-bus BMS protocol to the inverter on SocketCAN (can.protocol)."),
    GROUP(limits, limits_keys, "Charge-limit controller (CVL/CCL/DCL/DVL)."),
    GROUP(alarms, alarms_keys, "Alarm and warning thresholds (CAN alarm bits, alerts, maps)."),
    { .name = "modbus_tcp",
      .type = CFG_T_GROUP,
      .offset = offsetof(struct bmsgw_config, mbtcp),
      .sub = mbtcp_keys,
      .help = "Modbus TCP server." },
    GROUP(http, http_keys, "REST API and dashboard."),
    GROUP(ws, ws_keys, "WebSocket streams."),
    GROUP(mqtt, mqtt_keys, "MQTT publisher and Home Assistant discovery."),
    { 0 },
};

/* ---- the period keys, from the CAN protocols' tables ------------------------------------- */

static unsigned period_slot_id[CFG_CAN_PERIODS_MAX];
static unsigned period_slots;
static char period_names[CFG_CAN_PERIODS_MAX][24];
static char period_help[CFG_CAN_PERIODS_MAX][48];

int cfg_can_period_slot(unsigned can_id)
{
    for (unsigned s = 0; s < period_slots; s++)
        if (period_slot_id[s] == can_id)
            return (int)s;
    return -1;
}

/* One key can.period_<id>_ms per CAN ID (the first protocol sending it gives the default). */
static void add_period_key(struct cfg_key *k, unsigned can_id, int period_ms)
{
    unsigned s = period_slots++;
    period_slot_id[s] = can_id;
    snprintf(period_names[s], sizeof(period_names[s]), "period_%03X_ms", can_id);
    snprintf(period_help[s], sizeof(period_help[s]), "Send period of frame 0x%03X.", can_id);
    *k = (struct cfg_key){ .name = period_names[s],
                           .type = CFG_T_INT,
                           .offset = offsetof(struct cfg_can, period_ms) + s * sizeof(int),
                           .min = 100,
                           .max = 60000,
                           .def_i = period_ms,
                           .unit = "ms",
                           .help = period_help[s] };
}

/* Before main: the schema is complete before anything reads it (the daemon, tools, tests). */
__attribute__((constructor)) static void schema_lists_init(void)
{
    unsigned n = 0;
    while (can_keys[n].name)
        n++;
    for (unsigned d = 0; d < cfg_bms_driver_count() && d < BMS_DRIVERS_MAX; d++)
        bms_driver_names[d] = cfg_bms_driver_name(d);
    for (unsigned p = 0; p < cfg_can_protocol_count() && p < CAN_PROTOCOLS_MAX; p++) {
        can_protocol_names[p] = cfg_can_protocol_name(p);
        for (unsigned i = 0; i < cfg_can_frame_count(p); i++) {
            unsigned id;
            int period_ms;
            cfg_can_frame(p, i, &id, &period_ms);
            if (cfg_can_period_slot(id) < 0 && period_slots < CFG_CAN_PERIODS_MAX)
                add_period_key(&can_keys[n++], id, period_ms);
        }
    }
}

static const struct cfg_key *find_in(const struct cfg_key *keys, const char *name, size_t len)
{
    for (const struct cfg_key *k = keys; k && k->name; k++)
        if (strlen(k->name) == len && strncmp(k->name, name, len) == 0)
            return k;
    return NULL;
}

const struct cfg_key *cfg_key_find(const struct cfg_key *keys, const char *name)
{
    return name ? find_in(keys, name, strlen(name)) : NULL;
}

const struct cfg_key *cfg_schema_find(const char *path)
{
    const struct cfg_key *keys = cfg_schema, *k = NULL;
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        k = find_in(keys, path, len);
        if (!k)
            return NULL;
        if (!dot)
            return k;
        keys = k->sub;
        path = dot + 1;
    }
    return NULL;
}

const char *config_map_kind_name(int kind)
{
    return kind >= 0 && kind < 4 ? map_kinds[kind] : "unknown";
}

int config_map_default_port(int kind)
{
    return kind >= 0 && kind < 4 ? map_default_ports[kind] : 0;
}

const char *config_chemistry_name(int chem)
{
    return chem >= 0 && chem < CFG_CHEM_COUNT ? chemistries[chem] : "unknown";
}
