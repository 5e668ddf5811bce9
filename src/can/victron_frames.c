/* SPDX-License-Identifier: MIT */
/* victron_frames.c — the 19 Victron frames: signals, periods, flags and one encoder each. */
#include "bmsgw/victron.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define U(n, bit, nbits, sc, u, hi)                                                                \
    {                                                                                              \
        .name = n, .start_bit = bit, .bits = nbits, .kind = CAN_SIG_UNSIGNED, .scale = sc,         \
        .min = 0, .max = hi, .unit = u                                                             \
    }
#define S16(n, bit, sc, u, lo, hi)                                                                 \
    {                                                                                              \
        .name = n, .start_bit = bit, .bits = 16, .kind = CAN_SIG_SIGNED, .scale = sc, .min = lo,   \
        .max = hi, .unit = u                                                                       \
    }
#define KELVIN(n, bit)                                                                             \
    {                                                                                              \
        .name = n, .start_bit = bit, .bits = 16, .kind = CAN_SIG_UNSIGNED, .scale = 1,             \
        .offset = -273.15, .min = -273.15, .max = 65261.85, .unit = "C"                            \
    }
#define ENERGY(n, bit)                                                                             \
    {                                                                                              \
        .name = n, .start_bit = bit, .bits = 32, .kind = CAN_SIG_UNSIGNED, .wrap = true,           \
        .scale = 0.1, .min = 0, .max = 429496729.5, .unit = "kWh"                                  \
    }
#define ASCII8(n)                                                                                  \
    {                                                                                              \
        .name = n, .start_bit = 0, .bits = 64, .kind = CAN_SIG_ASCII, .scale = 1, .unit = ""       \
    }
#define F2(n, bit)                                                                                 \
    {                                                                                              \
        .name = n, .start_bit = bit, .bits = 2, .kind = CAN_SIG_FIELD2, .scale = 1, .max = 3,      \
        .unit = ""                                                                                 \
    }
#define FIELDS(p, base)                                                                            \
    F2(p "general", base + 0), F2(p "high_voltage", base + 2), F2(p "low_voltage", base + 4),      \
        F2(p "high_temperature", base + 6), F2(p "low_temperature", base + 8),                     \
        F2(p "high_temperature_charge", base + 10), F2(p "low_temperature_charge", base + 12),     \
        F2(p "high_discharge_current", base + 14), F2(p "high_charge_current", base + 16),         \
        F2(p "contactor", base + 18), F2(p "short_circuit", base + 20),                            \
        F2(p "bms_internal", base + 22), F2(p "cell_imbalance", base + 24),                        \
        F2(p "reserved_1", base + 26), F2(p "reserved_2", base + 28),                              \
        F2(p "reserved_3", base + 30)

/* Rounded toward safe (spec "Safety invariants" 6): CVL, CCL, DCL down, DVL up. */
static const struct can_signal sig_351[] = {
    { .name = "cvl_v",
      .start_bit = 0,
      .bits = 16,
      .kind = CAN_SIG_UNSIGNED,
      .scale = 0.1,
      .min = 0,
      .max = 6553.5,
      .unit = "V",
      .round_dir = -1 },
    { .name = "ccl_a",
      .start_bit = 16,
      .bits = 16,
      .kind = CAN_SIG_SIGNED,
      .scale = 0.1,
      .min = -3276.8,
      .max = 3276.7,
      .unit = "A",
      .round_dir = -1 },
    { .name = "dcl_a",
      .start_bit = 32,
      .bits = 16,
      .kind = CAN_SIG_SIGNED,
      .scale = 0.1,
      .min = -3276.8,
      .max = 3276.7,
      .unit = "A",
      .round_dir = -1 },
    { .name = "dvl_v",
      .start_bit = 48,
      .bits = 16,
      .kind = CAN_SIG_UNSIGNED,
      .scale = 0.1,
      .min = 0,
      .max = 6553.5,
      .unit = "V",
      .round_dir = 1 },
};
static const struct can_signal sig_355[] = {
    U("soc_pct", 0, 16, 1, "%", 65535),
    U("soh_pct", 16, 16, 1, "%", 65535),
    U("soc_hires_pct", 32, 16, 0.01, "%", 655.35),
};
static const struct can_signal sig_356[] = {
    S16("voltage_v", 0, 0.01, "V", -327.68, 327.67),
    S16("current_a", 16, 0.1, "A", -3276.8, 3276.7),
    S16("temperature_c", 32, 0.1, "C", -3276.8, 3276.7),
};
static const struct can_signal sig_35a[] = { FIELDS("alarm_", 0), FIELDS("warning_", 32) };
static const struct can_signal sig_35e[] = { ASCII8("manufacturer") };
static const struct can_signal sig_35f[] = {
    U("model_id", 0, 16, 1, "", 65535),          U("firmware_major", 16, 8, 1, "", 255),
    U("firmware_minor", 24, 8, 1, "", 255),      U("capacity_online_ah", 32, 16, 1, "Ah", 65535),
    U("hardware_version", 48, 16, 1, "", 65535),
};
static const struct can_signal sig_370[] = { ASCII8("battery_name_1_8") };
static const struct can_signal sig_371[] = { ASCII8("battery_name_9_16") };
static const struct can_signal sig_372[] = {
    U("modules_online", 0, 16, 1, "", 65535),
    U("modules_blocking_charge", 16, 16, 1, "", 65535),
    U("modules_blocking_discharge", 32, 16, 1, "", 65535),
    U("modules_offline", 48, 16, 1, "", 65535),
};
static const struct can_signal sig_373[] = {
    U("min_cell_v", 0, 16, 0.001, "V", 65.535),
    U("max_cell_v", 16, 16, 0.001, "V", 65.535),
    KELVIN("min_temperature_c", 32),
    KELVIN("max_temperature_c", 48),
};
static const struct can_signal sig_374[] = { ASCII8("min_cell_id") };
static const struct can_signal sig_375[] = { ASCII8("max_cell_id") };
static const struct can_signal sig_376[] = { ASCII8("min_temperature_id") };
static const struct can_signal sig_377[] = { ASCII8("max_temperature_id") };
static const struct can_signal sig_378[] = {
    ENERGY("energy_charged_kwh", 0),
    ENERGY("energy_discharged_kwh", 32),
};
static const struct can_signal sig_379[] = { U("capacity_installed_ah", 0, 16, 1, "Ah", 65535) };
static const struct can_signal sig_380[] = { ASCII8("serial_1_8") };
static const struct can_signal sig_381[] = { ASCII8("serial_9_16") };
static const struct can_signal sig_382[] = { ASCII8("battery_family") };

/* ---- encoders ---------------------------------------------------------------------------- */

static const struct bmsgw_aggregate *agg_of(const struct can_proto_input *in)
{
    return in->agg ? in->agg : &in->sys->agg;
}

static int fill_351(const struct can_proto_input *in, struct can_values *o)
{
    const struct bmsgw_limits *l = in->limits;
    if (!(l->cvl_v > 0) || isnan(l->ccl_a) || isnan(l->dcl_a) || isnan(l->dvl_v))
        return -EINVAL;
    o->v[0] = l->cvl_v;
    o->v[1] = l->ccl_a > 0 ? l->ccl_a : 0;
    o->v[2] = l->dcl_a > 0 ? l->dcl_a : 0;
    o->v[3] = l->dvl_v > 0 ? l->dvl_v : 0;
    return 0;
}

static int fill_355(const struct can_proto_input *in, struct can_values *o)
{
    double soc = agg_of(in)->soc_pct;
    double hires = isnan(soc) ? 0 : round(soc * 100.0);
    hires = hires < 0 ? 0 : hires > 10000 ? 10000 : hires;
    o->v[0] = floor(hires / 100.0);
    o->v[1] = round(agg_of(in)->soh_pct);
    o->v[2] = hires / 100.0;
    return 0;
}

/* Battery temperatures: the connected battery sensors, else the BMS internal sensors. */
struct temps {
    bool any;
    bool internal;
    double avg_c, min_c, max_c;
    struct bmsgw_pos min_pos, max_pos;
};

static void internal_temps(const struct bmsgw_system *sys, struct temps *t)
{
    double sum = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < sys->string_count && i < BMSGW_MAX_STRINGS; i++) {
        const struct bmsgw_string *st = &sys->strings[i];
        if (!st->online || st->mosfet_temp_dc == BMSGW_TEMP_ABSENT)
            continue;
        double c = st->mosfet_temp_dc / 10.0;
        struct bmsgw_pos pos = { .string = (int16_t)i, .no = 0 };
        if (n == 0 || c < t->min_c)
            t->min_c = c, t->min_pos = pos;
        if (n == 0 || c > t->max_c)
            t->max_c = c, t->max_pos = pos;
        sum += c;
        n++;
    }
    t->any = t->internal = n > 0;
    t->avg_c = n ? sum / n : 0;
}

static void temps_of(const struct bmsgw_system *sys, struct temps *t)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    memset(t, 0, sizeof(*t));
    t->min_pos.string = t->max_pos.string = -1;
    if (a->temp_count == 0) {
        internal_temps(sys, t);
        return;
    }
    t->any = true;
    t->avg_c = a->avg_temp_dc / 10.0;
    t->min_c = a->min_temp_dc / 10.0;
    t->max_c = a->max_temp_dc / 10.0;
    t->min_pos = a->min_temp;
    t->max_pos = a->max_temp;
}

static int fill_356(const struct can_proto_input *in, struct can_values *o)
{
    struct temps t;
    temps_of(in->sys, &t);
    o->v[0] = agg_of(in)->pack_v;
    o->v[1] = agg_of(in)->current_a;
    o->v[2] = t.avg_c;
    return 0;
}

static int fill_35a(const struct can_proto_input *in, struct can_values *o)
{
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        int k = can_proto_victron.alarm_fields[i];
        if (k < 0)
            continue;
        o->v[k] = victron_alarm_field(in->alarms->a[i].level);
        o->v[16 + k] = victron_warning_field(in->alarms->a[i].level);
    }
    return 0;
}

static void text(struct can_values *o, const char *s, size_t from)
{
    size_t len = strlen(s);
    if (from < len)
        snprintf(o->text, sizeof(o->text), "%s", s + from);
}

static int fill_35e(const struct can_proto_input *in, struct can_values *o)
{
    text(o, in->can->manufacturer, 0);
    return 0;
}

static int fill_35f(const struct can_proto_input *in, struct can_values *o)
{
    o->v[0] = in->can->model_id;
    o->v[1] = in->fw_major;
    o->v[2] = in->fw_minor;
    o->v[3] = round(agg_of(in)->capacity_ah);
    o->v[4] = in->can->hardware_version;
    return 0;
}

static int fill_370(const struct can_proto_input *in, struct can_values *o)
{
    text(o, in->can->battery_name, 0);
    return 0;
}

static int fill_371(const struct can_proto_input *in, struct can_values *o)
{
    text(o, in->can->battery_name, 8);
    return 0;
}

static int fill_372(const struct can_proto_input *in, struct can_values *o)
{
    const struct bmsgw_aggregate *a = agg_of(in);
    o->v[0] = a->strings_online;
    o->v[1] = in->limits->strings_blocking_charge;
    o->v[2] = in->limits->strings_blocking_discharge;
    o->v[3] =
        a->strings_configured > a->strings_online ? a->strings_configured - a->strings_online : 0;
    return 0;
}

static int fill_373(const struct can_proto_input *in, struct can_values *o)
{
    struct temps t;
    temps_of(in->sys, &t);
    o->v[0] = agg_of(in)->min_cell_mv / 1000.0;
    o->v[1] = agg_of(in)->max_cell_mv / 1000.0;
    o->v[2] = t.any ? t.min_c : -273.15;
    o->v[3] = t.any ? t.max_c : -273.15;
    return 0;
}

static void pos_id(struct can_values *o, struct bmsgw_pos p, char kind)
{
    if (p.string < 0)
        return;
    if (kind == 'B')
        snprintf(o->text, sizeof(o->text), "S%dBMS", p.string + 1);
    else
        snprintf(o->text, sizeof(o->text), "S%d%c%02u", p.string + 1, kind, p.no);
}

static int fill_374(const struct can_proto_input *in, struct can_values *o)
{
    pos_id(o, agg_of(in)->min_cell, 'C');
    return 0;
}

static int fill_375(const struct can_proto_input *in, struct can_values *o)
{
    pos_id(o, agg_of(in)->max_cell, 'C');
    return 0;
}

static int fill_376(const struct can_proto_input *in, struct can_values *o)
{
    struct temps t;
    temps_of(in->sys, &t);
    pos_id(o, t.min_pos, t.internal ? 'B' : 'T');
    return 0;
}

static int fill_377(const struct can_proto_input *in, struct can_values *o)
{
    struct temps t;
    temps_of(in->sys, &t);
    pos_id(o, t.max_pos, t.internal ? 'B' : 'T');
    return 0;
}

/* floor(Wh / 100) in kWh (the packer rolls it over at 2^32). */
static double energy_kwh(double wh)
{
    return wh > 0 && !isnan(wh) ? floor(wh / 100.0) / 10.0 : 0;
}

static int fill_378(const struct can_proto_input *in, struct can_values *o)
{
    o->v[0] = energy_kwh(agg_of(in)->charged_wh);
    o->v[1] = energy_kwh(agg_of(in)->discharged_wh);
    return 0;
}

static int fill_379(const struct can_proto_input *in, struct can_values *o)
{
    double ah = 0;
    for (unsigned i = 0; i < in->sys->string_count && i < BMSGW_MAX_STRINGS; i++)
        ah += in->sys->strings[i].capacity_ah;
    o->v[0] = round(ah);
    return 0;
}

static int fill_380(const struct can_proto_input *in, struct can_values *o)
{
    text(o, in->can->serial, 0);
    return 0;
}

static int fill_381(const struct can_proto_input *in, struct can_values *o)
{
    text(o, in->can->serial, 8);
    return 0;
}

static int fill_382(const struct can_proto_input *in, struct can_values *o)
{
    text(o, in->can->battery_family, 0);
    return 0;
}

/* ---- the table ------------------------------------------------------------------------------ */

/* The 0x351/0x355/0x356/0x35A group never waits longer than this while data is fresh. */
#define GROUP_MAX_PERIOD_MS 1000

#define FRAME(idx, can_id, period, nm, ttl, sig, fn, ...)                                          \
    [idx] = { .id = can_id,                                                                        \
              .dlc = VICTRON_DLC,                                                                  \
              .period_ms = period,                                                                 \
              .name = nm,                                                                          \
              .title = ttl,                                                                        \
              .signals = sig,                                                                      \
              .n_signals = sizeof(sig) / sizeof(sig[0]),                                           \
              .fill = fn,                                                                          \
              __VA_ARGS__ }
/* Sent at once (at most one per CAN_SCHED_MIN_GAP_MS) when the payload says so. */
#define URGENT(fn)  .urgent = fn
#define GROUP       .max_period_ms = GROUP_MAX_PERIOD_MS
#define MEASUREMENT .measurement = true

const struct can_proto_frame victron_frames[VICTRON_FRAME_COUNT] = {
    FRAME(VICTRON_351, 0x351, 1000, "limits", "Charge and discharge limits (CVL, CCL, DCL, DVL)",
          sig_351, fill_351, GROUP, URGENT(victron_limits_dropped)),
    FRAME(VICTRON_355, 0x355, 1000, "soc_soh", "State of charge and health", sig_355, fill_355,
          GROUP, MEASUREMENT),
    FRAME(VICTRON_356, 0x356, 1000, "voltage_current_temperature",
          "Battery voltage, current (+ = charging) and temperature", sig_356, fill_356, GROUP,
          MEASUREMENT),
    FRAME(VICTRON_35A, 0x35A, 1000, "alarms_warnings",
          "Alarms (bytes 0-3) and warnings (bytes 4-7): 1 active, 2 ok, 0 not supported", sig_35a,
          fill_35a, GROUP, URGENT(victron_alarm_raised)),
    FRAME(VICTRON_35E, 0x35E, 5000, "manufacturer", "Manufacturer name", sig_35e, fill_35e),
    FRAME(VICTRON_35F, 0x35F, 5000, "bms_info",
          "Model, firmware (major first), online capacity, hardware version", sig_35f, fill_35f),
    FRAME(VICTRON_370, 0x370, 5000, "battery_name_1", "Battery name, characters 1-8", sig_370,
          fill_370),
    FRAME(VICTRON_371, 0x371, 5000, "battery_name_2", "Battery name, characters 9-16", sig_371,
          fill_371),
    FRAME(VICTRON_372, 0x372, 1000, "modules", "Modules (strings) online, blocking, offline",
          sig_372, fill_372),
    FRAME(VICTRON_373, 0x373, 1000, "cell_temperature_extremes",
          "Lowest and highest cell voltage and temperature", sig_373, fill_373, MEASUREMENT),
    FRAME(VICTRON_374, 0x374, 2000, "min_cell_id", "Lowest-voltage cell", sig_374, fill_374,
          MEASUREMENT),
    FRAME(VICTRON_375, 0x375, 2000, "max_cell_id", "Highest-voltage cell", sig_375, fill_375,
          MEASUREMENT),
    FRAME(VICTRON_376, 0x376, 2000, "min_temperature_id", "Coldest sensor", sig_376, fill_376,
          MEASUREMENT),
    FRAME(VICTRON_377, 0x377, 2000, "max_temperature_id", "Warmest sensor", sig_377, fill_377,
          MEASUREMENT),
    FRAME(VICTRON_378, 0x378, 10000, "energy", "Energy charged and discharged (100 Wh steps)",
          sig_378, fill_378, MEASUREMENT),
    FRAME(VICTRON_379, 0x379, 5000, "installed_capacity", "Installed capacity", sig_379, fill_379),
    FRAME(VICTRON_380, 0x380, 5000, "serial_1", "Serial number, characters 1-8", sig_380, fill_380),
    FRAME(VICTRON_381, 0x381, 5000, "serial_2", "Serial number, characters 9-16", sig_381,
          fill_381),
    FRAME(VICTRON_382, 0x382, 5000, "battery_family", "Battery family", sig_382, fill_382),
};
