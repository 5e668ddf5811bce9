/* SPDX-License-Identifier: MIT */
/* alerts_json.c — alerts as JSON for the API and the stream, and the persisted state (pure). */
#include "bmsgw/alerts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bmsgw/status_json.h"

/* Wall-clock ms as ISO 8601 UTC ("2026-05-01T12:00:00.250Z"), or null for 0. */
static json_t *iso_time(int64_t ms)
{
    char buf[40], date[32];
    struct tm tm;
    if (ms <= 0)
        return json_null();
    time_t s = (time_t)(ms / 1000);
    if (!gmtime_r(&s, &tm))
        return json_null();
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, sizeof(buf), "%s.%03dZ", date, (int)(ms % 1000));
    return json_string(buf);
}

json_t *alert_to_json(const struct alert *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "type", json_string(a->type));
    json_object_set_new(o, "severity", json_string(alert_severity_name(a->severity)));
    json_object_set_new(o, "string", a->string >= 0 ? json_integer(a->string + 1) : json_null());
    json_object_set_new(o, "value", json_number_or_null(a->value));
    json_object_set_new(o, "threshold", json_number_or_null(a->threshold));
    json_object_set_new(o, "unit", json_string(a->unit));
    json_object_set_new(o, "message", json_string(a->message));
    json_object_set_new(o, "raised_at", iso_time(a->raised_ms));
    json_object_set_new(o, "active", json_boolean(a->cleared_ms == 0));
    json_object_set_new(o, "cleared_at", iso_time(a->cleared_ms));
    json_object_set_new(o, "acknowledged", json_boolean(a->acknowledged_ms != 0));
    json_object_set_new(o, "acknowledged_at", iso_time(a->acknowledged_ms));
    if (strcmp(a->type, "bms_event") == 0)
        json_object_set_new(o, "event_id", json_integer(a->event_id));
    return o;
}

json_t *alert_change_to_json(const struct alert_change *c)
{
    static const char *const kinds[] = { "raised", "cleared", "acknowledged" };
    return json_pack("{s:s,s:o}", "type", c->kind < 3 ? kinds[c->kind] : "unknown", "alert",
                     alert_to_json(&c->alert));
}

/* ---- persistence: every field, times in ms ------------------------------------------------ */

static json_t *record_json(const struct alert *a)
{
    return json_pack("{s:I,s:s,s:s,s:i,s:i,s:o,s:o,s:s,s:s,s:I,s:I,s:I,s:i,s:i,s:i}", "id",
                     (json_int_t)a->id, "type", a->type, "key", a->key, "severity", a->severity,
                     "string", a->string, "value", json_number_or_null(a->value), "threshold",
                     json_number_or_null(a->threshold), "unit", a->unit, "message", a->message,
                     "raised_ms", (json_int_t)a->raised_ms, "cleared_ms", (json_int_t)a->cleared_ms,
                     "acknowledged_ms", (json_int_t)a->acknowledged_ms, "clear_rule", a->clear_rule,
                     "event_id", a->event_id, "recovery_id", a->recovery_id);
}

json_t *alerts_engine_to_json(const struct alerts_engine *e)
{
    json_t *active = json_array(), *hist = json_array();
    for (unsigned i = 0; i < e->n_active; i++)
        json_array_append_new(active, record_json(&e->active[i]));
    for (unsigned i = 0; i < e->hist_len; i++)
        json_array_append_new(hist,
                              record_json(&e->history[(e->hist_head + i) % ALERTS_HISTORY_MAX]));
    return json_pack("{s:i,s:I,s:I,s:o,s:o}", "version", 1, "next_id", (json_int_t)e->next_id,
                     "raised_total", (json_int_t)e->raised_total, "active", active, "history",
                     hist);
}

static double number_or_nan(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int record_from_json(json_t *o, struct alert *a)
{
    const char *type, *key, *unit, *msg;
    json_int_t id, raised, cleared, acked;
    int sev, string, rule, ev, rec;
    json_t *value, *thr;
    memset(a, 0, sizeof(*a));
    if (json_unpack(o, "{s:I,s:s,s:s,s:i,s:i,s:o,s:o,s:s,s:s,s:I,s:I,s:I,s:i,s:i,s:i}", "id", &id,
                    "type", &type, "key", &key, "severity", &sev, "string", &string, "value",
                    &value, "threshold", &thr, "unit", &unit, "message", &msg, "raised_ms", &raised,
                    "cleared_ms", &cleared, "acknowledged_ms", &acked, "clear_rule", &rule,
                    "event_id", &ev, "recovery_id", &rec) != 0)
        return -EINVAL;
    if (id < 1 || id >= UINT32_MAX || sev < ALERT_INFO || sev > ALERT_ALARM || string < -1 ||
        string >= BMSGW_MAX_STRINGS || rule < 0 || rule > ALERT_CLEAR_ACK || ev < 0 || ev > 255 ||
        rec < 0 || rec > 255)
        return -EINVAL;
    *a = (struct alert){ .id = (uint32_t)id,
                         .severity = (uint8_t)sev,
                         .string = (int16_t)string,
                         .value = number_or_nan(value),
                         .threshold = number_or_nan(thr),
                         .raised_ms = raised,
                         .cleared_ms = cleared,
                         .acknowledged_ms = acked,
                         .clear_rule = (uint8_t)rule,
                         .event_id = (uint8_t)ev,
                         .recovery_id = (uint8_t)rec };
    snprintf(a->type, sizeof(a->type), "%s", type);
    snprintf(a->key, sizeof(a->key), "%s", key);
    snprintf(a->unit, sizeof(a->unit), "%s", unit);
    snprintf(a->message, sizeof(a->message), "%s", msg);
    return 0;
}

static int restore(struct alerts_engine *e, json_t *j, char *why, unsigned why_size)
{
    json_int_t next_id, total;
    json_t *active, *hist, *o;
    size_t i;
    int version;
    if (json_unpack(j, "{s:i,s:I,s:I,s:o,s:o}", "version", &version, "next_id", &next_id,
                    "raised_total", &total, "active", &active, "history", &hist) != 0 ||
        version != 1 || !json_is_array(active) || !json_is_array(hist) || next_id < 1 ||
        next_id > UINT32_MAX) {
        snprintf(why, why_size, "not an alert state of version 1");
        return -EINVAL;
    }
    e->next_id = (uint32_t)next_id;
    e->raised_total = (uint64_t)(total > 0 ? total : 0);
    json_array_foreach(active, i, o)
    {
        struct alert a;
        if (record_from_json(o, &a) != 0 || a.cleared_ms != 0 || e->n_active == ALERTS_ACTIVE_MAX) {
            snprintf(why, why_size, "active alert %zu is not valid", i);
            return -EINVAL;
        }
        e->active[e->n_active++] = a;
    }
    json_array_foreach(hist, i, o)
    {
        struct alert a;
        if (record_from_json(o, &a) != 0) {
            snprintf(why, why_size, "history entry %zu is not valid", i);
            return -EINVAL;
        }
        if (e->hist_len < ALERTS_HISTORY_MAX)
            e->history[e->hist_len++] = a;
    }
    /* ids are never reused, whatever the file says */
    for (unsigned k = 0; k < e->n_active; k++)
        if (e->active[k].id >= e->next_id)
            e->next_id = e->active[k].id + 1;
    for (unsigned k = 0; k < e->hist_len; k++)
        if (e->history[k].id >= e->next_id)
            e->next_id = e->history[k].id + 1;
    return 0;
}

int alerts_engine_from_json(struct alerts_engine *e, json_t *j, char *why, unsigned why_size)
{
    alerts_engine_init(e);
    int rc = restore(e, j, why, why_size);
    if (rc)
        alerts_engine_init(e);
    return rc;
}
