/* SPDX-License-Identifier: MIT */
/* mqtt_ids.c — the gateway's ids and topics, the state documents and their pacing (pure). */
#include "bmsgw/mqtt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void gateway_id_from_host(const char *host, char *out, size_t size)
{
    size_t n = 0;
    for (const char *c = host ? host : ""; *c && n + 1 < size; c++) {
        char ch = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        out[n++] = ok ? ch : '-';
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "bmsgw");
}

void mqtt_ids_resolve(const struct cfg_mqtt *cfg, const char *hostname, struct mqtt_ids *out)
{
    memset(out, 0, sizeof(*out));
    if (cfg->gateway_id[0])
        snprintf(out->gateway_id, sizeof(out->gateway_id), "%s", cfg->gateway_id);
    else
        gateway_id_from_host(hostname, out->gateway_id, sizeof(out->gateway_id));
    if (cfg->client_id[0])
        snprintf(out->client_id, sizeof(out->client_id), "%s", cfg->client_id);
    else
        snprintf(out->client_id, sizeof(out->client_id), "bmsgw-%.50s", out->gateway_id);
    if (cfg->topic_prefix[0])
        snprintf(out->prefix, sizeof(out->prefix), "%s", cfg->topic_prefix);
    else
        snprintf(out->prefix, sizeof(out->prefix), "bmsgw/%.80s", out->gateway_id);
    snprintf(out->ha_prefix, sizeof(out->ha_prefix), "%s", cfg->ha_prefix);
}

int mqtt_port(const struct cfg_mqtt *cfg)
{
    if (cfg->port)
        return cfg->port;
    return cfg->tls.enabled ? 8883 : 1883;
}

void mqtt_topic(const struct mqtt_ids *ids, const char *suffix, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", ids->prefix, suffix);
}

unsigned mqtt_string_topic_no(const struct mqtt_ids *ids, const char *topic)
{
    size_t n = strlen(ids->prefix);
    if (strncmp(topic, ids->prefix, n) != 0 || strncmp(topic + n, "/string/", 8) != 0)
        return 0;
    const char *digits = topic + n + 8, *p = digits;
    unsigned no = 0;
    for (; *p >= '0' && *p <= '9' && no < 100000; p++)
        no = no * 10 + (unsigned)(*p - '0');
    if (p == digits || *digits == '0')
        return 0; /* no digits, or a leading zero: not a topic we publish */
    return strcmp(p, "/state") == 0 || strcmp(p, "/availability") == 0 ? no : 0;
}

/* A system limit divided over the fresh strings, or null. */
static json_t *share(json_t *limits, const char *key, json_int_t fresh, bool stale)
{
    json_t *v = json_object_get(limits, key);
    if (stale || fresh <= 0 || !json_is_number(v))
        return json_null();
    return json_real(round(json_number_value(v) / (double)fresh * 100.0) / 100.0);
}

json_t *mqtt_string_state(json_t *status, unsigned i)
{
    json_t *src = json_array_get(json_object_get(status, "strings"), i);
    if (!src)
        return NULL;
    json_t *o = json_deep_copy(src);
    json_t *limits = json_object_get(status, "limits");
    json_int_t fresh =
        json_integer_value(json_object_get(json_object_get(status, "system"), "strings_online"));
    bool stale = json_is_true(json_object_get(o, "stale")) ||
                 !json_is_true(json_object_get(limits, "valid"));
    json_object_set_new(o, "limits_share",
                        json_pack("{s:o,s:o}", "ccl_a", share(limits, "ccl_a", fresh, stale),
                                  "dcl_a", share(limits, "dcl_a", fresh, stale)));
    return o;
}

void mqtt_state_key(const struct bmsgw_system *sys, struct mqtt_state_key *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        out->alarm_level[i] = sys->alarms.a[i].level;
    out->limits_valid = sys->limits.valid;
    out->phase = sys->limits.phase;
    if (!sys->limits.valid)
        return;
    out->cvl_dv = (int32_t)lround(sys->limits.cvl_v * 10.0);
    out->ccl_a = (int32_t)floor(sys->limits.ccl_a);
    out->dcl_a = (int32_t)floor(sys->limits.dcl_a);
}

enum mqtt_change mqtt_state_key_diff(const struct mqtt_state_key *a, const struct mqtt_state_key *b)
{
    if (memcmp(a->alarm_level, b->alarm_level, sizeof(a->alarm_level)) != 0)
        return MQTT_CHANGE_ALARM;
    if (a->limits_valid != b->limits_valid || a->phase != b->phase || a->cvl_dv != b->cvl_dv ||
        a->ccl_a != b->ccl_a || a->dcl_a != b->dcl_a)
        return MQTT_CHANGE_LIMITS;
    return MQTT_CHANGE_NONE;
}

bool mqtt_state_due(int64_t now_ms, int64_t last_ms, int spacing_ms, enum mqtt_change change,
                    bool fresh)
{
    if (last_ms == 0 || change == MQTT_CHANGE_ALARM)
        return true;
    int64_t since = now_ms - last_ms;
    if (change == MQTT_CHANGE_LIMITS && since >= MQTT_LIMIT_CHANGE_MIN_MS)
        return true;
    return since >= spacing_ms + (fresh ? 0 : MQTT_HEARTBEAT_GRACE_MS);
}
