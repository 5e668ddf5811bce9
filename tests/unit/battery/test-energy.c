/* SPDX-License-Identifier: MIT */
/* test-energy.c — trapezoidal integration (gaps, sign changes, bad input) and the energy file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/energy.h"

static void test_constant_power(void **state)
{
    (void)state;
    struct energy_point p = { 0 };
    double in = 0, out = 0;
    for (int t = 0; t <= 3600 * 4; t++) /* 1 kW charging for an hour, 4 samples a second */
        energy_step(&p, t * 250, 1000.0, 1000, &in, &out);
    assert_true(fabs(in - 1000.0) < 1e-6);
    assert_true(out == 0);
    in = out = 0;
    p.valid = false;
    energy_step(&p, 0, -500.0, 1000, &in, &out);
    energy_step(&p, 1000, -500.0, 1000, &in, &out);
    assert_true(fabs(out - 500.0 / 3600) < 1e-12);
    assert_true(in == 0);
}

static void test_trapezoid_and_zero_crossing(void **state)
{
    (void)state;
    struct energy_point p = { 0 };
    double in = 0, out = 0;
    energy_step(&p, 0, 0.0, 1000, &in, &out); /* from 0 W */
    energy_step(&p, 1000, 720.0, 1000, &in, &out);
    assert_true(fabs(in - 360.0 / 3600) < 1e-12); /* the mean, 360 W for 1 s */
    in = 0;
    energy_step(&p, 2000, -720.0, 1000, &in, &out); /* crosses zero at 1.5 s */
    assert_true(fabs(in - 180.0 / 3600) < 1e-12);   /* a triangle: 720 W, 0.5 s */
    assert_true(fabs(out - 180.0 / 3600) < 1e-12);
    in = out = 0;
    energy_step(&p, 3000, 0.0, 1000, &in, &out); /* to 0 W: all discharge, never negative */
    assert_true(in == 0);
    assert_true(fabs(out - 360.0 / 3600) < 1e-12);
    energy_step(&p, 4000, -100.0, 1000, &in, &out);
    assert_true(in == 0);
}

static void test_gaps_are_not_integrated(void **state)
{
    (void)state;
    struct energy_point p = { 0 };
    double in = 0, out = 0;
    energy_step(&p, 0, 1000.0, 1000, &in, &out);
    energy_step(&p, 5000, 1000.0, 1000, &in, &out); /* 5 s without samples */
    assert_true(in == 0);
    energy_step(&p, 5250, 1000.0, 1000, &in, &out); /* integration resumes */
    assert_true(fabs(in - 1000.0 * 0.25 / 3600) < 1e-12);
    energy_step(&p, 5000, 1000.0, 1000, &in, &out); /* time going back */
    assert_true(fabs(in - 1000.0 * 0.25 / 3600) < 1e-12);
    energy_step(&p, 5100, NAN, 1000, &in, &out); /* breaks the integration */
    assert_false(p.valid);
    energy_step(&p, 5200, 1000.0, 1000, &in, &out);
    assert_true(fabs(in - 1000.0 * 0.25 / 3600) < 1e-12);
    assert_int_equal(energy_max_gap_ms(250), 1000);
    assert_int_equal(energy_max_gap_ms(100), 1000);
    assert_int_equal(energy_max_gap_ms(1000), 4000);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    struct energy_counter c[2] = { { "house", 1234.5, 987.25 }, { "shed", 0, 0.125 } };
    char *text = energy_encode(c, 2, 1700000000000);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"system\""));
    struct energy_counter back[4];
    char why[128];
    assert_int_equal(energy_decode(text, back, 4, why, sizeof(why)), 2);
    assert_string_equal(back[0].name, "house");
    assert_true(back[0].charged_wh == 1234.5);
    assert_true(back[1].discharged_wh == 0.125);
    assert_int_equal(energy_decode(text, back, 1, why, sizeof(why)), -EINVAL); /* too many */
    free(text);
}

static void test_bad_files(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"version\":2,\"strings\":[]}",
        "{\"version\":1}",
        "{\"version\":1,\"strings\":[{\"name\":\"a\",\"charged_wh\":-1,\"discharged_wh\":0}]}",
        "{\"version\":1,\"strings\":[{\"name\":\"a\",\"charged_wh\":1}]}",
        "{\"version\":1,\"strings\":[{\"charged_wh\":1,\"discharged_wh\":0}]}",
        "{\"version\":1,\"strings\":[{\"name\":\"\",\"charged_wh\":1,\"discharged_wh\":0}]}",
        "{\"version\":1,\"strings\":[{\"name\":\"a\",\"charged_wh\":\"1\",\"discharged_wh\":0}]}",
        ("{\"version\":1,\"strings\":[{\"name\":\"0123456789012345678901234567890123\","
         "\"charged_wh\":1,\"discharged_wh\":0}]}"),
    };
    struct energy_counter out[4];
    char why[128];
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (energy_decode(bad[i], out, 4, why, sizeof(why)) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
    assert_int_equal(energy_decode("{\"version\":1,\"strings\":[]}", out, 4, why, sizeof(why)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_power),
        cmocka_unit_test(test_trapezoid_and_zero_crossing),
        cmocka_unit_test(test_gaps_are_not_integrated),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
