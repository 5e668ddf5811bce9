/* SPDX-License-Identifier: MIT */
/* mqtt_publish.c — what the gateway publishes: status, state, strings, availability, alerts. */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/clock.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/status_json.h"
#include "mqtt_priv.h"

static void pub_json(struct mqtt_svc *m, const char *suffix, json_t *j, int qos, bool retain)
{
    char *text = j ? json_dumps(j, BMSGW_JSON_FLAGS) : NULL;
    if (text)
        mqtt_pub_p(m, suffix, text, qos, retain);
    free(text);
}

static void publish_state(struct mqtt_svc *m, int64_t now_ms)
{
    struct control_state cs;
    control_get(m->app->control, &cs);
    struct status_json_opts o = { .now_ms = now_ms,
                                  .now_real_ms = clock_real_ms(),
                                  .stale_after_ms = m->cfg->bms.stale_after_ms,
                                  .control = &cs };
    json_t *status = status_to_json(m->sys, &o);
    if (!status)
        return;
    pub_json(m, "state", status, 0, true);
    size_t n = json_array_size(json_object_get(status, "strings"));
    for (unsigned i = 0; i < n && i < CFG_MAX_PORTS; i++) {
        char suffix[40];
        json_t *s = mqtt_string_state(status, i);
        snprintf(suffix, sizeof(suffix), "string/%u/state", i + 1);
        pub_json(m, suffix, s, 0, true);
        json_decref(s);
    }
    json_decref(status);
    m->last_state_ms = now_ms;
    mqtt_state_key(m->sys, &m->last_key);
    atomic_fetch_add(&m->cnt.states, 1);
}

/* Each configured string online while its data is fresh; published on every change. */
static void publish_availability(struct mqtt_svc *m, int64_t now_ms, bool force)
{
    unsigned n = (unsigned)m->cfg->bms.port_count;
    for (unsigned i = 0; i < n && i < CFG_MAX_PORTS; i++) {
        bool fresh = m->have_sys && i < m->sys->string_count &&
                     bmsgw_string_is_fresh(&m->sys->strings[i], now_ms, m->cfg->bms.stale_after_ms);
        if (!force && m->avail[i] == (int8_t)fresh)
            continue;
        char suffix[40];
        snprintf(suffix, sizeof(suffix), "string/%u/availability", i + 1);
        if (!mqtt_pub_p(m, suffix, fresh ? "online" : "offline", 1, true))
            continue;
        if (!fresh && m->avail[i] == 1)
            log_notice("mqtt: string %u unavailable, its data %lld ms old", i + 1,
                       i < m->sys->string_count && m->sys->strings[i].sample_ms
                           ? (long long)(now_ms - m->sys->strings[i].sample_ms)
                           : -1LL);
        m->avail[i] = (int8_t)fresh;
    }
}

static void publish_alerts(struct mqtt_svc *m)
{
    if (!m->app->alerts)
        return;
    json_t *j = alerts_active_json(m->app->alerts);
    pub_json(m, "alerts", j, 1, true);
    json_decref(j);
    m->alerts_dirty = false;
}

static void publish_event(struct mqtt_svc *m, const struct alert_change *c)
{
    json_t *j = alert_change_to_json(c);
    pub_json(m, "event", j, 1, false);
    json_decref(j);
}

static void subscribe(struct mqtt_svc *m)
{
    char topic[MQTT_TOPIC_MAX + 64];
    if (m->cfg->mqtt.ha_discovery) {
        snprintf(topic, sizeof(topic), "%s/status", m->ids.ha_prefix);
        mosquitto_subscribe(m->mosq, NULL, topic, 1);
        /* our retained configs come back: those of strings no longer configured are removed */
        snprintf(topic, sizeof(topic), "%s/+/%s/+/config", m->ids.ha_prefix, m->ids.gateway_id);
        mosquitto_subscribe(m->mosq, NULL, topic, 1);
    }
    /* our retained string topics come back: those of strings no longer configured are cleared */
    mqtt_topic(&m->ids, "string/+/state", topic, sizeof(topic));
    mosquitto_subscribe(m->mosq, NULL, topic, 1);
    mqtt_topic(&m->ids, "string/+/availability", topic, sizeof(topic));
    mosquitto_subscribe(m->mosq, NULL, topic, 1);
    if (m->cfg->mqtt.commands) {
        mqtt_topic(&m->ids, "cmd/+", topic, sizeof(topic));
        mosquitto_subscribe(m->mosq, NULL, topic, 1);
    }
}

void mqtt_on_online(struct mqtt_svc *m, int64_t now_ms)
{
    mqtt_pub_p(m, "status", "online", 1, true);
    subscribe(m);
    m->ha_done = false; /* announced with the first generation (mqtt_discovery_check) */
    mqtt_discovery_check(m);
    publish_alerts(m);
    for (; m->ev_len; m->ev_len--, m->ev_head = (m->ev_head + 1) % MQTT_EVENTS_MAX)
        publish_event(m, &m->events[m->ev_head]);
    if (m->have_sys)
        publish_state(m, now_ms);
    publish_availability(m, now_ms, true);
}

void mqtt_publish_tick(struct mqtt_svc *m, int64_t now_ms, bool fresh)
{
    if (!m->connected)
        return;
    mqtt_discovery_check(m);
    if (m->alerts_dirty)
        publish_alerts(m);
    if (m->have_sys) {
        struct mqtt_state_key k;
        mqtt_state_key(m->sys, &k);
        enum mqtt_change change = mqtt_state_key_diff(&k, &m->last_key);
        int spacing = publisher_spacing_ms(m->cfg->mqtt.state_interval_ms);
        if (mqtt_state_due(now_ms, m->last_state_ms, spacing, change, fresh))
            publish_state(m, now_ms);
    }
    publish_availability(m, now_ms, false);
}

void mqtt_publish_alert_change(struct mqtt_svc *m, const struct alert_change *c)
{
    m->alerts_dirty = true;
    if (m->connected) {
        publish_event(m, c);
        return;
    }
    if (m->ev_len == MQTT_EVENTS_MAX) { /* the oldest goes */
        m->ev_head = (m->ev_head + 1) % MQTT_EVENTS_MAX;
        m->ev_len--;
        atomic_fetch_add(&m->cnt.events_dropped, 1);
    }
    m->events[(m->ev_head + m->ev_len) % MQTT_EVENTS_MAX] = *c;
    m->ev_len++;
}

/* Topic P/cmd/<name>: the name, or NULL. */
static const char *command_name(const struct mqtt_svc *m, const char *topic)
{
    size_t n = strlen(m->ids.prefix);
    if (strncmp(topic, m->ids.prefix, n) != 0 || strncmp(topic + n, "/cmd/", 5) != 0)
        return NULL;
    return topic + n + 5;
}

void mqtt_on_message(struct mqtt_svc *m, const char *topic, const void *payload, int len,
                     bool retained)
{
    char ha_status[MQTT_TOPIC_MAX];
    snprintf(ha_status, sizeof(ha_status), "%s/status", m->ids.ha_prefix);
    const char *cmd = command_name(m, topic);
    unsigned string_no = mqtt_string_topic_no(&m->ids, topic);
    if (string_no) {
        if (retained && len > 0 && string_no > (unsigned)m->cfg->bms.port_count) {
            log_info("mqtt: clearing %s (string %u is no longer configured)", topic, string_no);
            mqtt_pub(m, topic, "", 1, true);
        }
    } else if (cmd && m->cfg->mqtt.commands && !retained && strcmp(cmd, "result") != 0)
        mqtt_command(m, cmd, payload, len);
    else if (m->cfg->mqtt.ha_discovery && strcmp(topic, ha_status) == 0) {
        /* Home Assistant (re)started; a retained birth message is answered by the announcement
         * made at connect */
        if (!retained && len == 6 && memcmp(payload, "online", 6) == 0)
            mqtt_discovery_announce(m);
    } else if (m->cfg->mqtt.ha_discovery)
        mqtt_discovery_seen(m, topic, len);
}
