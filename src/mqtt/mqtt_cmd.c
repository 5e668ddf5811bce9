/* SPDX-License-Identifier: MIT */
/* mqtt_cmd.c — the command payloads of P/cmd/<name> (pure). */
#include "bmsgw/mqtt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/utf8.h"

/* Highest clamp value taken at all (A); a value above the controller's limit is refused later,
 * where that limit is known. */
#define MQTT_CMD_VALUE_MAX_A 100000.0

static const char *const cmd_names[] = {
    [MQTT_CMD_CHARGE_LIMIT] = "charge_limit_a",
    [MQTT_CMD_DISCHARGE_LIMIT] = "discharge_limit_a",
    [MQTT_CMD_ACK_ALERTS] = "ack_alerts",
};

const char *mqtt_cmd_name(enum mqtt_cmd_kind k)
{
    return (unsigned)k < sizeof(cmd_names) / sizeof(cmd_names[0]) ? cmd_names[k] : "unknown";
}

static int refuse(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    utf8_repair(why); /* jansson's error quotes the payload's bytes; the answer is JSON */
    return -EINVAL;
}

static int parse_ttl(json_t *ttl, int max_ttl_s, struct mqtt_cmd *out, char *why, size_t size)
{
    int def = max_ttl_s < MQTT_CMD_DEFAULT_TTL_S ? max_ttl_s : MQTT_CMD_DEFAULT_TTL_S;
    if (!ttl) {
        out->ttl_s = def;
        return 0;
    }
    if (!json_is_integer(ttl))
        return refuse(why, size, "ttl_s must be a whole number of seconds");
    json_int_t t = json_integer_value(ttl);
    if (t < 1 || t > max_ttl_s)
        return refuse(why, size, "ttl_s must be 1..%d s (mqtt.command_max_ttl_s), got %lld",
                      max_ttl_s, (long long)t);
    out->ttl_s = (int)t;
    return 0;
}

static int parse_limit(json_t *o, int max_ttl_s, struct mqtt_cmd *out, char *why, size_t size)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "value") != 0 && strcmp(key, "ttl_s") != 0)
            return refuse(why, size, "unknown member \"%.40s\" (allowed: value, ttl_s)", key);
    }
    v = json_object_get(o, "value");
    if (!v)
        return refuse(why, size, "value (A) is required");
    if (!json_is_number(v))
        return refuse(why, size, "value must be a number of amperes");
    double a = json_number_value(v);
    if (!isfinite(a) || a < 0 || a > MQTT_CMD_VALUE_MAX_A)
        return refuse(why, size, "value must be 0..%.0f A, got %g", MQTT_CMD_VALUE_MAX_A, a);
    out->value_a = a;
    return parse_ttl(json_object_get(o, "ttl_s"), max_ttl_s, out, why, size);
}

static int find_kind(const char *name, enum mqtt_cmd_kind *k)
{
    for (unsigned i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
        if (name && strcmp(name, cmd_names[i]) == 0) {
            *k = (enum mqtt_cmd_kind)i;
            return 0;
        }
    return -ENOENT;
}

int mqtt_cmd_parse(const char *name, const void *payload, size_t len, int max_ttl_s,
                   struct mqtt_cmd *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (find_kind(name, &out->kind) < 0)
        return refuse(why, why_size,
                      "unknown command (known: charge_limit_a, discharge_limit_a, ack_alerts)");
    if (len > MQTT_CMD_PAYLOAD_MAX)
        return refuse(why, why_size, "payload longer than %d bytes", MQTT_CMD_PAYLOAD_MAX);
    if (len && memchr(payload, '\0', len))
        return refuse(why, why_size, "the payload contains a NUL byte");
    json_error_t jerr;
    json_t *o = json_loadb(payload ? payload : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return refuse(why, why_size, "malformed JSON: %.80s", jerr.text);
    int rc = 0;
    if (!json_is_object(o))
        rc = refuse(why, why_size, "the payload must be a JSON object");
    else if (out->kind == MQTT_CMD_ACK_ALERTS && json_object_size(o) != 0)
        rc = refuse(why, why_size, "ack_alerts takes no members ({})");
    else if (out->kind != MQTT_CMD_ACK_ALERTS)
        rc = parse_limit(o, max_ttl_s, out, why, why_size);
    json_decref(o);
    return rc;
}
