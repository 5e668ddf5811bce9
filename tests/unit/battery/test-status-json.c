/* SPDX-License-Identifier: MIT */
/* test-status-json.c — the status encoder: units, numbering from 1, nulls for unknown values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/status_json.h"

#define NOW 1000000

/* Two strings: "house" online with 4 cells and 2 sensors (one unplugged), "spare" offline. */
static struct bmsgw_system *make_system(void)
{
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    assert_non_null(sys);
    sys->generation = 42;
    sys->updated_ms = NOW - 30;
    sys->string_count = 2;
    struct bmsgw_string *a = &sys->strings[0], *b = &sys->strings[1];
    strcpy(a->name, "house");
    a->online = true;
    a->sample_ms = NOW - 120;
    a->cell_first = 0;
    a->cell_count = 4;
    a->sensor_first = 0;
    a->sensor_count = 2;
    a->pack_v = 13.3;
    a->current_a = -10.0;
    a->soc_pct = 50.0;
    a->soh_pct = 99.5;
    a->capacity_ah = 100.0;
    a->state = BMSGW_BMS_DISCHARGING;
    a->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    a->link.state = BMSGW_LINK_UP;
    a->link.since_ms = NOW - 5000;
    a->link.cycle_p99_us = 12345;
    const uint16_t mv[4] = { 3310, 3325, 3340, 3320 };
    memcpy(sys->cell_mv, mv, sizeof(mv));
    sys->cell_flags[2] = BMSGW_CELL_BALANCING | BMSGW_CELL_BALANCE_NEEDED;
    sys->sensor_dc[0] = 215;
    sys->sensor_dc[1] = BMSGW_TEMP_ABSENT;
    strcpy(b->name, "spare");
    b->cell_first = 4;
    b->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    b->link.state = BMSGW_LINK_DOWN;
    bmsgw_system_aggregate(sys, NOW, 3000);
    sys->limits = (struct bmsgw_limits){ .valid = true,
                                         .phase = BMSGW_PHASE_ABSORPTION,
                                         .cvl_v = 13.8,
                                         .ccl_a = 25.0,
                                         .dcl_a = 100.0,
                                         .dvl_v = 11.6,
                                         .computed_ms = NOW - 10 };
    strcpy(sys->limits.ccl_reason, "CCL 50% - max cell 3.34 V");
    strcpy(sys->limits.dvl_reason, "DVL 11.6 V - 4 x 2.900 V");
    for (unsigned i = 0; i < BMSGW_ALARM_COUNT; i++)
        sys->alarms.a[i] = (struct bmsgw_alarm_state){ .level = BMSGW_LEVEL_OK, .string = -1 };
    sys->alarms.a[BMSGW_ALARM_CELL_IMBALANCE] =
        (struct bmsgw_alarm_state){ .level = BMSGW_LEVEL_WARNING,
                                    .string = 0,
                                    .value = 30,
                                    .threshold = 25,
                                    .since_ms = NOW - 700 };
    sys->alarms.a[BMSGW_ALARM_CONTACTOR].level = BMSGW_LEVEL_UNSUPPORTED;
    return sys;
}

static json_t *encode(const struct bmsgw_system *sys)
{
    struct status_json_opts o = { .now_ms = NOW,
                                  .now_real_ms = 1700000000000,
                                  .stale_after_ms = 3000 };
    json_t *j = status_to_json(sys, &o);
    assert_non_null(j);
    return j;
}

static json_t *path(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    return b ? json_object_get(v, b) : v;
}

static void test_system_values_and_units(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    json_t *j = encode(sys);
    assert_int_equal(json_integer_value(path(j, "generation", NULL)), 42);
    assert_int_equal(json_integer_value(path(j, "age_ms", NULL)), 120);
    assert_int_equal(json_integer_value(path(j, "snapshot_age_ms", NULL)), 30);
    assert_false(json_is_true(path(j, "stale", NULL)));
    json_t *s = path(j, "system", NULL);
    assert_string_equal(json_string_value(json_object_get(s, "state")), "discharging");
    assert_int_equal(json_integer_value(json_object_get(s, "strings_online")), 1);
    assert_float_equal(json_real_value(json_object_get(s, "pack_voltage_v")), 13.3, 1e-9);
    assert_float_equal(json_real_value(json_object_get(s, "power_w")), -133.0, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(s, "max_cell_mv")), 3340);
    assert_int_equal(json_integer_value(json_object_get(s, "cell_spread_mv")), 30);
    assert_int_equal(json_integer_value(path(json_object_get(s, "max_cell"), "string", NULL)), 1);
    assert_int_equal(json_integer_value(path(json_object_get(s, "max_cell"), "cell", NULL)), 3);
    /* the unplugged sensor is ignored, not read as -3276.8 */
    assert_float_equal(json_real_value(json_object_get(s, "min_temperature_c")), 21.5, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(s, "temperature_count")), 1);
    /* 50 Ah left at 10 A = 5 h */
    assert_int_equal(json_integer_value(json_object_get(s, "time_to_empty_s")), 18000);
    assert_true(json_is_null(json_object_get(s, "time_to_full_s")));
    assert_true(json_is_true(json_object_get(s, "balancing")));
    json_decref(j);
    free(sys);
}

static void test_strings_cells_and_links(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    json_t *j = encode(sys);
    json_t *strings = path(j, "strings", NULL);
    assert_int_equal(json_array_size(strings), 2);
    json_t *a = json_array_get(strings, 0), *b = json_array_get(strings, 1);
    assert_int_equal(json_integer_value(json_object_get(a, "string")), 1);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "discharging");
    assert_int_equal(json_array_size(json_object_get(a, "cells_mv")), 4);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(a, "cells_mv"), 1)), 3325);
    assert_true(json_is_true(json_array_get(json_object_get(a, "cells_balancing"), 2)));
    assert_false(json_is_true(json_array_get(json_object_get(a, "cells_balancing"), 1)));
    json_t *temps = json_object_get(a, "temperatures_c");
    assert_float_equal(json_real_value(json_array_get(temps, 0)), 21.5, 1e-9);
    assert_true(json_is_null(json_array_get(temps, 1)));
    assert_true(json_is_null(json_object_get(a, "mosfet_temperature_c")));
    assert_float_equal(json_real_value(path(json_object_get(a, "link"), "cycle_p99_ms", NULL)),
                       12.345, 1e-9);
    assert_int_equal(json_integer_value(path(json_object_get(a, "link"), "for_ms", NULL)), 5000);
    /* the offline string: no invented values */
    assert_int_equal(json_integer_value(json_object_get(b, "string")), 2);
    assert_false(json_is_true(json_object_get(b, "online")));
    assert_true(json_is_true(json_object_get(b, "stale")));
    assert_true(json_is_null(json_object_get(b, "pack_voltage_v")));
    assert_true(json_is_null(json_object_get(b, "soc_pct")));
    assert_true(json_is_null(json_object_get(b, "age_ms")));
    assert_string_equal(json_string_value(path(json_object_get(b, "link"), "state", NULL)), "down");
    json_decref(j);
    free(sys);
}

static void test_limits_and_alarms(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    json_t *j = encode(sys);
    json_t *l = path(j, "limits", NULL);
    assert_string_equal(json_string_value(json_object_get(l, "phase")), "absorption");
    assert_float_equal(json_real_value(json_object_get(l, "cvl_v")), 13.8, 1e-9);
    assert_string_equal(json_string_value(json_object_get(l, "ccl_reason")),
                        "CCL 50% - max cell 3.34 V");
    assert_int_equal(json_integer_value(json_object_get(l, "age_ms")), 10);
    json_t *al = path(j, "alarms", NULL);
    assert_int_equal(json_array_size(al), BMSGW_ALARM_COUNT);
    json_t *imb = json_array_get(al, BMSGW_ALARM_CELL_IMBALANCE);
    assert_string_equal(json_string_value(json_object_get(imb, "id")), "cell_imbalance");
    assert_string_equal(json_string_value(json_object_get(imb, "level")), "warning");
    assert_int_equal(json_integer_value(json_object_get(imb, "string")), 1);
    assert_int_equal(json_integer_value(json_object_get(imb, "for_ms")), 700);
    json_t *con = json_array_get(al, BMSGW_ALARM_CONTACTOR);
    assert_string_equal(json_string_value(json_object_get(con, "level")), "unsupported");
    assert_true(json_is_null(json_object_get(con, "value")));
    /* invalid limits are null, never 0 */
    sys->limits.valid = false;
    json_decref(j);
    j = encode(sys);
    assert_true(json_is_null(path(path(j, "limits", NULL), "cvl_v", NULL)));
    json_decref(j);
    free(sys);
}

static void test_limits_sources_and_refused(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    struct bmsgw_limits *lim = &sys->limits;
    strcpy(lim->cvl_reason, "CVL 13.8 V - absorption");
    strcpy(lim->dcl_reason, "DCL 100 A - configured maximum");
    lim->temp_source = BMSGW_TEMP_SOURCE_INTERNAL;
    lim->refused_count = 2;
    lim->refused[0] = (struct bmsgw_refused){
        .string = 0, .what = BMSGW_THRESHOLD_OVER_VOLTAGE, .bms = 4200, .config = 3650
    };
    lim->refused[1] = (struct bmsgw_refused){
        .string = 1, .what = BMSGW_THRESHOLD_CHARGE_LOW_TEMP, .bms = -10, .config = 0
    };
    json_t *j = encode(sys);
    json_t *l = path(j, "limits", NULL);
    assert_string_equal(json_string_value(json_object_get(l, "cvl_reason")),
                        "CVL 13.8 V - absorption");
    assert_string_equal(json_string_value(json_object_get(l, "dcl_reason")),
                        "DCL 100 A - configured maximum");
    assert_string_equal(json_string_value(json_object_get(l, "dvl_reason")),
                        "DVL 11.6 V - 4 x 2.900 V");
    assert_string_equal(json_string_value(json_object_get(l, "temp_source")), "BMS internal");
    assert_int_equal(json_integer_value(json_object_get(l, "refused_count")), 2);
    json_t *r = json_object_get(l, "refused");
    assert_int_equal(json_array_size(r), 2);
    json_t *ov = json_array_get(r, 0), *lt = json_array_get(r, 1);
    assert_int_equal(json_integer_value(json_object_get(ov, "string")), 1); /* from 1 */
    assert_string_equal(json_string_value(json_object_get(ov, "threshold")), "over-voltage cutoff");
    assert_string_equal(json_string_value(json_object_get(ov, "unit")), "mV");
    assert_float_equal(json_number_value(json_object_get(ov, "bms_value")), 4200, 1e-9);
    assert_float_equal(json_number_value(json_object_get(ov, "config_value")), 3650, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(lt, "string")), 2);
    assert_string_equal(json_string_value(json_object_get(lt, "unit")), "degC");
    assert_float_equal(json_number_value(json_object_get(lt, "bms_value")), -10, 1e-9);
    json_decref(j);

    /* more refused than the list holds: the count says so, the list stops at its capacity */
    lim->refused_count = BMSGW_REFUSED_MAX + 3;
    lim->temp_source = BMSGW_TEMP_SOURCE_NONE;
    j = encode(sys);
    l = path(j, "limits", NULL);
    assert_int_equal(json_integer_value(json_object_get(l, "refused_count")),
                     BMSGW_REFUSED_MAX + 3);
    assert_int_equal(json_array_size(json_object_get(l, "refused")), BMSGW_REFUSED_MAX);
    assert_string_equal(json_string_value(json_object_get(l, "temp_source")), "none");
    json_decref(j);

    /* without valid limits the source is not known; nothing refused is an empty list */
    lim->valid = false;
    lim->refused_count = 0;
    j = encode(sys);
    l = path(j, "limits", NULL);
    assert_true(json_is_null(json_object_get(l, "temp_source")));
    assert_int_equal(json_array_size(json_object_get(l, "refused")), 0);
    json_decref(j);
    free(sys);
}

static void test_offline_and_stale(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    sys->strings[0].sample_ms = NOW - 5000; /* older than stale_after_ms */
    bmsgw_system_aggregate(sys, NOW, 3000);
    json_t *j = encode(sys);
    assert_true(json_is_true(path(j, "stale", NULL)));
    assert_string_equal(json_string_value(path(j, "system", "state")), "offline");
    assert_true(json_is_null(path(j, "system", "soc_pct")));
    assert_true(
        json_is_true(json_object_get(json_array_get(path(j, "strings", NULL), 0), "stale")));
    json_decref(j);
    free(sys);
}

static void test_not_finite_is_null(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    sys->strings[0].pack_v = NAN;
    sys->strings[0].current_a = INFINITY;
    json_t *j = encode(sys);
    json_t *a = json_array_get(path(j, "strings", NULL), 0);
    assert_true(json_is_null(json_object_get(a, "pack_voltage_v")));
    assert_true(json_is_null(json_object_get(a, "current_a")));
    assert_true(json_is_null(json_object_get(a, "power_w")));
    json_decref(j);
    free(sys);
}

static void test_dumps_without_float_noise(void **state)
{
    (void)state;
    struct bmsgw_system *sys = make_system();
    struct status_json_opts o = { .now_ms = NOW, .stale_after_ms = 3000 };
    size_t len = 0;
    char *s = status_json_dumps(sys, &o, &len);
    assert_non_null(s);
    assert_int_equal(strlen(s), len);
    assert_non_null(strstr(s, "\"pack_voltage_v\":13.3,"));
    assert_null(strstr(s, "000000000"));
    free(s);
    free(sys);
}

static void test_time_estimates(void **state)
{
    (void)state;
    assert_int_equal(status_time_to_full_s(50, 100, 50), 3600);
    assert_int_equal(status_time_to_full_s(100, 100, 5), 0);
    assert_int_equal(status_time_to_full_s(50, 100, 0.05), -1); /* idle */
    assert_int_equal(status_time_to_full_s(50, 0, 10), -1);     /* capacity unknown */
    assert_int_equal(status_time_to_full_s(50, 100, -10), -1);  /* discharging */
    assert_int_equal(status_time_to_empty_s(20, 100, -20), 3600);
    assert_int_equal(status_time_to_empty_s(NAN, 100, -20), -1);
    assert_int_equal(status_time_to_empty_s(99, 10000, -0.2), -1); /* > 30 days */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_system_values_and_units),
        cmocka_unit_test(test_strings_cells_and_links),
        cmocka_unit_test(test_limits_and_alarms),
        cmocka_unit_test(test_limits_sources_and_refused),
        cmocka_unit_test(test_offline_and_stale),
        cmocka_unit_test(test_not_finite_is_null),
        cmocka_unit_test(test_dumps_without_float_noise),
        cmocka_unit_test(test_time_estimates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
