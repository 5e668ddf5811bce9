/* SPDX-License-Identifier: MIT */
/* test-map-testpattern.c — the test-pattern map (seed 003): every type at chosen times, coils. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsgw/mbmap_maps.h"
#include "fixture-system.h"

#define START_MS 5000
#define EPOCH    1704067200

struct fix {
    struct mbmap_testpattern tp;
    struct mbmap_testpattern_src src;
    struct mbmap_image img;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    mbmap_testpattern_init(&f->tp, START_MS);
    assert_int_equal(mbmap_image_init(&f->img, &mbmap_testpattern, MBMAP_WORDS_ABCD), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbmap_image_deinit(&f->img);
    free(f);
    return 0;
}

static void at(struct fix *f, int64_t t_s)
{
    mbmap_testpattern_advance(&f->tp, START_MS + t_s * 1000 + 999);
    mbmap_testpattern_source(&f->tp, EPOCH + t_s, &f->src);
    mbmap_render(&f->img, &f->src);
}

static void test_start_values(void **state)
{
    struct fix *f = *state;
    at(f, 0);
    assert_int_equal(img_reg(&f->img, 0), 0xC180); /* -16000 */
    assert_int_equal(img_reg(&f->img, 100), 0xC180);
    assert_int_equal(img_reg(&f->img, 101), 1);
    assert_int_equal(img_reg(&f->img, 200), 1);
    assert_int_equal(img_u32(&f->img, 201), 0xFFFFD8F0); /* -10000 */
    assert_int_equal(img_u32(&f->img, 299), 0xFFFFD8F0);
    assert_int_equal(img_u32(&f->img, 301), 0);
    assert_int_equal(img_reg(&f->img, 401), 0xF0E2); /* half -10000 */
    assert_int_equal(img_reg(&f->img, 402), 0);      /* second register 0 */
    assert_int_equal(img_reg(&f->img, 499), 0xF0E2);
    assert_int_equal(img_u32(&f->img, 501), 0);
    for (unsigned a = 601; a <= 800; a++)
        assert_int_equal(img_reg(&f->img, a), 0);
    static const uint16_t hello[8] = { 0x4865, 0x6C6C, 0x6F2C, 0x2057,
                                       0x6F72, 0x6C64, 0x2100, 0x0000 };
    assert_memory_equal(&f->img.regs[801], hello, sizeof(hello));
    assert_int_equal(img_reg(&f->img, 900), 0);
    char buf[64];
    const struct mbmap_field *s = mbmap_field_find(&mbmap_testpattern, "hello_epoch");
    assert_string_equal(mbmap_decode_str(s, &f->img.regs[901], buf, sizeof(buf)),
                        "Hello, World! 1704067200");
}

static void test_values_advance(void **state)
{
    struct fix *f = *state;
    at(f, 100);
    assert_int_equal((int16_t)img_reg(&f->img, 50), -15900);
    assert_int_equal(img_reg(&f->img, 150), 101);
    assert_int_equal((int32_t)img_u32(&f->img, 203), -9900);
    assert_int_equal(img_u32(&f->img, 399), 100);
    assert_int_equal(img_reg(&f->img, 401), 0xF0E1); /* -9988.9 -> nearest half -9992 */
    assert_true(img_f32(&f->img, 501) == 22.2f);
    const struct mbmap_field *d = mbmap_field_find(&mbmap_testpattern, "float64");
    double v;
    mbmap_decode(d, &f->img.regs[605], MBMAP_WORDS_ABCD, &v);
    assert_true(v == 0.333 * 100);
    mbmap_decode(d, &f->img.regs[797], MBMAP_WORDS_ABCD, &v); /* the 13th "double" slot */
    assert_true(v == 0.444 * 100);
    mbmap_decode(d, &f->img.regs[709], MBMAP_WORDS_ABCD, &v);
    assert_true(v == 0.444 * 100);
    for (unsigned a = 713; a <= 716; a++) /* the padding of an 8-register slot */
        assert_int_equal(img_reg(&f->img, a), 0);
    char buf[64];
    const struct mbmap_field *s = mbmap_field_find(&mbmap_testpattern, "hello_epoch");
    assert_string_equal(mbmap_decode_str(s, &f->img.regs[901], buf, sizeof(buf)),
                        "Hello, World! 1704067300");
}

static void test_integers_wrap(void **state)
{
    struct fix *f = *state;
    at(f, 48767);
    assert_int_equal((int16_t)img_reg(&f->img, 0), 32767);
    at(f, 48768);
    assert_int_equal(img_reg(&f->img, 0), 0x8000); /* wraps to -32768 */
    at(f, 65534);
    assert_int_equal(img_reg(&f->img, 101), 65535);
    at(f, 65535);
    assert_int_equal(img_reg(&f->img, 101), 0); /* wraps at 65536 */
}

static void test_coils_and_inputs(void **state)
{
    struct fix *f = *state;
    at(f, 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][0], 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][150], 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][300], 1);
    assert_int_equal(f->img.bits[MBMAP_DISCRETE][100], 0);
    at(f, 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][0], 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][100], 1);
    assert_int_equal(f->img.bits[MBMAP_DISCRETE][0], 1);
    assert_int_equal(f->img.bits[MBMAP_DISCRETE][201], 1);

    /* writes hold until the next tick; a toggled coil continues from the written value */
    struct mbmap_write w[3];
    unsigned n;
    uint8_t b0 = 0, b1 = 1;
    assert_int_equal(mbmap_write_decode(&f->img, MBMAP_COILS, 5, 1, NULL, &b0, false, w, 3, &n), 0);
    mbmap_testpattern_write(&f->tp, w, n);
    mbmap_write_decode(&f->img, MBMAP_COILS, 150, 1, NULL, &b1, false, w, 3, &n);
    mbmap_testpattern_write(&f->tp, w, n);
    mbmap_write_decode(&f->img, MBMAP_COILS, 250, 1, NULL, &b0, false, w, 3, &n);
    mbmap_testpattern_write(&f->tp, w, n);
    at(f, 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][5], 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][6], 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][150], 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][250], 0);
    at(f, 2);
    assert_int_equal(f->img.bits[MBMAP_COILS][5], 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][6], 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][150], 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][250], 1);
    at(f, 5); /* three ticks at once: an odd number of toggles */
    assert_int_equal(f->img.bits[MBMAP_COILS][5], 0);
    assert_int_equal(f->img.bits[MBMAP_COILS][6], 1);
    assert_int_equal(mbmap_testpattern_next_tick_ms(&f->tp), START_MS + 6000);
    /* discrete inputs are read-only */
    assert_int_equal(mbmap_write_decode(&f->img, MBMAP_DISCRETE, 5, 1, NULL, &b0, true, w, 3, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_advance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integers_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coils_and_inputs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
