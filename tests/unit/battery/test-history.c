/* SPDX-License-Identifier: MIT */
/* test-history.c — the history ring: bounds, oldest first, columns, stale samples as NaN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "bmsgw/history.h"

static void test_history_ring(void **state)
{
    (void)state;
    struct history *h = history_new(3);
    struct history_sample s = { 0 };
    for (int i = 1; i <= 5; i++) {
        s.t_ms = i * 10000;
        s.soc_pct = (float)(i * 10);
        s.pack_v = i == 4 ? NAN : 13.25f;
        history_add(h, &s);
    }
    assert_int_equal(history_count(h), 3);
    json_t *j = history_to_json(h, 0);
    json_t *t = json_object_get(j, "t_ms"), *soc = json_object_get(j, "soc_pct");
    assert_int_equal(json_array_size(t), 3);
    assert_int_equal(json_integer_value(json_array_get(t, 0)), 30000); /* oldest kept first */
    assert_float_equal(json_real_value(json_array_get(soc, 2)), 50.0, 1e-6);
    assert_true(json_is_null(json_array_get(json_object_get(j, "pack_voltage_v"), 1)));
    assert_int_equal(json_integer_value(json_object_get(j, "interval_s")), 10);
    json_decref(j);
    j = history_to_json(h, 45000);
    assert_int_equal(json_array_size(json_object_get(j, "t_ms")), 1);
    json_decref(j);
    history_free(h);
}

static void test_history_sample_stale_is_nan(void **state)
{
    (void)state;
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    struct history_sample s;
    sys->agg.soc_pct = 77;
    sys->agg.strings_online = 1;
    sys->agg.min_cell.string = -1;
    history_sample_from_system(sys, false, 5, &s);
    assert_true(isnan(s.soc_pct));
    assert_true(isnan(s.ccl_a));
    history_sample_from_system(sys, true, 5, &s);
    assert_float_equal(s.soc_pct, 77, 1e-6);
    assert_true(isnan(s.min_cell_mv)); /* no cell known */
    free(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_ring),
        cmocka_unit_test(test_history_sample_stale_is_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
