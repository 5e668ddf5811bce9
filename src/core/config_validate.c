/* SPDX-License-Identifier: MIT */
/* config_validate.c — checks that involve more than one key. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

#include "config_walk.h"

static int fail_at(const struct cfg_origins *o, struct cfg_error *err, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(const struct cfg_origins *o, struct cfg_error *err, const char *key,
                   const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cfg_fail(err, "", 0, key, "%s", msg);
    cfg_origins_lookup(o, err);
    return -EINVAL;
}

static int check_ports(const struct cfg_bms *b, const struct cfg_origins *o, struct cfg_error *err)
{
    char key[64];
    for (int i = 0; i < b->port_count; i++) {
        snprintf(key, sizeof(key), "bms.ports[%d].device", i);
        if (!b->ports[i].device[0])
            return fail_at(o, err, key, "is required (the serial device, e.g. /dev/ttyUSB0)");
        unsigned most = cfg_bms_driver_max_cells((unsigned)b->ports[i].type);
        if (b->ports[i].cells > 0 && (unsigned)b->ports[i].cells > most) {
            snprintf(key, sizeof(key), "bms.ports[%d].cells", i);
            return fail_at(o, err, key, "a %s handles at most %u series cells (got %d)",
                           cfg_bms_driver_name((unsigned)b->ports[i].type), most,
                           b->ports[i].cells);
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(b->ports[i].device, b->ports[j].device) == 0)
                return fail_at(o, err, key, "\"%s\" is already used by bms.ports[%d]",
                               b->ports[i].device, j);
            if (strcmp(b->ports[i].name, b->ports[j].name) == 0) {
                snprintf(key, sizeof(key), "bms.ports[%d].name", i);
                return fail_at(o, err, key, "\"%s\" is already used by bms.ports[%d]",
                               b->ports[i].name, j);
            }
        }
    }
    if (b->stale_after_ms < 2 * b->poll_interval_ms)
        return fail_at(o, err, "bms.stale_after_ms",
                       "must be at least twice bms.poll_interval_ms (%d ms)", b->poll_interval_ms);
    if (b->reconnect_min_ms > b->reconnect_max_ms)
        return fail_at(o, err, "bms.reconnect_min_ms",
                       "must not exceed bms.reconnect_max_ms (%d ms)", b->reconnect_max_ms);
    return 0;
}

/* A name the selected CAN protocol refuses (the Victron GX quirk names, spec/victron-can.md). */
static int check_can_name(const struct cfg_can *c, const char *text, const char *key,
                          const struct cfg_origins *o, struct cfg_error *err)
{
    char why[200];
    if (!cfg_can_name_check(c->protocol, text, why, sizeof(why)))
        return 0;
    return fail_at(o, err, key, "\"%s\" %s", text, why);
}

static int check_can(const struct cfg_can *c, const struct cfg_origins *o, struct cfg_error *err)
{
    int rc = check_can_name(c, c->manufacturer, "can.manufacturer", o, err);
    if (!rc)
        rc = check_can_name(c, c->battery_family, "can.battery_family", o, err);
    if (rc)
        return rc;
    if (c->restart_min_ms > c->restart_max_ms)
        return fail_at(o, err, "can.restart_min_ms", "must not exceed can.restart_max_ms (%d ms)",
                       c->restart_max_ms);
    return 0;
}

static int check_table(const struct cfg_table *t, const char *xkey, const char *fkey,
                       const struct cfg_origins *o, struct cfg_error *err)
{
    for (int i = 1; i < t->n_x; i++)
        if (t->x[i] <= t->x[i - 1])
            return fail_at(o, err, xkey, "must be strictly increasing (element %d: %d after %d)",
                           i + 1, t->x[i], t->x[i - 1]);
    if (t->n_x != t->n_f)
        return fail_at(o, err, fkey, "must have as many elements as %s (%d, got %d)", xkey, t->n_x,
                       t->n_f);
    return 0;
}

static int check_limits(const struct cfg_limits *l, const struct cfg_origins *o,
                        struct cfg_error *err)
{
    if (l->cell_float_mv > l->cell_charge_mv)
        return fail_at(o, err, "limits.cell_float_mv",
                       "must not exceed limits.cell_charge_mv (%d mV)", l->cell_charge_mv);
    if (l->cell_min_mv > l->cell_float_mv)
        return fail_at(o, err, "limits.cell_min_mv", "must not exceed limits.cell_float_mv (%d mV)",
                       l->cell_float_mv);
    if (l->cell_discharge_min_mv >= l->cell_min_mv)
        return fail_at(o, err, "limits.cell_discharge_min_mv",
                       "must be below limits.cell_min_mv (%d mV)", l->cell_min_mv);
    int rc = check_table(&l->ccl_cell, "limits.ccl_cell_mv", "limits.ccl_cell_factor", o, err);
    if (!rc)
        rc = check_table(&l->ccl_temp, "limits.ccl_temp_c", "limits.ccl_temp_factor", o, err);
    if (!rc)
        rc = check_table(&l->dcl_cell, "limits.dcl_cell_mv", "limits.dcl_cell_factor", o, err);
    if (!rc)
        rc = check_table(&l->dcl_temp, "limits.dcl_temp_c", "limits.dcl_temp_factor", o, err);
    return rc;
}

static int check_alarms(const struct cfg_alarms *a, const struct cfg_limits *l,
                        const struct cfg_origins *o, struct cfg_error *err)
{
    if (a->imbalance_warning_mv >= a->imbalance_alarm_mv)
        return fail_at(o, err, "alarms.imbalance_warning_mv",
                       "must be below alarms.imbalance_alarm_mv (%d mV)", a->imbalance_alarm_mv);
    if (a->cell_high_mv < l->cell_charge_mv + CFG_OV_MARGIN_MV)
        return fail_at(o, err, "alarms.cell_high_mv",
                       "%d mV is below limits.cell_charge_mv + %d mV (%d mV): charging would "
                       "stop at the cutoff before the charge voltage; raise it or lower "
                       "limits.cell_charge_mv",
                       a->cell_high_mv, CFG_OV_MARGIN_MV, l->cell_charge_mv + CFG_OV_MARGIN_MV);
    if (a->cell_low_mv >= a->cell_high_mv)
        return fail_at(o, err, "alarms.cell_low_mv", "must be below alarms.cell_high_mv (%d mV)",
                       a->cell_high_mv);
    if (a->temp_low_warning_c <= a->temp_low_c)
        return fail_at(o, err, "alarms.temp_low_warning_c",
                       "must be above alarms.temp_low_c (%d degC)", a->temp_low_c);
    return 0;
}

static int check_mbtcp(const struct cfg_mbtcp *m, const struct cfg_origins *o,
                       struct cfg_error *err)
{
    char key[64];
    for (int i = 0; i < m->map_count; i++) {
        for (int j = 0; j < i; j++) {
            if (m->maps[i].kind == m->maps[j].kind) {
                snprintf(key, sizeof(key), "modbus_tcp.maps[%d].map", i);
                return fail_at(o, err, key, "\"%s\" is already served by modbus_tcp.maps[%d]",
                               config_map_kind_name(m->maps[i].kind), j);
            }
            if (cfg_map_port(&m->maps[i]) == cfg_map_port(&m->maps[j])) {
                snprintf(key, sizeof(key), "modbus_tcp.maps[%d].port", i);
                return fail_at(o, err, key, "%d is already used by modbus_tcp.maps[%d]",
                               cfg_map_port(&m->maps[i]), j);
            }
        }
    }
    return 0;
}

static int check_ports_clash(const struct bmsgw_config *c, const struct cfg_origins *o,
                             struct cfg_error *err)
{
    if (c->http.enabled && c->ws.enabled && c->http.port == c->ws.port)
        return fail_at(o, err, "ws.port", "must differ from http.port (%d)", c->http.port);
    for (int i = 0; c->mbtcp.enabled && i < c->mbtcp.map_count; i++) {
        int p = cfg_map_port(&c->mbtcp.maps[i]);
        if ((c->http.enabled && p == c->http.port) || (c->ws.enabled && p == c->ws.port)) {
            char key[64];
            snprintf(key, sizeof(key), "modbus_tcp.maps[%d].port", i);
            return fail_at(o, err, key, "%d is already used by http.port or ws.port", p);
        }
    }
    return 0;
}

/* A topic level set: printable, no wildcards, no empty level at either end. */
static int check_topic(const char *t, const char *key, const struct cfg_origins *o,
                       struct cfg_error *err)
{
    size_t n = strlen(t);
    if (strpbrk(t, "+#"))
        return fail_at(o, err, key, "\"%s\" must not contain the wildcards + or #", t);
    if (n && (t[0] == '/' || t[n - 1] == '/'))
        return fail_at(o, err, key, "\"%s\" must not begin or end with /", t);
    return 0;
}

static int check_mqtt(const struct cfg_mqtt *m, const struct cfg_origins *o, struct cfg_error *err)
{
    for (const char *c = m->gateway_id; *c; c++)
        if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' || *c == '-'))
            return fail_at(o, err, "mqtt.gateway_id", "\"%s\" may only contain a-z, 0-9, _ and -",
                           m->gateway_id);
    int rc = check_topic(m->topic_prefix, "mqtt.topic_prefix", o, err);
    if (!rc)
        rc = check_topic(m->ha_prefix, "mqtt.ha_prefix", o, err);
    if (rc)
        return rc;
    if (!m->tls.cert_file[0] != !m->tls.key_file[0])
        return fail_at(o, err, m->tls.cert_file[0] ? "mqtt.tls.key_file" : "mqtt.tls.cert_file",
                       "is required with mqtt.tls.%s",
                       m->tls.cert_file[0] ? "cert_file" : "key_file");
    if (m->password_file[0] && !m->username[0])
        return fail_at(o, err, "mqtt.username", "is required with mqtt.password_file");
    return 0;
}

int cfg_validate_with(const struct bmsgw_config *cfg, const struct cfg_origins *o,
                      struct cfg_error *err)
{
    int rc = check_ports(&cfg->bms, o, err);
    if (!rc)
        rc = check_can(&cfg->can, o, err);
    if (!rc)
        rc = check_limits(&cfg->limits, o, err);
    if (!rc)
        rc = check_alarms(&cfg->alarms, &cfg->limits, o, err);
    if (!rc)
        rc = check_mbtcp(&cfg->mbtcp, o, err);
    if (!rc)
        rc = check_ports_clash(cfg, o, err);
    if (!rc)
        rc = check_mqtt(&cfg->mqtt, o, err);
    return rc;
}
