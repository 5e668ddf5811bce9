/* SPDX-License-Identifier: MIT */
/* mqtt_discovery.c — announcing the Home Assistant entities and removing obsolete ones. */
#include <stdlib.h>
#include <string.h>

#include "bmsgw-build.h"
#include "bmsgw/log.h"
#include "mqtt_priv.h"

static void remember(struct mqtt_svc *m, const char *topic)
{
    if (m->ha_n == m->ha_cap) {
        unsigned cap = m->ha_cap ? 2 * m->ha_cap : 256;
        char **t = realloc(m->ha_topics, cap * sizeof(*t));
        if (!t)
            return;
        m->ha_topics = t;
        m->ha_cap = cap;
    }
    char *copy = strdup(topic);
    if (copy)
        m->ha_topics[m->ha_n++] = copy;
}

static void emit(const char *topic, const char *payload, void *ctx)
{
    struct mqtt_svc *m = ctx;
    remember(m, topic);
    if (mqtt_pub(m, topic, payload, 1, true))
        atomic_fetch_add(&m->cnt.discovery_docs, 1);
}

void mqtt_discovery_free(struct mqtt_svc *m)
{
    for (unsigned i = 0; i < m->ha_n; i++)
        free(m->ha_topics[i]);
    m->ha_n = 0;
}

/* Each string's cell and sensor count as known now (the configured cells before data). */
static void counts(const struct mqtt_svc *m, unsigned n, uint16_t *cells, uint16_t *sensors)
{
    const struct cfg_bms *b = &m->cfg->bms;
    for (unsigned i = 0; i < n; i++) {
        bool known = m->have_sys && i < m->sys->string_count;
        cells[i] = known && m->sys->strings[i].cell_count ? m->sys->strings[i].cell_count
                                                          : (uint16_t)b->ports[i].cells;
        sensors[i] = known ? m->sys->strings[i].sensor_count : 0;
    }
}

static unsigned string_count(const struct mqtt_svc *m)
{
    unsigned n = (unsigned)m->cfg->bms.port_count;
    return n < CFG_MAX_PORTS ? n : CFG_MAX_PORTS;
}

void mqtt_discovery_announce(struct mqtt_svc *m)
{
    const char *names[CFG_MAX_PORTS];
    unsigned cells[CFG_MAX_PORTS], sensors[CFG_MAX_PORTS], n = string_count(m), total = 0;
    char url[160] = "";
    counts(m, n, m->ha_cells, m->ha_sensors);
    for (unsigned i = 0; i < n; i++) {
        names[i] = m->cfg->bms.ports[i].name;
        cells[i] = m->ha_cells[i];
        sensors[i] = m->ha_sensors[i];
        total += cells[i];
    }
    if (m->cfg->http.enabled)
        snprintf(url, sizeof(url), "http://%s:%d/",
                 strcmp(m->cfg->http.bind, "0.0.0.0") ? m->cfg->http.bind : m->host,
                 m->cfg->http.port);
    struct mqtt_ha_ctx c = { .ids = &m->ids,
                             .sw_version = BMSGW_VERSION,
                             .config_url = url,
                             .expire_after_s =
                                 mqtt_ha_expire_after_s(m->cfg->mqtt.state_interval_ms),
                             .cells = m->cfg->mqtt.ha_cells,
                             .commands = m->cfg->mqtt.commands,
                             .string_count = n,
                             .names = names,
                             .cell_counts = cells,
                             .sensor_counts = sensors,
                             .max_charge_a = m->cfg->limits.max_charge_current_a,
                             .max_discharge_a = m->cfg->limits.max_discharge_current_a };
    mqtt_discovery_free(m);
    unsigned docs = mqtt_ha_documents(&c, emit, m);
    m->ha_done = true;
    log_info("mqtt: announced %u Home Assistant entities under %s (%u strings, %u cells)", docs,
             m->ids.ha_prefix, n, total);
}

void mqtt_discovery_check(struct mqtt_svc *m)
{
    if (!m->connected || !m->cfg->mqtt.ha_discovery || !m->have_sys)
        return;
    uint16_t cells[CFG_MAX_PORTS], sensors[CFG_MAX_PORTS];
    unsigned n = string_count(m);
    counts(m, n, cells, sensors);
    if (!m->ha_done || memcmp(cells, m->ha_cells, n * sizeof(*cells)) ||
        memcmp(sensors, m->ha_sensors, n * sizeof(*sensors)))
        mqtt_discovery_announce(m);
}

/* A retained config of ours that is not announced any more: remove it (empty, retained). */
void mqtt_discovery_seen(struct mqtt_svc *m, const char *topic, int len)
{
    if (len == 0 ||
        !mqtt_ha_is_obsolete(&m->ids, topic, (const char *const *)m->ha_topics, m->ha_n))
        return;
    log_info("mqtt: removing the obsolete entity %s", topic);
    mqtt_pub(m, topic, "", 1, true);
}
