/* SPDX-License-Identifier: MIT */
/* mqtt_command.c — P/cmd/<name>: limit clamps and acknowledgements, answered on P/cmd/result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/clock.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/status_json.h"
#include "bmsgw/utf8.h"
#include "mqtt_priv.h"

static void answer(struct mqtt_svc *m, const char *name, const char *error)
{
    char shown[48];
    snprintf(shown, sizeof(shown), "%.40s", name);
    utf8_repair(shown); /* the cut may split a character */
    json_t *j = json_pack("{s:s,s:b}", "command", shown, "ok", error == NULL);
    if (error)
        json_object_set_new(j, "error", json_string(error));
    char *text = json_dumps(j, BMSGW_JSON_FLAGS);
    if (text)
        mqtt_pub_p(m, "cmd/result", text, 1, false);
    free(text);
    json_decref(j);
    atomic_fetch_add(error ? &m->cnt.commands_refused : &m->cnt.commands_ok, 1);
}

/* The clamp may only lower what the inverter is sent now (the newest limits). */
static int apply_clamp(struct mqtt_svc *m, const struct mqtt_cmd *c, char *why, size_t size)
{
    bool charge = c->kind == MQTT_CMD_CHARGE_LIMIT;
    snapshot_copy(m->app->snap, m->sys);
    m->have_sys = true;
    const struct bmsgw_limits *l = &m->sys->limits;
    double now_a = charge ? l->ccl_a : l->dcl_a;
    if (!l->valid) {
        snprintf(why, size, "the limits are not valid (no fresh BMS data): nothing to clamp");
        return -EAGAIN;
    }
    if (c->value_a > now_a + 1e-9) {
        snprintf(why, size, "%.1f A would raise the %s limit (now %.1f A): a clamp only lowers",
                 c->value_a, charge ? "charge" : "discharge", now_a);
        return -ERANGE;
    }
    int64_t until = clock_mono_ms() + (int64_t)c->ttl_s * 1000;
    control_set_clamp(m->app->control, charge ? CONTROL_CHARGE : CONTROL_DISCHARGE, c->value_a,
                      until, "mqtt");
    log_notice("mqtt: %s current clamped to %.1f A for %d s", charge ? "charge" : "discharge",
               c->value_a, c->ttl_s);
    return 0;
}

void mqtt_command(struct mqtt_svc *m, const char *name, const void *payload, int len)
{
    struct mqtt_cmd c;
    char why[200];
    int rc = mqtt_cmd_parse(name, payload, len > 0 ? (size_t)len : 0,
                            m->cfg->mqtt.command_max_ttl_s, &c, why, sizeof(why));
    if (rc == 0 && c.kind == MQTT_CMD_ACK_ALERTS) {
        if (m->app->alerts) {
            alerts_acknowledge(m->app->alerts, 0);
            log_notice("mqtt: every alert acknowledged");
        } else {
            rc = -ENOENT;
            snprintf(why, sizeof(why), "the alert service is not running");
        }
    } else if (rc == 0) {
        rc = apply_clamp(m, &c, why, sizeof(why));
    }
    answer(m, name, rc ? why : NULL);
}
