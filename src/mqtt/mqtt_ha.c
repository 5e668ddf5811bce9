/* SPDX-License-Identifier: MIT */
/* mqtt_ha.c — Home Assistant MQTT discovery documents for the gateway and its strings (pure). */
#include "bmsgw/mqtt.h"

#include <stdio.h>
#include <string.h>

#include "bmsgw/status_json.h"

/* One entity read from a state document. */
struct ha_entity {
    const char *component; /* "sensor", "binary_sensor" */
    const char *object;    /* object id (after the string's "s<n>_") */
    const char *name;
    const char *tmpl; /* value_template */
    const char *device_class;
    const char *unit;
    const char *state_class;
    bool diagnostic;
};

#define MEAS      "measurement"
#define TOTAL     "total_increasing"
#define KWH(path) "{{ (value_json." path " / 1000) | round(3) }}"

static const struct ha_entity system_entities[] = {
    { "sensor", "soc", "State of charge", "{{ value_json.system.soc_pct }}", "battery", "%", MEAS },
    { "sensor", "voltage", "Voltage", "{{ value_json.system.pack_voltage_v }}", "voltage", "V",
      MEAS },
    { "sensor", "current", "Current", "{{ value_json.system.current_a }}", "current", "A", MEAS },
    { "sensor", "power", "Power", "{{ value_json.system.power_w }}", "power", "W", MEAS },
    { "sensor", "min_cell", "Lowest cell", "{{ value_json.system.min_cell_mv }}", "voltage", "mV",
      MEAS },
    { "sensor", "max_cell", "Highest cell", "{{ value_json.system.max_cell_mv }}", "voltage", "mV",
      MEAS },
    { "sensor", "avg_cell", "Average cell", "{{ value_json.system.avg_cell_mv }}", "voltage", "mV",
      MEAS },
    { "sensor", "cell_spread", "Cell spread", "{{ value_json.system.cell_spread_mv }}", "voltage",
      "mV", MEAS },
    { "sensor", "min_temperature", "Lowest temperature",
      "{{ value_json.system.min_temperature_c }}", "temperature", "°C", MEAS },
    { "sensor", "max_temperature", "Highest temperature",
      "{{ value_json.system.max_temperature_c }}", "temperature", "°C", MEAS },
    { "sensor", "avg_temperature", "Average temperature",
      "{{ value_json.system.avg_temperature_c }}", "temperature", "°C", MEAS },
    { "sensor", "cvl", "Charge voltage limit", "{{ value_json.limits.cvl_v }}", "voltage", "V",
      MEAS },
    { "sensor", "ccl", "Charge current limit", "{{ value_json.limits.ccl_a }}", "current", "A",
      MEAS },
    { "sensor", "dcl", "Discharge current limit", "{{ value_json.limits.dcl_a }}", "current", "A",
      MEAS },
    { "sensor", "charge_phase", "Charge phase", "{{ value_json.limits.phase }}", NULL, NULL, NULL },
    { "sensor", "energy_charged", "Energy charged", KWH("energy.charged_wh"), "energy", "kWh",
      TOTAL },
    { "sensor", "energy_discharged", "Energy discharged", KWH("energy.discharged_wh"), "energy",
      "kWh", TOTAL },
    { "sensor", "time_to_full", "Time to full", "{{ value_json.system.time_to_full_s }}",
      "duration", "s", MEAS },
    { "sensor", "time_to_empty", "Time to empty", "{{ value_json.system.time_to_empty_s }}",
      "duration", "s", MEAS },
    { "binary_sensor", "charge_blocked", "Charging not allowed",
      "{{ 'OFF' if (value_json.limits.ccl_a or 0) > 0 else 'ON' }}", "problem" },
    { "binary_sensor", "discharge_blocked", "Discharging not allowed",
      "{{ 'OFF' if (value_json.limits.dcl_a or 0) > 0 else 'ON' }}", "problem" },
    { "sensor", "strings_online", "Strings online", "{{ value_json.system.strings_online }}", NULL,
      NULL, MEAS, true },
    { "sensor", "can_bus", "CAN bus", "{{ value_json.can.bus_state }}", NULL, NULL, NULL, true },
    { "sensor", "can_link", "CAN link", "{{ value_json.can.link }}", NULL, NULL, NULL, true },
};

static const struct ha_entity string_entities[] = {
    { "sensor", "soc", "State of charge", "{{ value_json.soc_pct }}", "battery", "%", MEAS },
    { "sensor", "voltage", "Voltage", "{{ value_json.pack_voltage_v }}", "voltage", "V", MEAS },
    { "sensor", "current", "Current", "{{ value_json.current_a }}", "current", "A", MEAS },
    { "sensor", "power", "Power", "{{ value_json.power_w }}", "power", "W", MEAS },
    { "sensor", "min_cell", "Lowest cell", "{{ value_json.min_cell_mv }}", "voltage", "mV", MEAS },
    { "sensor", "max_cell", "Highest cell", "{{ value_json.max_cell_mv }}", "voltage", "mV", MEAS },
    { "sensor", "cell_spread", "Cell spread",
      "{{ (value_json.max_cell_mv - value_json.min_cell_mv) if value_json.max_cell_mv is not none "
      "else none }}",
      "voltage", "mV", MEAS },
    { "sensor", "mosfet_temperature", "MOSFET temperature", "{{ value_json.mosfet_temperature_c }}",
      "temperature", "°C", MEAS },
    { "sensor", "ccl_share", "Charge current limit share", "{{ value_json.limits_share.ccl_a }}",
      "current", "A", MEAS },
    { "sensor", "dcl_share", "Discharge current limit share", "{{ value_json.limits_share.dcl_a }}",
      "current", "A", MEAS },
    { "sensor", "energy_charged", "Energy charged", KWH("charged_wh"), "energy", "kWh", TOTAL },
    { "sensor", "energy_discharged", "Energy discharged", KWH("discharged_wh"), "energy", "kWh",
      TOTAL },
    { "sensor", "status", "BMS status", "{{ value_json.status }}", NULL, NULL, NULL },
    { "sensor", "link", "BMS link", "{{ value_json.link.state }}", NULL, NULL, NULL, true },
    { "sensor", "link_timeouts", "BMS link timeouts", "{{ value_json.link.timeouts }}", NULL, NULL,
      TOTAL, true },
    { "sensor", "link_crc_errors", "BMS link CRC errors", "{{ value_json.link.crc_errors }}", NULL,
      NULL, TOTAL, true },
};

int mqtt_ha_expire_after_s(int state_interval_ms)
{
    int s = (int)(3LL * state_interval_ms / 1000);
    return s < 30 ? 30 : s;
}

/* Everything a document needs beside its entity. */
struct ha_doc {
    const struct mqtt_ha_ctx *c;
    int string;      /* 0-based, -1 = the gateway */
    char object[64]; /* full object id */
    char state_topic[MQTT_TOPIC_MAX];
};

static json_t *gateway_device(const struct mqtt_ha_ctx *c)
{
    char ident[96], name[96];
    snprintf(ident, sizeof(ident), "bmsgw_%s", c->ids->gateway_id);
    snprintf(name, sizeof(name), "bmsgw %s", c->ids->gateway_id);
    json_t *d = json_pack("{s:[s],s:s,s:s,s:s,s:s}", "identifiers", ident, "name", name,
                          "manufacturer", "bmsgw", "model", "TinyBMS gateway", "sw_version",
                          c->sw_version ? c->sw_version : "");
    if (c->config_url && c->config_url[0])
        json_object_set_new(d, "configuration_url", json_string(c->config_url));
    return d;
}

static json_t *string_device(const struct mqtt_ha_ctx *c, unsigned i)
{
    char ident[112], via[96], name[112];
    snprintf(ident, sizeof(ident), "bmsgw_%s_s%u", c->ids->gateway_id, i + 1);
    snprintf(via, sizeof(via), "bmsgw_%s", c->ids->gateway_id);
    snprintf(name, sizeof(name), "bmsgw %s string %u %s", c->ids->gateway_id, i + 1,
             c->names && c->names[i] ? c->names[i] : "");
    return json_pack("{s:[s],s:s,s:s,s:s,s:s}", "identifiers", ident, "name", name, "manufacturer",
                     "bmsgw", "model", "TinyBMS", "via_device", via);
}

static json_t *availability(const struct ha_doc *d)
{
    char status[MQTT_TOPIC_MAX], avail[MQTT_TOPIC_MAX];
    mqtt_topic(d->c->ids, "status", status, sizeof(status));
    json_t *a = json_pack("[{s:s}]", "topic", status);
    if (d->string >= 0) {
        char suffix[48];
        snprintf(suffix, sizeof(suffix), "string/%d/availability", d->string + 1);
        mqtt_topic(d->c->ids, suffix, avail, sizeof(avail));
        json_array_append_new(a, json_pack("{s:s}", "topic", avail));
    }
    return a;
}

/* The members every entity has: ids, device, availability. */
static json_t *doc_base(const struct ha_doc *d, const char *name)
{
    char uid[160];
    snprintf(uid, sizeof(uid), "bmsgw_%s_%s", d->c->ids->gateway_id, d->object);
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:o,s:s,s:o}", "name", name, "unique_id", uid, "object_id", uid,
                  "availability", availability(d), "availability_mode", "all", "device",
                  d->string < 0 ? gateway_device(d->c) : string_device(d->c, (unsigned)d->string));
    return o;
}

static void set_opt(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static json_t *entity_doc(const struct ha_doc *d, const struct ha_entity *e)
{
    json_t *o = doc_base(d, e->name);
    json_object_set_new(o, "state_topic", json_string(d->state_topic));
    json_object_set_new(o, "value_template", json_string(e->tmpl));
    json_object_set_new(o, "expire_after", json_integer(d->c->expire_after_s));
    set_opt(o, "device_class", e->device_class);
    set_opt(o, "unit_of_measurement", e->unit);
    set_opt(o, "state_class", e->state_class);
    if (e->diagnostic)
        json_object_set_new(o, "entity_category", json_string("diagnostic"));
    return o;
}

struct emitter {
    mqtt_ha_emit_fn fn;
    void *ctx;
    unsigned n;
};

static void emit_doc(struct emitter *em, const struct ha_doc *d, const char *component, json_t *o)
{
    char topic[MQTT_TOPIC_MAX + 64];
    snprintf(topic, sizeof(topic), "%s/%s/%s/%s/config", d->c->ids->ha_prefix, component,
             d->c->ids->gateway_id, d->object);
    char *text = o ? json_dumps(o, BMSGW_JSON_FLAGS) : NULL;
    if (text) {
        em->fn(topic, text, em->ctx);
        em->n++;
    }
    free(text);
    json_decref(o);
}

static void emit_entity(struct emitter *em, struct ha_doc *d, const struct ha_entity *e)
{
    if (d->string >= 0)
        snprintf(d->object, sizeof(d->object), "s%d_%s", d->string + 1, e->object);
    else
        snprintf(d->object, sizeof(d->object), "%s", e->object);
    emit_doc(em, d, e->component, entity_doc(d, e));
}

/* One binary sensor per alarm condition of the state's "alarms" array (in model order). */
static void emit_alarms(struct emitter *em, struct ha_doc *d)
{
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++) {
        char object[48], tmpl[128];
        snprintf(object, sizeof(object), "alarm_%s", bmsgw_alarm_name(i));
        snprintf(tmpl, sizeof(tmpl),
                 "{{ 'ON' if value_json.alarms[%u].level in ['warning', 'alarm'] else 'OFF' }}", i);
        struct ha_entity e = { "binary_sensor", object, status_alarm_info(i)->title, tmpl,
                               "problem" };
        emit_entity(em, d, &e);
    }
}

static void emit_commands(struct emitter *em, struct ha_doc *d)
{
    static const struct {
        const char *cmd, *name, *state;
        bool charge;
    } limits[] = {
        { "charge_limit_a", "Charge current clamp", "{{ value_json.limits.ccl_a }}", true },
        { "discharge_limit_a", "Discharge current clamp", "{{ value_json.limits.dcl_a }}", false },
    };
    unsigned n = d->c->string_count ? d->c->string_count : 1;
    for (unsigned i = 0; i < 2; i++) {
        char topic[MQTT_TOPIC_MAX], suffix[48];
        snprintf(suffix, sizeof(suffix), "cmd/%s", limits[i].cmd);
        mqtt_topic(d->c->ids, suffix, topic, sizeof(topic));
        snprintf(d->object, sizeof(d->object), "%s", limits[i].cmd);
        json_t *o = doc_base(d, limits[i].name);
        double max = (limits[i].charge ? d->c->max_charge_a : d->c->max_discharge_a) * n;
        json_object_set_new(o, "command_topic", json_string(topic));
        json_object_set_new(o, "command_template",
                            json_string("{\"value\": {{ value }}, \"ttl_s\": 60}"));
        json_object_set_new(o, "state_topic", json_string(d->state_topic));
        json_object_set_new(o, "value_template", json_string(limits[i].state));
        json_object_set_new(o, "min", json_integer(0));
        json_object_set_new(o, "max", json_real(max));
        json_object_set_new(o, "step", json_real(0.1));
        json_object_set_new(o, "mode", json_string("box"));
        json_object_set_new(o, "device_class", json_string("current"));
        json_object_set_new(o, "unit_of_measurement", json_string("A"));
        emit_doc(em, d, "number", o);
    }
    char topic[MQTT_TOPIC_MAX];
    mqtt_topic(d->c->ids, "cmd/ack_alerts", topic, sizeof(topic));
    snprintf(d->object, sizeof(d->object), "ack_alerts");
    json_t *o = doc_base(d, "Acknowledge alerts");
    json_object_set_new(o, "command_topic", json_string(topic));
    json_object_set_new(o, "payload_press", json_string("{}"));
    emit_doc(em, d, "button", o);
}

static void emit_string_arrays(struct emitter *em, struct ha_doc *d, unsigned i)
{
    unsigned cells = d->c->cells && d->c->cell_counts ? d->c->cell_counts[i] : 0;
    unsigned temps = d->c->sensor_counts ? d->c->sensor_counts[i] : 0;
    for (unsigned k = 0; k < cells; k++) {
        char object[24], name[24], tmpl[64];
        snprintf(object, sizeof(object), "cell%u", k + 1);
        snprintf(name, sizeof(name), "Cell %u", k + 1);
        snprintf(tmpl, sizeof(tmpl), "{{ value_json.cells_mv[%u] }}", k);
        struct ha_entity e = { "sensor", object, name, tmpl, "voltage", "mV", MEAS };
        emit_entity(em, d, &e);
    }
    for (unsigned k = 0; k < temps; k++) {
        char object[24], name[32], tmpl[64];
        snprintf(object, sizeof(object), "temperature%u", k + 1);
        snprintf(name, sizeof(name), "Temperature %u", k + 1);
        snprintf(tmpl, sizeof(tmpl), "{{ value_json.temperatures_c[%u] }}", k);
        struct ha_entity e = { "sensor", object, name, tmpl, "temperature", "°C", MEAS };
        emit_entity(em, d, &e);
    }
}

unsigned mqtt_ha_documents(const struct mqtt_ha_ctx *c, mqtt_ha_emit_fn emit, void *emit_ctx)
{
    struct emitter em = { .fn = emit, .ctx = emit_ctx };
    struct ha_doc d = { .c = c, .string = -1 };
    mqtt_topic(c->ids, "state", d.state_topic, sizeof(d.state_topic));
    for (unsigned k = 0; k < sizeof(system_entities) / sizeof(system_entities[0]); k++)
        emit_entity(&em, &d, &system_entities[k]);
    emit_alarms(&em, &d);
    if (c->commands)
        emit_commands(&em, &d);
    for (unsigned i = 0; i < c->string_count; i++) {
        char suffix[32];
        d.string = (int)i;
        snprintf(suffix, sizeof(suffix), "string/%u/state", i + 1);
        mqtt_topic(c->ids, suffix, d.state_topic, sizeof(d.state_topic));
        for (unsigned k = 0; k < sizeof(string_entities) / sizeof(string_entities[0]); k++)
            emit_entity(&em, &d, &string_entities[k]);
        emit_string_arrays(&em, &d, i);
    }
    return em.n;
}

/* Does topic have the shape ha_prefix/<component>/<gateway_id>/<object_id>/config? */
static bool ours(const struct mqtt_ids *ids, const char *topic)
{
    size_t hp = strlen(ids->ha_prefix), gw = strlen(ids->gateway_id);
    if (strncmp(topic, ids->ha_prefix, hp) != 0 || topic[hp] != '/')
        return false;
    const char *comp = topic + hp + 1, *slash = strchr(comp, '/');
    if (!slash || slash == comp || strncmp(slash + 1, ids->gateway_id, gw) != 0 ||
        slash[1 + gw] != '/')
        return false;
    const char *object = slash + 2 + gw, *end = strchr(object, '/');
    return end && end != object && strcmp(end, "/config") == 0;
}

bool mqtt_ha_is_obsolete(const struct mqtt_ids *ids, const char *topic, const char *const *current,
                         unsigned n)
{
    if (!ours(ids, topic))
        return false;
    for (unsigned i = 0; i < n; i++)
        if (strcmp(current[i], topic) == 0)
            return false;
    return true;
}
