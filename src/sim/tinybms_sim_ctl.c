/* SPDX-License-Identifier: MIT */
/* tinybms_sim_ctl.c — the simulator's control language (one command per line) and its "get"
 * answer: the simulated truth as one line of JSON. */
#include "bmsgw/tinybms_sim.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ARGS 4

struct ctl {
    struct tinybms_sim *s;
    int argc;
    char *argv[MAX_ARGS + 1];
    char *reply;
    size_t size;
};

static int say(struct ctl *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int say(struct ctl *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reply, c->size, fmt, ap);
    va_end(ap);
    return rc;
}

static int ok(struct ctl *c)
{
    return say(c, 0, "ok");
}

static int bad(struct ctl *c, const char *what)
{
    return say(c, -EINVAL, "error: %s", what);
}

/* A number in [lo, hi]; the whole argument must be numeric. */
static bool num(const char *arg, double lo, double hi, double *out)
{
    char *end;
    if (!arg)
        return false;
    double v = strtod(arg, &end);
    if (end == arg || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool on_off(const char *arg, bool *out)
{
    if (arg && strcmp(arg, "on") == 0)
        *out = true;
    else if (arg && strcmp(arg, "off") == 0)
        *out = false;
    else
        return false;
    return true;
}

static int cell_index(struct ctl *c, const char *arg, unsigned *idx)
{
    double n;
    if (!num(arg, 1, c->s->bat.p.cells, &n) || n != floor(n))
        return say(c, -EINVAL, "error: cell must be 1..%u", c->s->bat.p.cells);
    *idx = (unsigned)n - 1;
    return 0;
}

static int sensor_index(struct ctl *c, const char *arg, unsigned *idx)
{
    double n;
    if (!num(arg, 1, c->s->bat.p.sensors, &n) || n != floor(n))
        return say(c, -EINVAL, "error: sensor must be 1..%u", c->s->bat.p.sensors);
    *idx = (unsigned)n - 1;
    return 0;
}

/* set reg <n> <raw>: a settings register as the BMS's own front end would write it (register
 * 300..343, its raw value: negative for the signed ones), checked against the register table. */
static int set_reg(struct ctl *c)
{
    struct tinybms_sim *s = c->s;
    double n, v;
    char why[128];
    if (!num(c->argv[2], BMSGW_SETTINGS_FIRST, BMSGW_SETTINGS_FIRST + BMSGW_SETTINGS_COUNT - 1,
             &n) ||
        n != floor(n))
        return say(c, -EINVAL, "error: set reg <n> <value>: register must be %d..%d",
                   BMSGW_SETTINGS_FIRST, BMSGW_SETTINGS_FIRST + BMSGW_SETTINGS_COUNT - 1);
    if (!num(c->argv[3], -32768, 65535, &v) || v != floor(v))
        return bad(c, "set reg <n> <value>: value must be an integer -32768..65535 (raw)");
    uint16_t raw = (uint16_t)(int32_t)v, addr = (uint16_t)n;
    if (tinybms_setting_check(&s->regs[BMSGW_SETTINGS_FIRST], addr, raw, why, sizeof(why)) != 0)
        return say(c, -EINVAL, "error: set reg %u %g: %s", addr, v, why);
    bool ignore = s->io.ignore_writes; /* a fault of the wire, not of this command */
    s->io.ignore_writes = false;
    int rc = tinybms_sim_write(s, addr, &raw, 1);
    s->io.ignore_writes = ignore;
    if (rc)
        return say(c, rc, "error: set reg %u: not writable", addr);
    return 0;
}

static int cmd_set(struct ctl *c)
{
    struct tinybms_sim *s = c->s;
    const char *what = c->argv[1];
    double v;
    unsigned i;
    if (!what)
        return bad(c, "set what? current, soc, cell, temp, status or reg");
    if (strcmp(what, "reg") == 0) {
        if (set_reg(c))
            return -EINVAL;
    } else if (strcmp(what, "current") == 0) {
        if (!num(c->argv[2], -2000, 2000, &v))
            return bad(c, "set current <A> (-2000..2000, + = charging)");
        s->load = SIM_LOAD_CONSTANT;
        s->set_current_a = v;
    } else if (strcmp(what, "soc") == 0) {
        if (!num(c->argv[2], 0, 100, &v))
            return bad(c, "set soc <pct> (0..100)");
        battery_set_soc(&s->bat, v);
    } else if (strcmp(what, "cell") == 0) {
        if (cell_index(c, c->argv[2], &i))
            return -EINVAL;
        if (!num(c->argv[3], 1, 6553, &v))
            return bad(c, "set cell <n> <mV> (1..6553)");
        s->bat.cells[i].forced_mv = (int)lround(v);
    } else if (strcmp(what, "temp") == 0) {
        if (sensor_index(c, c->argv[2], &i))
            return -EINVAL;
        if (!num(c->argv[3], -55, 150, &v))
            return bad(c, "set temp <sensor> <degC> (-55..150)");
        s->bat.sensors[i].forced = true;
        s->bat.sensors[i].forced_c = v;
        s->bat.sensors[i].absent = false;
    } else if (strcmp(what, "status") == 0) {
        bool fault = c->argv[2] && strcmp(c->argv[2], "fault") == 0;
        if (!fault && !(c->argv[2] && strcmp(c->argv[2], "normal") == 0))
            return bad(c, "set status fault|normal");
        s->forced_fault = fault;
    } else {
        return bad(c, "set what? current, soc, cell, temp, status or reg");
    }
    tinybms_sim_step(s, 0);
    return ok(c);
}

static int cmd_cell_sensor(struct ctl *c)
{
    struct tinybms_sim *s = c->s;
    const char *verb = c->argv[0], *what = c->argv[1];
    unsigned i;
    if (strcmp(verb, "release") == 0 && what && strcmp(what, "cell") == 0) {
        if (cell_index(c, c->argv[2], &i))
            return -EINVAL;
        s->bat.cells[i].forced_mv = 0;
    } else if (what && strcmp(what, "temp") == 0) {
        if (sensor_index(c, c->argv[2], &i))
            return -EINVAL;
        if (strcmp(verb, "unplug") == 0) {
            s->bat.sensors[i].absent = true;
        } else if (strcmp(verb, "plug") == 0) {
            s->bat.sensors[i].absent = false;
            s->bat.sensors[i].forced = false;
        } else {
            return bad(c, "release cell <n> | unplug temp <n> | plug temp <n>");
        }
    } else {
        return bad(c, "release cell <n> | unplug temp <n> | plug temp <n>");
    }
    tinybms_sim_step(s, 0);
    return ok(c);
}

static int cmd_load(struct ctl *c)
{
    const char *what = c->argv[1];
    if (what && strcmp(what, "random") == 0) {
        c->s->load = SIM_LOAD_RANDOM;
    } else if (what && strcmp(what, "off") == 0) {
        c->s->load = SIM_LOAD_CONSTANT;
        c->s->set_current_a = 0;
    } else {
        return bad(c, "load random|off");
    }
    return ok(c);
}

static int cmd_event(struct ctl *c)
{
    char *end;
    const char *arg = c->argv[1];
    long id = arg ? strtol(arg, &end, 0) : -1;
    if (!arg || *end || id < 1 || id > 254)
        return bad(c, "event <id> (1..254, decimal or 0x..)");
    tinybms_sim_event(c->s, (uint8_t)id);
    tinybms_sim_step(c->s, 0);
    return ok(c);
}

static int cmd_fault(struct ctl *c)
{
    struct tinybms_sim_io_faults *f = &c->s->io;
    const char *what = c->argv[1], *arg = c->argv[2];
    double v;
    if (!what)
        return bad(c, "fault noreply|crc|garbage|delay|vanish|ignore-writes ...");
    if (strcmp(what, "noreply") == 0) {
        if (!on_off(arg, &f->noreply))
            return bad(c, "fault noreply on|off");
    } else if (strcmp(what, "garbage") == 0) {
        if (!on_off(arg, &f->garbage))
            return bad(c, "fault garbage on|off");
    } else if (strcmp(what, "ignore-writes") == 0) {
        if (!on_off(arg, &f->ignore_writes))
            return bad(c, "fault ignore-writes on|off");
    } else if (strcmp(what, "crc") == 0) {
        if (!num(arg, 0, 1, &v))
            return bad(c, "fault crc <probability> (0..1)");
        f->crc_prob = v;
    } else if (strcmp(what, "delay") == 0) {
        if (!num(arg, 0, 10000, &v))
            return bad(c, "fault delay <ms> (0..10000)");
        f->delay_ms = (int)v;
    } else if (strcmp(what, "vanish") == 0) {
        if (!num(arg, 0.1, 600, &v))
            return bad(c, "fault vanish <seconds> (0.1..600)");
        f->vanish_s = v;
    } else {
        return bad(c, "fault noreply|crc|garbage|delay|vanish|ignore-writes ...");
    }
    return ok(c);
}

static json_t *cells_json(const struct tinybms_sim *s)
{
    json_t *a = json_array();
    unsigned first = TINYBMS_MAX_CELLS - s->bat.p.cells;
    for (unsigned i = 0; i < s->bat.p.cells; i++) /* what the registers say, rounded to mV */
        json_array_append_new(a, json_integer((s->regs[first + i] + 5) / 10));
    return a;
}

static json_t *temps_json(const struct tinybms_sim *s)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < TINYBMS_SENSORS; i++) {
        int16_t dc = (int16_t)s->regs[42 + i];
        json_array_append_new(a, dc == BMSGW_TEMP_ABSENT ? json_null() : json_real(dc / 10.0));
    }
    return a;
}

static json_t *faults_json(const struct tinybms_sim *s)
{
    static const char *const names[] = { "over_voltage",        "under_voltage",
                                         "over_temperature",    "discharge_over_current",
                                         "charge_over_current", "low_temperature_charge",
                                         "fully_discharged" };
    json_t *a = json_array();
    for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (s->cutoffs & (1u << k))
            json_array_append_new(a, json_string(names[k]));
    if (s->forced_fault)
        json_array_append_new(a, json_string("forced"));
    return a;
}

static json_t *settings_json(const struct tinybms_sim *s)
{
    json_t *o = json_object();
    for (unsigned i = 0; i < tinybms_reg_count; i++) {
        const struct tinybms_reg *r = &tinybms_regs[i];
        double v;
        if (r->block == TINYBMS_BLOCK_SETTINGS &&
            tinybms_reg_value(r, s->regs + r->addr, 0, &v) == 0)
            json_object_set_new(o, r->key, json_real(v));
    }
    return o;
}

static json_t *events_json(const struct tinybms_sim *s)
{
    json_t *a = json_array();
    for (unsigned k = 0; k < s->event_count; k++)
        json_array_append_new(a, json_pack("{s:I,s:i}", "timestamp_s",
                                           (json_int_t)s->events[k].timestamp_s, "id",
                                           s->events[k].id));
    return a;
}

static json_t *io_json(const struct tinybms_sim *s)
{
    const struct tinybms_sim_stats *t = &s->stats;
    return json_pack("{s:b,s:f,s:b,s:i,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "noreply", s->io.noreply,
                     "crc", s->io.crc_prob, "garbage", s->io.garbage, "delay_ms", s->io.delay_ms,
                     "ignore_writes", s->io.ignore_writes, "requests", (json_int_t)t->requests,
                     "replies", (json_int_t)t->replies, "rx_crc_errors",
                     (json_int_t)t->rx_crc_errors, "rx_garbage_bytes",
                     (json_int_t)t->rx_garbage_bytes, "swallowed", (json_int_t)t->swallowed,
                     "rejected", (json_int_t)t->rejected, "writes", (json_int_t)t->writes);
}

static int cmd_get(struct ctl *c)
{
    const struct tinybms_sim *s = c->s;
    const uint16_t *r = s->regs;
    uint32_t soc_raw = (uint32_t)r[46] | (uint32_t)r[47] << 16;
    json_t *o =
        json_pack("{s:o,s:i,s:f,s:f,s:f,s:f,s:o,s:f,s:i,s:s,s:o,s:I,s:b,s:s,s:o,s:o,s:o,s:f,s:f}",
                  "cells_mv", cells_json(s), "cell_count", s->bat.p.cells, "pack_v", s->bat.pack_v,
                  "current_a", s->current_a, "soc_pct", soc_raw / 1e6, "soh_pct", r[45] * 0.002,
                  "temps_c", temps_json(s), "mosfet_temp_c", (int16_t)r[48] / 10.0, "status_code",
                  r[50], "status", bmsgw_bms_state_name(tinybms_state(r[50])), "faults",
                  faults_json(s), "lifetime_s", (json_int_t)(uint32_t)s->t_s, "asleep", s->asleep,
                  "load", s->load == SIM_LOAD_RANDOM ? "random" : "constant", "events",
                  events_json(s), "settings", settings_json(s), "io", io_json(s), "charged_wh",
                  s->bat.charged_wh, "discharged_wh", s->bat.discharged_wh);
    if (!o)
        return bad(c, "cannot encode the state");
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    if (!text)
        return bad(c, "cannot encode the state");
    int rc = strlen(text) < c->size ? say(c, 0, "%s", text) : bad(c, "state too long");
    free(text);
    return rc;
}

static int cmd_help(struct ctl *c)
{
    return say(c, 0,
               "commands: get | set current <A> | set soc <pct> | set cell <n> <mV> | release "
               "cell <n> | set temp <n> <degC> | unplug temp <n> | plug temp <n> | set status "
               "fault|normal | set reg <300..343> <raw> | load random|off | event <id> | sleep | "
               "fault noreply on|off | fault crc <p> | fault garbage on|off | fault delay <ms> | "
               "fault vanish <s> | fault ignore-writes on|off");
}

static int cmd_sleep(struct ctl *c)
{
    c->s->asleep = true;
    return ok(c);
}

struct ctl_cmd {
    const char *name;
    int (*fn)(struct ctl *c);
};

static const struct ctl_cmd commands[] = {
    { "get", cmd_get },
    { "set", cmd_set },
    { "release", cmd_cell_sensor },
    { "unplug", cmd_cell_sensor },
    { "plug", cmd_cell_sensor },
    { "load", cmd_load },
    { "event", cmd_event },
    { "fault", cmd_fault },
    { "sleep", cmd_sleep },
    { "help", cmd_help },
};

int tinybms_sim_control(struct tinybms_sim *s, const char *line, char *reply, size_t size)
{
    char buf[256], *save = NULL;
    struct ctl c = { .s = s, .reply = reply, .size = size };
    if (strlen(line) >= sizeof(buf))
        return bad(&c, "command too long");
    strcpy(buf, line);
    for (char *tok = strtok_r(buf, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (c.argc == MAX_ARGS)
            return bad(&c, "too many arguments (try help)");
        c.argv[c.argc++] = tok;
    }
    if (c.argc == 0)
        return bad(&c, "empty command (try help)");
    for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcasecmp(c.argv[0], commands[i].name) == 0)
            return commands[i].fn(&c);
    return say(&c, -EINVAL, "error: unknown command '%s' (try help)", c.argv[0]);
}
