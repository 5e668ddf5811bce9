/* SPDX-License-Identifier: MIT */
/* test-alerts.c — the alerts engine: debounce, clearing rules, acknowledging, bounds, persistence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/alerts.h"
#include "bmsgw/tinybms.h"

#define REAL 1700000000000LL

struct fx {
    struct alerts_engine *e;
    struct bmsgw_system *sys;
    struct bmsgw_config cfg;
    struct alert_changes ch;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->e = malloc(sizeof(*f->e));
    f->sys = calloc(1, sizeof(*f->sys));
    alerts_engine_init(f->e);
    config_defaults(&f->cfg);
    f->cfg.alarms.debounce_ms = 2000;
    f->sys->string_count = 1;
    strcpy(f->sys->strings[0].name, "house");
    f->sys->strings[0].online = true;
    f->sys->strings[0].bms_name = TINYBMS_NAME; /* as its driver names it */
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        f->sys->alarms.a[i] = (struct bmsgw_alarm_state){ .level = BMSGW_LEVEL_OK, .string = -1 };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    free(f->e);
    free(f->sys);
    free(f);
    return 0;
}

/* Evaluate at now_ms with the string's sample just taken (fresh). */
static unsigned eval(struct fx *f, int64_t now_ms)
{
    memset(&f->ch, 0, sizeof(f->ch));
    if (f->sys->strings[0].online)
        f->sys->strings[0].sample_ms = now_ms;
    alerts_engine_eval(f->e, f->sys, &f->cfg, false, now_ms, REAL + now_ms, &f->ch);
    return f->ch.n;
}

static void set_alarm(struct fx *f, unsigned id, uint8_t level, double v, double thr)
{
    f->sys->alarms.a[id] =
        (struct bmsgw_alarm_state){ .level = level, .string = 0, .value = v, .threshold = thr };
}

static void test_alarm_debounced_raise_and_clear(void **state)
{
    struct fx *f = *state;
    set_alarm(f, BMSGW_ALARM_HIGH_VOLTAGE, BMSGW_LEVEL_ALARM, 3655, 3650);
    assert_int_equal(eval(f, 1000), 0);
    assert_int_equal(eval(f, 2999), 0);
    assert_int_equal(eval(f, 3000), 1);
    assert_int_equal(f->ch.c[0].kind, ALERT_RAISED);
    const struct alert *a = &f->ch.c[0].alert;
    assert_string_equal(a->type, "high_voltage");
    assert_int_equal(a->severity, ALERT_ALARM);
    assert_int_equal(a->string, 0);
    assert_float_equal(a->value, 3655, 1e-9);
    assert_string_equal(a->unit, "mV");
    assert_string_equal(a->message,
                        "High cell voltage: 3655 mV (alarm at 3650 mV), string 1 'house'");
    assert_int_equal(a->raised_ms, REAL + 3000);
    assert_int_equal(f->e->n_active, 1);
    /* back to ok: cleared only after the debounce */
    set_alarm(f, BMSGW_ALARM_HIGH_VOLTAGE, BMSGW_LEVEL_OK, 3600, 3600);
    assert_int_equal(eval(f, 4000), 0);
    assert_int_equal(eval(f, 6000), 1);
    assert_int_equal(f->ch.c[0].kind, ALERT_CLEARED);
    assert_int_equal(f->ch.c[0].alert.cleared_ms, REAL + 6000);
    assert_int_equal(f->e->n_active, 0);
    assert_int_equal(f->e->hist_len, 1);
}

static void test_flapping_never_raises(void **state)
{
    struct fx *f = *state;
    for (int t = 0; t < 20000; t += 500) {
        set_alarm(f, BMSGW_ALARM_CELL_IMBALANCE,
                  (t / 500) % 3 ? BMSGW_LEVEL_WARNING : BMSGW_LEVEL_OK, 45, 40);
        assert_int_equal(eval(f, t), 0);
    }
    assert_int_equal(f->e->raised_total, 0);
}

static void test_escalation_replaces_the_alert(void **state)
{
    struct fx *f = *state;
    set_alarm(f, BMSGW_ALARM_HIGH_TEMP, BMSGW_LEVEL_WARNING, 560, 550);
    eval(f, 0);
    assert_int_equal(eval(f, 2000), 1);
    assert_float_equal(f->ch.c[0].alert.value, 56.0, 1e-9); /* 0.1 degC -> degC */
    assert_string_equal(f->ch.c[0].alert.unit, "degC");
    uint32_t first = f->ch.c[0].alert.id;
    set_alarm(f, BMSGW_ALARM_HIGH_TEMP, BMSGW_LEVEL_ALARM, 610, 600);
    eval(f, 2500);
    assert_int_equal(eval(f, 4500), 2);
    assert_int_equal(f->ch.c[0].kind, ALERT_CLEARED);
    assert_int_equal(f->ch.c[0].alert.id, first);
    assert_int_equal(f->ch.c[1].kind, ALERT_RAISED);
    assert_int_equal(f->ch.c[1].alert.severity, ALERT_ALARM);
    assert_int_equal(f->e->n_active, 1);
}

static void test_general_is_not_an_alert(void **state)
{
    struct fx *f = *state;
    set_alarm(f, BMSGW_ALARM_GENERAL, BMSGW_LEVEL_ALARM, 3, 2);
    eval(f, 0);
    assert_int_equal(eval(f, 5000), 0);
}

static void test_string_offline_and_can(void **state)
{
    struct fx *f = *state;
    f->sys->strings[0].online = false;
    f->sys->strings[0].link.state = BMSGW_LINK_DOWN;
    strcpy(f->sys->strings[0].link.last_error, "3 timeouts");
    eval(f, 0);
    assert_int_equal(eval(f, 2000), 1);
    assert_string_equal(f->ch.c[0].alert.type, "string_offline");
    assert_string_equal(f->ch.c[0].alert.message,
                        "No fresh data from string 1 'house': BMS link down, 3 timeouts");
    f->sys->strings[0].online = true;
    eval(f, 3000);
    assert_int_equal(eval(f, 5000), 1);
    assert_int_equal(f->ch.c[0].kind, ALERT_CLEARED);

    f->sys->can.bus_state = BMSGW_CAN_BUS_OFF;
    eval(f, 6000);
    assert_int_equal(eval(f, 9000), 0); /* CAN not enabled: nothing */
    memset(&f->ch, 0, sizeof(f->ch));
    alerts_engine_eval(f->e, f->sys, &f->cfg, true, 9000, REAL, &f->ch);
    alerts_engine_eval(f->e, f->sys, &f->cfg, true, 11000, REAL, &f->ch);
    assert_int_equal(f->ch.n, 1);
    assert_string_equal(f->ch.c[0].alert.type, "can_bus");
    assert_int_equal(f->ch.c[0].alert.severity, ALERT_ALARM);
}

static void set_refused(struct fx *f, unsigned i, enum bmsgw_threshold what, double bms, double cfg)
{
    f->sys->limits.refused[i] =
        (struct bmsgw_refused){ .string = 0, .what = (uint8_t)what, .bms = bms, .config = cfg };
    if (f->sys->limits.refused_count < i + 1)
        f->sys->limits.refused_count = (uint16_t)(i + 1);
}

/* The change of kind whose alert has key, or NULL. */
static const struct alert *changed(const struct fx *f, uint8_t kind, const char *key)
{
    for (unsigned i = 0; i < f->ch.n; i++)
        if (f->ch.c[i].kind == kind && strcmp(f->ch.c[i].alert.key, key) == 0)
            return &f->ch.c[i].alert;
    return NULL;
}

static void test_refused_setting_raise_hold_and_clear(void **state)
{
    struct fx *f = *state;
    set_refused(f, 0, BMSGW_THRESHOLD_OVER_VOLTAGE, 4200, 3650);
    assert_int_equal(eval(f, 0), 0);
    assert_int_equal(eval(f, 2000), 1); /* after the debounce */
    const struct alert *a = changed(f, ALERT_RAISED, "refused:0:0");
    assert_non_null(a);
    assert_string_equal(a->type, "bms_setting_refused");
    assert_int_equal(a->severity, ALERT_WARNING);
    assert_int_equal(a->string, 0);
    assert_float_equal(a->value, 4200, 1e-9);     /* the register */
    assert_float_equal(a->threshold, 3650, 1e-9); /* the configuration, in force */
    assert_string_equal(a->unit, "mV");
    assert_string_equal(a->message, "S1 over-voltage cutoff: TinyBMS register 4200 mV is less "
                                    "safe than the configured 3650 mV, which is used");
    assert_int_equal(eval(f, 3000), 0); /* the same register again: no second alert */
    /* a second register of the same string: its own alert */
    set_refused(f, 1, BMSGW_THRESHOLD_CHARGE_LOW_TEMP, -10, 0);
    eval(f, 4000);
    assert_int_equal(eval(f, 6000), 1);
    a = changed(f, ALERT_RAISED, "refused:0:5");
    assert_non_null(a);
    assert_string_equal(a->message, "S1 low-temperature charge cutoff: TinyBMS register -10 degC "
                                    "is less safe than the configured 0 degC, which is used");
    assert_string_equal(a->unit, "degC");
    assert_int_equal(f->e->n_active, 2);
    /* the string goes stale: the composer no longer lists it, but nothing says the register
     * changed, so both warnings stay */
    f->sys->strings[0].online = false;
    f->sys->limits.refused_count = 0;
    eval(f, 20000);
    eval(f, 30000);
    assert_non_null(changed(f, ALERT_RAISED, "string:0"));
    assert_null(changed(f, ALERT_CLEARED, "refused:0:0"));
    assert_int_equal(f->e->n_active, 3);
    /* back with the OV register fixed: that warning clears after the debounce, the other stays */
    f->sys->strings[0].online = true;
    set_refused(f, 0, BMSGW_THRESHOLD_CHARGE_LOW_TEMP, -10, 0);
    eval(f, 31000);
    assert_null(changed(f, ALERT_CLEARED, "refused:0:0"));
    eval(f, 33000);
    assert_non_null(changed(f, ALERT_CLEARED, "refused:0:0"));
    assert_null(changed(f, ALERT_CLEARED, "refused:0:5"));
    assert_int_equal(f->e->n_active, 1);
    /* nothing refused any more */
    f->sys->limits.refused_count = 0;
    eval(f, 34000);
    eval(f, 36000);
    assert_non_null(changed(f, ALERT_CLEARED, "refused:0:5"));
    assert_int_equal(f->e->n_active, 0);
}

static void test_refused_overflow_holds(void **state)
{
    struct fx *f = *state;
    set_refused(f, 0, BMSGW_THRESHOLD_OVER_HEAT, 80, 55);
    eval(f, 0);
    assert_int_equal(eval(f, 2000), 1);
    assert_string_equal(f->ch.c[0].alert.message,
                        "S1 over-heat cutoff: TinyBMS register 80 degC is less safe than the "
                        "configured 55 degC, which is used");
    /* the list overflowed and no longer shows it: not known to be fixed, so it stays */
    for (unsigned i = 0; i < BMSGW_REFUSED_MAX; i++) {
        set_refused(f, i, BMSGW_THRESHOLD_UNDER_VOLTAGE, 2000, 2800);
        f->sys->limits.refused[i].string = (int16_t)(i + 1);
    }
    f->sys->limits.refused_count = BMSGW_REFUSED_MAX + 1;
    eval(f, 3000);
    assert_int_equal(eval(f, 9000), BMSGW_REFUSED_MAX); /* one per listed register */
    assert_null(changed(f, ALERT_CLEARED, "refused:0:4"));
    assert_int_equal(f->e->n_active, BMSGW_REFUSED_MAX + 1);
    /* the list fits again and does not name it: cleared */
    f->sys->limits.refused_count = BMSGW_REFUSED_MAX;
    eval(f, 10000);
    eval(f, 12000);
    assert_non_null(changed(f, ALERT_CLEARED, "refused:0:4"));
    assert_int_equal(f->e->n_active, BMSGW_REFUSED_MAX);
}

static unsigned event(struct fx *f, unsigned id, const char *name, const char *sev)
{
    memset(&f->ch, 0, sizeof(f->ch));
    struct bmsgw_bms_event ev = { .id = (uint8_t)id }; /* as the TinyBMS driver describes it */
    tinybms_event_describe(&ev);
    alerts_engine_bms_event(f->e, 0, "house", TINYBMS_NAME, id, name, sev, ev.recovered_by, REAL,
                            &f->ch);
    return f->ch.n;
}

static void test_event_rules(void **state)
{
    struct fx *f = *state;
    /* info: into the history only */
    assert_int_equal(event(f, 0x62, "Charging started", "info"), 2);
    assert_int_equal(f->ch.c[0].kind, ALERT_RAISED);
    assert_int_equal(f->ch.c[1].kind, ALERT_CLEARED);
    assert_int_equal(f->e->n_active, 0);
    /* a fault with a recovery event */
    assert_int_equal(event(f, 0x03, "Over-voltage cutoff", "fault"), 1);
    assert_string_equal(f->ch.c[0].alert.message,
                        "TinyBMS of string 1 'house': Over-voltage cutoff (event 0x03)");
    assert_int_equal(f->ch.c[0].alert.severity, ALERT_ALARM);
    assert_int_equal(event(f, 0x03, "Over-voltage cutoff", "fault"), 0); /* again: one alert */
    assert_int_equal(eval(f, 100000), 0);                                /* time alone: no */
    assert_int_equal(event(f, 0x79, "Recovered from over-voltage fault", "info"), 3);
    assert_int_equal(f->ch.c[0].kind, ALERT_CLEARED);
    assert_int_equal(f->e->n_active, 0);
    /* a warning without a recovery event: acknowledging ends it */
    event(f, 0x38, "Charging done (charger voltage too high)", "warning");
    assert_int_equal(f->e->n_active, 1);
    uint32_t id = f->e->active[0].id;
    memset(&f->ch, 0, sizeof(f->ch));
    assert_int_equal(alerts_engine_ack(f->e, id, REAL + 5, &f->ch), 1);
    assert_int_equal(f->ch.n, 2);
    assert_int_equal(f->ch.c[0].kind, ALERT_ACKNOWLEDGED);
    assert_int_equal(f->ch.c[1].kind, ALERT_CLEARED);
    assert_int_equal(f->e->n_active, 0);
    /* a fault without one: clears when the status is not fault for the debounce */
    f->sys->strings[0].state = BMSGW_BMS_FAULT;
    event(f, 0x0B, "Charger switch error", "fault");
    assert_int_equal(eval(f, 200000), 0);
    assert_int_equal(eval(f, 210000), 0);
    f->sys->strings[0].state = BMSGW_BMS_IDLE;
    assert_int_equal(eval(f, 211000), 0);
    assert_int_equal(eval(f, 213000), 1);
    assert_int_equal(f->ch.c[0].kind, ALERT_CLEARED);
    assert_string_equal(f->ch.c[0].alert.type, "bms_event");
}

static void test_acknowledge(void **state)
{
    struct fx *f = *state;
    event(f, 0x02, "Under-voltage cutoff", "fault");
    event(f, 0x04, "Over-temperature cutoff", "fault");
    memset(&f->ch, 0, sizeof(f->ch));
    assert_int_equal(alerts_engine_ack(f->e, 999, REAL, &f->ch), -ENOENT);
    assert_int_equal(alerts_engine_ack(f->e, f->e->active[0].id, REAL, &f->ch), 1);
    assert_int_equal(alerts_engine_ack(f->e, f->e->active[0].id, REAL, &f->ch), 0); /* again */
    assert_int_equal(alerts_engine_ack(f->e, 0, REAL, &f->ch), 1); /* all: the other one */
    assert_int_equal(f->e->n_active, 2);                           /* still active */
    assert_true(f->e->active[0].acknowledged_ms && f->e->active[1].acknowledged_ms);
    assert_int_equal(alerts_engine_ack(f->e, 0, REAL, &f->ch), 0);
}

static void test_bounds(void **state)
{
    struct fx *f = *state;
    char name[32];
    for (unsigned i = 0; i < ALERTS_HISTORY_MAX + 100; i++)
        event(f, 0x61, "System started", "info");
    assert_int_equal(f->e->hist_len, ALERTS_HISTORY_MAX);
    /* distinct faults beyond the active limit: the oldest event alerts make room */
    for (unsigned s = 0; s < 5; s++)
        for (unsigned id = 1; id <= 16; id++) {
            snprintf(name, sizeof(name), "fault %u", id);
            memset(&f->ch, 0, sizeof(f->ch));
            alerts_engine_bms_event(f->e, (int)s, NULL, TINYBMS_NAME, id, name, "fault", 0, REAL,
                                    &f->ch);
        }
    assert_int_equal(f->e->n_active, ALERTS_ACTIVE_MAX);
    assert_int_equal(f->e->raised_total, ALERTS_HISTORY_MAX + 100 + 80);
}

static void test_persistence_round_trip(void **state)
{
    struct fx *f = *state;
    struct alerts_engine *g = malloc(sizeof(*g));
    char why[160];
    set_alarm(f, BMSGW_ALARM_LOW_VOLTAGE, BMSGW_LEVEL_WARNING, 2580, 2600);
    eval(f, 0);
    eval(f, 2000);
    event(f, 0x03, "Over-voltage cutoff", "fault");
    event(f, 0x62, "Charging started", "info");
    json_t *j = alerts_engine_to_json(f->e);
    assert_int_equal(alerts_engine_from_json(g, j, why, sizeof(why)), 0);
    json_decref(j);
    assert_int_equal(g->n_active, 2);
    assert_int_equal(g->hist_len, f->e->hist_len);
    assert_int_equal(g->next_id, f->e->next_id);
    assert_memory_equal(&g->active[0], &f->e->active[0], offsetof(struct alert, value));
    assert_string_equal(g->active[1].message, f->e->active[1].message);
    assert_int_equal(g->active[1].recovery_id, 0x79);
    assert_true(isnan(g->active[1].value));
    /* the restored condition alert is not raised twice, and clears as usual */
    struct alerts_engine *keep = f->e;
    f->e = g;
    assert_int_equal(eval(f, 10000), 0);
    set_alarm(f, BMSGW_ALARM_LOW_VOLTAGE, BMSGW_LEVEL_OK, 2700, 2600);
    eval(f, 11000);
    assert_int_equal(eval(f, 13000), 1);
    assert_int_equal(f->ch.c[0].kind, ALERT_CLEARED);
    f->e = keep;

    const char *bad[] = {
        "[]",
        "{\"version\":2,\"next_id\":1,\"raised_total\":0,\"active\":[],\"history\":[]}",
        "{\"version\":1,\"next_id\":1,\"raised_total\":0,\"active\":[{\"id\":1}],\"history\":[]}",
        "{\"version\":1,\"next_id\":0,\"raised_total\":0,\"active\":[],\"history\":[]}",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i], 0, NULL);
        assert_int_equal(alerts_engine_from_json(g, j, why, sizeof(why)), -EINVAL);
        assert_int_equal(g->n_active, 0);
        assert_int_equal(g->next_id, 1);
        json_decref(j);
    }
    /* ids are never reused, whatever next_id says */
    j = alerts_engine_to_json(f->e);
    json_object_set_new(j, "next_id", json_integer(1));
    assert_int_equal(alerts_engine_from_json(g, j, why, sizeof(why)), 0);
    assert_int_equal(g->next_id, f->e->next_id);
    json_decref(j);
    free(g);
}

static void test_json_shape(void **state)
{
    (void)state;
    struct alert a = { .id = 7,
                       .severity = ALERT_WARNING,
                       .string = 1,
                       .value = 41.5,
                       .threshold = NAN,
                       .raised_ms = 1700000000250LL };
    strcpy(a.type, "cell_imbalance");
    strcpy(a.unit, "mV");
    strcpy(a.message, "m");
    json_t *j = alert_to_json(&a);
    assert_int_equal(json_integer_value(json_object_get(j, "string")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "severity")), "warning");
    assert_string_equal(json_string_value(json_object_get(j, "raised_at")),
                        "2023-11-14T22:13:20.250Z");
    assert_true(json_is_null(json_object_get(j, "threshold")));
    assert_true(json_is_null(json_object_get(j, "cleared_at")));
    assert_true(json_is_true(json_object_get(j, "active")));
    assert_false(json_is_true(json_object_get(j, "acknowledged")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alarm_debounced_raise_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flapping_never_raises, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalation_replaces_the_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_general_is_not_an_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_offline_and_can, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_setting_raise_hold_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_overflow_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acknowledge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence_round_trip, setup, teardown),
        cmocka_unit_test(test_json_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
