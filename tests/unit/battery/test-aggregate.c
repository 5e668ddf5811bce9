/* SPDX-License-Identifier: MIT */
/* test-aggregate.c — system aggregation over strings, staleness, absent sensors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "bmsgw/aggregate.h"

static struct bmsgw_system *two_strings(void)
{
    struct bmsgw_system *s = calloc(1, sizeof(*s));
    s->string_count = 2;
    s->cell_count = 8;
    s->sensor_count = 4;
    for (int i = 0; i < 2; i++) {
        struct bmsgw_string *st = &s->strings[i];
        st->online = true;
        st->sample_ms = 10000;
        st->cell_first = (uint16_t)(i * 4);
        st->cell_count = 4;
        st->sensor_first = (uint16_t)(i * 2);
        st->sensor_count = 2;
    }
    s->strings[0].pack_v = 13.2;
    s->strings[1].pack_v = 13.4;
    s->strings[0].current_a = 10;
    s->strings[1].current_a = -4;
    s->strings[0].capacity_ah = 100;
    s->strings[1].capacity_ah = 300;
    s->strings[0].soc_pct = 80;
    s->strings[1].soc_pct = 40;
    s->strings[0].soh_pct = 100;
    s->strings[1].soh_pct = 96;
    s->strings[0].charged_wh = 5;
    s->strings[1].discharged_wh = 7;
    const uint16_t mv[8] = { 3300, 3310, 3290, 3305, 3320, 3280, 3300, 3301 };
    for (int i = 0; i < 8; i++)
        s->cell_mv[i] = mv[i];
    s->sensor_dc[0] = 215;
    s->sensor_dc[1] = BMSGW_TEMP_ABSENT;
    s->sensor_dc[2] = 190;
    s->sensor_dc[3] = 305;
    return s;
}

static void test_aggregate_two_strings(void **state)
{
    (void)state;
    struct bmsgw_system *s = two_strings();
    bmsgw_system_aggregate(s, 11000, 3000);
    const struct bmsgw_aggregate *a = &s->agg;
    assert_int_equal(a->strings_configured, 2);
    assert_int_equal(a->strings_online, 2);
    assert_true(fabs(a->pack_v - 13.3) < 1e-9);
    assert_true(fabs(a->current_a - 6.0) < 1e-9);
    assert_true(fabs(a->soc_pct - 50.0) < 1e-9); /* (80*100 + 40*300) / 400 */
    assert_true(fabs(a->soh_pct - 97.0) < 1e-9);
    assert_true(fabs(a->capacity_ah - 400) < 1e-9);
    assert_int_equal(a->min_cell_mv, 3280);
    assert_int_equal(a->min_cell.string, 1);
    assert_int_equal(a->min_cell.no, 2);
    assert_int_equal(a->max_cell_mv, 3320);
    assert_int_equal(a->max_cell.string, 1);
    assert_int_equal(a->max_cell.no, 1);
    assert_int_equal(a->temp_count, 3); /* the absent sensor is ignored */
    assert_int_equal(a->min_temp_dc, 190);
    assert_int_equal(a->max_temp_dc, 305);
    assert_int_equal(a->max_temp.string, 1);
    assert_int_equal(a->max_temp.no, 2);
    assert_int_equal(a->avg_temp_dc, 237); /* (215+190+305)/3 = 236.67 */
    assert_true(fabs(a->charged_wh - 5) < 1e-9 && fabs(a->discharged_wh - 7) < 1e-9);
    free(s);
}

static void test_stale_string_is_offline(void **state)
{
    (void)state;
    struct bmsgw_system *s = two_strings();
    s->strings[1].sample_ms = 5000; /* 6 s old at 11000 */
    bmsgw_system_aggregate(s, 11000, 3000);
    assert_int_equal(s->agg.strings_online, 1);
    assert_int_equal(s->agg.min_cell_mv, 3290);
    assert_true(fabs(s->agg.current_a - 10) < 1e-9);
    assert_true(fabs(s->agg.discharged_wh - 7) < 1e-9);    /* energy counts every string */
    assert_int_equal(bmsgw_system_age_ms(s, 11000), 6000); /* the oldest online sample */
    assert_true(bmsgw_system_is_stale(s, 11000, 3000));
    free(s);
}

static void test_no_data(void **state)
{
    (void)state;
    struct bmsgw_system *s = calloc(1, sizeof(*s));
    bmsgw_system_aggregate(s, 1000, 3000);
    assert_int_equal(s->agg.strings_online, 0);
    assert_int_equal(s->agg.min_temp_dc, BMSGW_TEMP_ABSENT);
    assert_int_equal(s->agg.min_cell.string, -1);
    assert_true(bmsgw_system_is_stale(s, 1000, 3000));
    assert_int_equal(bmsgw_system_age_ms(s, 1000), INT64_MAX);
    free(s);
}

static void test_zero_mv_cells_ignored_and_balancing(void **state)
{
    (void)state;
    struct bmsgw_system *s = two_strings();
    s->cell_mv[5] = 0; /* a missing cell must not become the minimum */
    s->cell_flags[6] = BMSGW_CELL_BALANCING;
    s->strings[0].state = BMSGW_BMS_FAULT;
    bmsgw_system_aggregate(s, 11000, 3000);
    assert_int_equal(s->agg.min_cell_mv, 3290);
    assert_true(s->agg.balancing);
    assert_true(s->agg.fault);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregate_two_strings),
        cmocka_unit_test(test_stale_string_is_offline),
        cmocka_unit_test(test_no_data),
        cmocka_unit_test(test_zero_mv_cells_ignored_and_balancing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
