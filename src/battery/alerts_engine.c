/* SPDX-License-Identifier: MIT */
/* alerts_engine.c — raising, debouncing, clearing and acknowledging alerts (pure). */
#include "bmsgw/alerts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/alarms.h"
#include "bmsgw/status_json.h"

const char *alert_severity_name(enum alert_severity s)
{
    switch (s) {
    case ALERT_INFO:
        return "info";
    case ALERT_WARNING:
        return "warning";
    case ALERT_ALARM:
        return "alarm";
    }
    return "unknown";
}

void alerts_engine_init(struct alerts_engine *e)
{
    memset(e, 0, sizeof(*e));
    e->next_id = 1;
}

static void change(struct alert_changes *out, enum alert_change_kind kind, const struct alert *a)
{
    if (!out)
        return;
    if (out->n == ALERTS_CHANGES_MAX) {
        out->lost++;
        return;
    }
    out->c[out->n].kind = (uint8_t)kind;
    out->c[out->n].alert = *a;
    out->n++;
}

static int find_active_key(const struct alerts_engine *e, const char *key)
{
    for (unsigned i = 0; i < e->n_active; i++)
        if (strcmp(e->active[i].key, key) == 0)
            return (int)i;
    return -1;
}

static struct alert *history_find(struct alerts_engine *e, uint32_t id)
{
    for (unsigned i = 0; i < e->hist_len; i++) {
        struct alert *a = &e->history[(e->hist_head + i) % ALERTS_HISTORY_MAX];
        if (a->id == id)
            return a;
    }
    return NULL;
}

static void history_put(struct alerts_engine *e, const struct alert *a)
{
    struct alert *h = history_find(e, a->id);
    if (h) {
        *h = *a;
        return;
    }
    if (e->hist_len < ALERTS_HISTORY_MAX) {
        e->history[(e->hist_head + e->hist_len) % ALERTS_HISTORY_MAX] = *a;
        e->hist_len++;
    } else {
        e->history[e->hist_head] = *a;
        e->hist_head = (e->hist_head + 1) % ALERTS_HISTORY_MAX;
    }
}

static void clear_at(struct alerts_engine *e, unsigned i, int64_t now_real_ms,
                     struct alert_changes *out)
{
    struct alert a = e->active[i];
    a.cleared_ms = now_real_ms;
    memmove(&e->active[i], &e->active[i + 1], (e->n_active - i - 1) * sizeof(e->active[0]));
    e->n_active--;
    history_put(e, &a);
    change(out, ALERT_CLEARED, &a);
}

/* Make room when every slot is taken: the oldest event alert goes first, else the oldest. */
static void make_room(struct alerts_engine *e, int64_t now_real_ms, struct alert_changes *out)
{
    if (e->n_active < ALERTS_ACTIVE_MAX)
        return;
    unsigned victim = 0;
    for (unsigned i = 0; i < e->n_active; i++) {
        if (strcmp(e->active[i].type, "bms_event") == 0) {
            victim = i;
            break;
        }
    }
    clear_at(e, victim, now_real_ms, out);
}

static void raise_alert(struct alerts_engine *e, struct alert *a, int64_t now_real_ms,
                        struct alert_changes *out)
{
    a->id = e->next_id++;
    a->raised_ms = now_real_ms;
    a->cleared_ms = 0;
    a->acknowledged_ms = 0;
    e->raised_total++;
    history_put(e, a);
    change(out, ALERT_RAISED, a);
    if (a->severity == ALERT_INFO) { /* a notice: straight into the history */
        a->cleared_ms = now_real_ms;
        history_put(e, a);
        change(out, ALERT_CLEARED, a);
        return;
    }
    make_room(e, now_real_ms, out);
    e->active[e->n_active++] = *a;
}

static struct alert_tracker *tracker(struct alerts_engine *e, const char *key)
{
    for (unsigned i = 0; i < e->n_trackers; i++)
        if (strcmp(e->trackers[i].key, key) == 0)
            return &e->trackers[i];
    if (e->n_trackers == ALERTS_TRACKERS_MAX)
        return NULL;
    struct alert_tracker *t = &e->trackers[e->n_trackers++];
    snprintf(t->key, sizeof(t->key), "%s", key);
    t->pending = -1;
    return t;
}

/* Describes the alert a condition raises; called only when it does. */
struct alert_source {
    const struct bmsgw_system *sys;
    const struct bmsgw_config *cfg;
    unsigned index;   /* alarm id or string */
    const char *what; /* CAN: the state in words */
    void (*fill)(struct alert *a, const struct alert_source *src);
};

/* A debounced condition: want = the severity it calls for now (-1 = none); src describes the
 * alert to raise. */
static void condition(struct alerts_engine *e, const char *key, int want,
                      const struct alert_source *src, int debounce_ms, int64_t now_ms,
                      int64_t now_real_ms, struct alert_changes *out)
{
    int idx = find_active_key(e, key);
    int cur = idx >= 0 ? e->active[idx].severity : -1;
    struct alert_tracker *t = tracker(e, key);
    if (!t)
        return;
    if (want == cur) {
        t->pending = (int8_t)cur;
        t->since_ms = now_ms;
        return;
    }
    if (t->pending != want) {
        t->pending = (int8_t)want;
        t->since_ms = now_ms;
    }
    if (now_ms - t->since_ms < debounce_ms)
        return;
    if (idx >= 0)
        clear_at(e, (unsigned)idx, now_real_ms, out);
    if (want >= 0) {
        struct alert tmpl;
        src->fill(&tmpl, src);
        snprintf(tmpl.key, sizeof(tmpl.key), "%s", key);
        tmpl.severity = (uint8_t)want;
        raise_alert(e, &tmpl, now_real_ms, out);
    }
    t->since_ms = now_ms;
}

static void string_label(const struct bmsgw_system *sys, int s, char *buf, size_t size)
{
    if (s < 0 || s >= sys->string_count)
        snprintf(buf, size, "the system");
    else
        snprintf(buf, size, "string %d '%s'", s + 1, sys->strings[s].name);
}

/* The driver's name of the event that raised the BMS-internal condition st, or NULL when the
 * BMS's fault state alone raised it. */
static const char *bms_event_name(const struct bmsgw_system *sys,
                                  const struct bmsgw_alarm_state *st)
{
    if (st->string < 0 || st->string >= sys->string_count)
        return NULL;
    const struct bmsgw_string *s = &sys->strings[st->string];
    if (st->level == BMSGW_LEVEL_ALARM) {
        unsigned fault_event;
        alarms_string_fault(s, &fault_event);
        if (!fault_event)
            return NULL;
    }
    unsigned n = s->event_count < BMSGW_EVENTS_MAX ? s->event_count : BMSGW_EVENTS_MAX;
    for (unsigned i = 0; i < n; i++) /* newest first */
        if (s->events[i].id == (unsigned)st->value && s->events[i].name)
            return s->events[i].name;
    return "Unknown event";
}

static void alarm_template(struct alert *a, const struct alert_source *src)
{
    const struct bmsgw_system *sys = src->sys;
    unsigned id = src->index;
    const struct bmsgw_alarm_state *st = &sys->alarms.a[id];
    const struct status_alarm_info *info = status_alarm_info(id);
    char where[64];
    memset(a, 0, sizeof(*a));
    snprintf(a->type, sizeof(a->type), "%s", bmsgw_alarm_name(id));
    snprintf(a->unit, sizeof(a->unit), "%s", info->unit);
    a->string = st->string;
    string_label(sys, st->string, where, sizeof(where));
    if (id == BMSGW_ALARM_BMS_INTERNAL) {
        a->value = a->threshold = NAN;
        const char *ev = bms_event_name(sys, st);
        if (ev)
            snprintf(a->message, sizeof(a->message), "%s: %s, %s", info->title, ev, where);
        else
            snprintf(a->message, sizeof(a->message), "%s: the BMS reports fault status, %s",
                     info->title, where);
        return;
    }
    a->value = st->value * info->scale;
    a->threshold = st->threshold * info->scale;
    snprintf(a->message, sizeof(a->message), "%s%s: %.*f %s (%s at %.*f %s), %s", info->title,
             st->level == BMSGW_LEVEL_WARNING ? " warning" : "", info->decimals, a->value,
             info->unit, st->level == BMSGW_LEVEL_WARNING ? "warning" : "alarm", info->decimals,
             a->threshold, info->unit, where);
}

static void eval_alarms(struct alerts_engine *e, const struct bmsgw_system *sys, int debounce_ms,
                        int64_t now_ms, int64_t now_real_ms, struct alert_changes *out)
{
    char key[40];
    for (unsigned id = 0; id < BMSGW_ALARM_COUNT; id++) {
        if (id == BMSGW_ALARM_GENERAL) /* the sum of the others */
            continue;
        uint8_t lv = sys->alarms.a[id].level;
        int want = lv == BMSGW_LEVEL_ALARM     ? ALERT_ALARM
                   : lv == BMSGW_LEVEL_WARNING ? ALERT_WARNING
                                               : -1;
        struct alert_source src = { .sys = sys, .index = id, .fill = alarm_template };
        snprintf(key, sizeof(key), "alarm:%s", bmsgw_alarm_name(id));
        condition(e, key, want, &src, debounce_ms, now_ms, now_real_ms, out);
    }
}

static void string_template(struct alert *a, const struct alert_source *src)
{
    const struct bmsgw_string *st = &src->sys->strings[src->index];
    char where[64];
    *a = (struct alert){ .string = (int16_t)src->index, .value = NAN, .threshold = NAN };
    snprintf(a->type, sizeof(a->type), "string_offline");
    string_label(src->sys, (int)src->index, where, sizeof(where));
    snprintf(a->message, sizeof(a->message), "No fresh data from %s: BMS link %s%s%.60s", where,
             bmsgw_link_state_name(st->link.state), st->link.last_error[0] ? ", " : "",
             st->link.last_error);
}

static void eval_strings(struct alerts_engine *e, const struct bmsgw_system *sys,
                         const struct bmsgw_config *cfg, int64_t now_ms, int64_t now_real_ms,
                         struct alert_changes *out)
{
    char key[40];
    for (unsigned i = 0; i < sys->string_count && i < BMSGW_MAX_STRINGS; i++) {
        bool fresh = bmsgw_string_is_fresh(&sys->strings[i], now_ms, cfg->bms.stale_after_ms);
        struct alert_source src = { .sys = sys, .index = i, .fill = string_template };
        snprintf(key, sizeof(key), "string:%u", i);
        condition(e, key, fresh ? -1 : ALERT_ALARM, &src, cfg->alarms.debounce_ms, now_ms,
                  now_real_ms, out);
    }
}

static void can_template(struct alert *a, const struct alert_source *src)
{
    const struct bmsgw_can_health *c = &src->sys->can;
    *a = (struct alert){ .string = -1, .value = NAN, .threshold = NAN };
    snprintf(a->type, sizeof(a->type), "can_bus");
    snprintf(a->message, sizeof(a->message), "CAN interface %s %s%s%.60s",
             c->interface[0] ? c->interface : src->cfg->can.interface, src->what,
             c->link.last_error[0] ? ": " : "", c->link.last_error);
}

static void eval_can(struct alerts_engine *e, const struct bmsgw_system *sys,
                     const struct bmsgw_config *cfg, bool can_enabled, int64_t now_ms,
                     int64_t now_real_ms, struct alert_changes *out)
{
    const struct bmsgw_can_health *c = &sys->can;
    int want = -1;
    const char *what = "";
    if (can_enabled && c->bus_state == BMSGW_CAN_BUS_OFF) {
        want = ALERT_ALARM;
        what = "bus-off";
    } else if (can_enabled && c->bus_state == BMSGW_CAN_BUS_ERROR_PASSIVE) {
        want = ALERT_WARNING;
        what = "error-passive";
    } else if (can_enabled && c->link.state == BMSGW_LINK_DOWN) {
        want = ALERT_WARNING;
        what = "down";
    }
    struct alert_source src = { .sys = sys, .cfg = cfg, .what = what, .fill = can_template };
    condition(e, "can", want, &src, cfg->alarms.debounce_ms, now_ms, now_real_ms, out);
}

/* A BMS setting refused as less safe than the configuration (src->index into refused[]). */
static const char *bms_name_of(const struct bmsgw_system *sys, int string)
{
    const char *n =
        string >= 0 && string < sys->string_count ? sys->strings[string].bms_name : NULL;
    return n ? n : "BMS";
}

static void refused_template(struct alert *a, const struct alert_source *src)
{
    const struct bmsgw_refused *r = &src->sys->limits.refused[src->index];
    const char *unit = bmsgw_threshold_unit(r->what);
    *a = (struct alert){ .string = r->string, .value = r->bms, .threshold = r->config };
    snprintf(a->type, sizeof(a->type), "bms_setting_refused");
    snprintf(a->unit, sizeof(a->unit), "%s", unit);
    snprintf(a->message, sizeof(a->message),
             "S%d %s: %.16s register %g %s is less safe than the configured %g %s, which is "
             "used",
             r->string + 1, bmsgw_threshold_name(r->what), bms_name_of(src->sys, r->string), r->bms,
             unit, r->config, unit);
}

static void refused_key(int string, unsigned what, char *buf, size_t size)
{
    snprintf(buf, size, "refused:%d:%u", string, what);
}

/* True when the alert of key may still hold but the snapshot cannot tell: its string has no
 * fresh data (the composer lists fresh strings only) or the list overflowed. */
static bool refused_unknown(const struct bmsgw_system *sys, const struct bmsgw_config *cfg,
                            const struct alert *a, int64_t now_ms)
{
    if (sys->limits.refused_count > BMSGW_REFUSED_MAX)
        return true;
    return a->string >= 0 && a->string < sys->string_count &&
           !bmsgw_string_is_fresh(&sys->strings[a->string], now_ms, cfg->bms.stale_after_ms);
}

/* One warning per refused register (string + threshold); it clears when the register is no
 * longer refused by a fresh string. */
static void eval_refused(struct alerts_engine *e, const struct bmsgw_system *sys,
                         const struct bmsgw_config *cfg, int64_t now_ms, int64_t now_real_ms,
                         struct alert_changes *out)
{
    const struct bmsgw_limits *l = &sys->limits;
    unsigned n = l->refused_count < BMSGW_REFUSED_MAX ? l->refused_count : BMSGW_REFUSED_MAX;
    char key[40], gone[ALERTS_ACTIVE_MAX][40];
    unsigned n_gone = 0;
    for (unsigned i = 0; i < n; i++) {
        struct alert_source src = { .sys = sys, .cfg = cfg, .index = i, .fill = refused_template };
        refused_key(l->refused[i].string, l->refused[i].what, key, sizeof(key));
        condition(e, key, ALERT_WARNING, &src, cfg->alarms.debounce_ms, now_ms, now_real_ms, out);
    }
    for (unsigned i = 0; i < e->n_active; i++) {
        const struct alert *a = &e->active[i];
        if (strcmp(a->type, "bms_setting_refused") != 0)
            continue;
        bool listed = false;
        for (unsigned k = 0; k < n && !listed; k++) {
            refused_key(l->refused[k].string, l->refused[k].what, key, sizeof(key));
            listed = strcmp(key, a->key) == 0;
        }
        if (!listed)
            snprintf(gone[n_gone++], sizeof(gone[0]), "%s", a->key);
    }
    for (unsigned i = 0; i < n_gone; i++) {
        int idx = find_active_key(e, gone[i]);
        bool hold = idx >= 0 && refused_unknown(sys, cfg, &e->active[idx], now_ms);
        struct alert_source src = { .sys = sys, .cfg = cfg, .fill = refused_template };
        condition(e, gone[i], hold ? ALERT_WARNING : -1, &src, cfg->alarms.debounce_ms, now_ms,
                  now_real_ms, out);
    }
}

/* Event faults without a recovery event clear once the string reports another status. */
static void eval_event_status(struct alerts_engine *e, const struct bmsgw_system *sys,
                              const struct bmsgw_config *cfg, int64_t now_ms, int64_t now_real_ms,
                              struct alert_changes *out)
{
    for (unsigned i = 0; i < e->n_active; i++) {
        struct alert *a = &e->active[i];
        if (a->clear_rule != ALERT_CLEAR_STATUS || a->string < 0 || a->string >= sys->string_count)
            continue;
        const struct bmsgw_string *st = &sys->strings[a->string];
        bool ok = bmsgw_string_is_fresh(st, now_ms, cfg->bms.stale_after_ms) &&
                  st->state != BMSGW_BMS_FAULT;
        struct alert_tracker *t = tracker(e, a->key);
        if (!t)
            continue;
        if (!ok) {
            t->pending = -1;
            t->since_ms = now_ms;
        } else if (t->pending != 0) {
            t->pending = 0; /* "ok seen since" */
            t->since_ms = now_ms;
        } else if (now_ms - t->since_ms >= cfg->alarms.debounce_ms) {
            t->pending = -1;
            clear_at(e, i--, now_real_ms, out);
        }
    }
}

void alerts_engine_eval(struct alerts_engine *e, const struct bmsgw_system *sys,
                        const struct bmsgw_config *cfg, bool can_enabled, int64_t now_ms,
                        int64_t now_real_ms, struct alert_changes *out)
{
    eval_alarms(e, sys, cfg->alarms.debounce_ms, now_ms, now_real_ms, out);
    eval_strings(e, sys, cfg, now_ms, now_real_ms, out);
    eval_can(e, sys, cfg, can_enabled, now_ms, now_real_ms, out);
    eval_refused(e, sys, cfg, now_ms, now_real_ms, out);
    eval_event_status(e, sys, cfg, now_ms, now_real_ms, out);
}

void alerts_engine_bms_event(struct alerts_engine *e, int string, const char *string_name,
                             const char *bms_name, unsigned event_id, const char *event_name,
                             const char *severity, unsigned recovered_by, int64_t now_real_ms,
                             struct alert_changes *out)
{
    /* a recovery event ends the alerts it answers */
    for (unsigned i = 0; i < e->n_active; i++) {
        const struct alert *a = &e->active[i];
        if (a->clear_rule == ALERT_CLEAR_RECOVERY && a->string == string &&
            a->recovery_id == event_id)
            clear_at(e, i--, now_real_ms, out);
    }
    struct alert a = {
        .string = (int16_t)string, .value = NAN, .threshold = NAN, .event_id = (uint8_t)event_id
    };
    snprintf(a.type, sizeof(a.type), "bms_event");
    snprintf(a.key, sizeof(a.key), "event:%d:%u", string, event_id);
    a.severity = strcmp(severity, "fault") == 0     ? ALERT_ALARM
                 : strcmp(severity, "warning") == 0 ? ALERT_WARNING
                                                    : ALERT_INFO;
    snprintf(a.message, sizeof(a.message), "%.16s of string %d%s%.32s%s: %.60s (event 0x%02X)",
             bms_name ? bms_name : "BMS", string + 1, string_name ? " '" : "",
             string_name ? string_name : "", string_name ? "'" : "", event_name, event_id);
    if (a.severity != ALERT_INFO && find_active_key(e, a.key) >= 0)
        return; /* the same event again while its alert is still up */
    if (recovered_by) {
        a.clear_rule = ALERT_CLEAR_RECOVERY;
        a.recovery_id = (uint8_t)recovered_by;
    } else {
        a.clear_rule = a.severity == ALERT_ALARM ? ALERT_CLEAR_STATUS : ALERT_CLEAR_ACK;
    }
    raise_alert(e, &a, now_real_ms, out);
}

int alerts_engine_ack(struct alerts_engine *e, uint32_t id, int64_t now_real_ms,
                      struct alert_changes *out)
{
    int n = 0;
    bool found = id == 0;
    for (unsigned i = 0; i < e->n_active; i++) {
        struct alert *a = &e->active[i];
        if (id && a->id != id)
            continue;
        found = true;
        if (a->acknowledged_ms)
            continue;
        a->acknowledged_ms = now_real_ms;
        history_put(e, a);
        change(out, ALERT_ACKNOWLEDGED, a);
        n++;
        if (a->clear_rule == ALERT_CLEAR_ACK)
            clear_at(e, i--, now_real_ms, out);
    }
    return found ? n : -ENOENT;
}

void alerts_engine_clear_history(struct alerts_engine *e)
{
    e->hist_len = 0;
    e->hist_head = 0;
}
