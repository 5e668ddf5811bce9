/* SPDX-License-Identifier: MIT */
/* test-mbmap.c — the map engine: encodings, word orders, ranges, read plans, names, writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/mbmap.h"
#include "bmsgw/mbmap_maps.h"

static const struct mbmap_field f_u32 = { .key = "x", .type = MBMAP_U32, .count = 1 };
static const struct mbmap_field f_s32 = { .key = "x", .type = MBMAP_S32, .count = 1 };
static const struct mbmap_field f_u16 = { .key = "x", .type = MBMAP_U16, .count = 1 };
static const struct mbmap_field f_s16c = {
    .key = "x", .type = MBMAP_S16, .count = 1, .scale = 0.01
};
static const struct mbmap_field f_f32 = { .key = "x", .type = MBMAP_F32, .count = 1 };
static const struct mbmap_field f_f64 = { .key = "x", .type = MBMAP_F64, .count = 1 };

static void test_half_precision(void **state)
{
    (void)state;
    assert_int_equal(mbmap_half_from_double(1.0), 0x3C00);
    assert_int_equal(mbmap_half_from_double(-2.0), 0xC000);
    assert_int_equal(mbmap_half_from_double(65504.0), 0x7BFF);
    assert_int_equal(mbmap_half_from_double(65520.0), 0x7C00); /* rounds up to infinity */
    assert_int_equal(mbmap_half_from_double(-10000.0), 0xF0E2);
    assert_int_equal(mbmap_half_from_double(-9988.9), 0xF0E1); /* nearest is -9992 */
    assert_int_equal(mbmap_half_from_double(0.1), 0x2E66);
    assert_int_equal(mbmap_half_from_double(ldexp(1, -24)), 0x0001);
    assert_int_equal(mbmap_half_from_double(ldexp(1, -25)), 0x0000); /* tie to even */
    assert_int_equal(mbmap_half_from_double(ldexp(3, -26)), 0x0001); /* 1.5 x 2^-25 */
    assert_int_equal(mbmap_half_from_double(NAN) & 0x7E00, 0x7E00);
    assert_int_equal(mbmap_half_from_double(-INFINITY), 0xFC00);
    /* every finite half survives the round trip */
    for (unsigned h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00)
            continue;
        assert_int_equal(mbmap_half_from_double(mbmap_half_to_double((uint16_t)h)), h);
    }
}

static void test_word_orders(void **state)
{
    (void)state;
    uint16_t r[4];
    double v;
    mbmap_encode(&f_u32, 0x12345678, MBMAP_WORDS_ABCD, r);
    assert_int_equal(r[0], 0x1234);
    assert_int_equal(r[1], 0x5678);
    mbmap_encode(&f_u32, 0x12345678, MBMAP_WORDS_CDAB, r);
    assert_int_equal(r[0], 0x5678);
    assert_int_equal(r[1], 0x1234);
    mbmap_decode(&f_u32, r, MBMAP_WORDS_CDAB, &v);
    assert_true(v == 0x12345678);

    mbmap_encode(&f_f64, 1.0, MBMAP_WORDS_ABCD, r);
    assert_memory_equal(r, ((uint16_t[]){ 0x3FF0, 0, 0, 0 }), 8);
    mbmap_encode(&f_f64, -2.5, MBMAP_WORDS_CDAB, r); /* 0xC004000000000000 */
    assert_memory_equal(r, ((uint16_t[]){ 0, 0, 0, 0xC004 }), 8);
    mbmap_decode(&f_f64, r, MBMAP_WORDS_CDAB, &v);
    assert_true(v == -2.5);

    mbmap_encode(&f_f32, 1.5, MBMAP_WORDS_ABCD, r); /* 0x3FC00000 */
    assert_int_equal(r[0], 0x3FC0);
    assert_int_equal(r[1], 0x0000);
    mbmap_encode(&f_s32, -1234, MBMAP_WORDS_ABCD, r);
    assert_int_equal(r[0], 0xFFFF);
    assert_int_equal(r[1], 0xFB2E);
    mbmap_decode(&f_s32, r, MBMAP_WORDS_ABCD, &v);
    assert_true(v == -1234);
}

static void test_scale_round_clamp(void **state)
{
    (void)state;
    uint16_t r[2];
    double v;
    mbmap_encode(&f_s16c, -1.5, 0, r);
    assert_int_equal(r[0], 0xFF6A); /* -150 */
    mbmap_encode(&f_s16c, 1.236, 0, r);
    assert_int_equal(r[0], 124);
    mbmap_encode(&f_s16c, -1.236, 0, r);
    assert_int_equal((int16_t)r[0], -124);
    mbmap_encode(&f_s16c, 3.65, 0, r);
    assert_int_equal(r[0], 365);
    mbmap_decode(&f_s16c, r, 0, &v);
    assert_float_equal(v, 3.65, 1e-9);
    mbmap_encode(&f_s16c, 400.0, 0, r); /* 40000 does not fit */
    assert_int_equal(r[0], 32767);
    mbmap_encode(&f_s16c, -400.0, 0, r);
    assert_int_equal(r[0], 0x8000);
    mbmap_encode(&f_u16, 70000, 0, r);
    assert_int_equal(r[0], 65535);
    mbmap_encode(&f_u16, -3, 0, r);
    assert_int_equal(r[0], 0);
    mbmap_encode(&f_u16, NAN, 0, r);
    assert_int_equal(r[0], 0);
    mbmap_encode(&f_u32, 5e12, 0, r);
    assert_int_equal(r[0], 0xFFFF);
    assert_int_equal(r[1], 0xFFFF);
    mbmap_encode(&f_s32, -5e12, 0, r);
    assert_int_equal(r[0], 0x8000);
    assert_int_equal(r[1], 0x0000);
}

static void test_strings(void **state)
{
    (void)state;
    const struct mbmap_field *f = mbmap_field_find(&mbmap_testpattern, "hello");
    assert_non_null(f);
    uint16_t r[100] = { 0x4865, 0x6C6C, 0x6F00, 0x4141 };
    char buf[16];
    assert_string_equal(mbmap_decode_str(f, r, buf, sizeof(buf)), "Hello");
    assert_string_equal(mbmap_decode_str(f, r, buf, 3), "He");
}

static void test_declared_ranges(void **state)
{
    (void)state;
    const struct mbmap *m = &mbmap_mega;
    assert_true(mbmap_declared(m, MBMAP_REGS, 1000, 125));
    assert_true(mbmap_declared(m, MBMAP_REGS, 1009, 2)); /* touching ranges are one span */
    assert_true(mbmap_declared(m, MBMAP_REGS, 5877, 125));
    assert_false(mbmap_declared(m, MBMAP_REGS, 5878, 125)); /* 6002 is not declared */
    assert_false(mbmap_declared(m, MBMAP_REGS, 999, 1));
    assert_true(mbmap_declared(m, MBMAP_REGS, 9303, 1));
    assert_false(mbmap_declared(m, MBMAP_REGS, 9304, 1));
    assert_false(mbmap_declared(m, MBMAP_REGS, 30002, 2));
    assert_true(mbmap_declared(m, MBMAP_REGS, 30003, 6));
    assert_false(mbmap_declared(m, MBMAP_REGS, 30003, 7));
    assert_true(mbmap_declared(m, MBMAP_COILS, 0, 8));
    assert_false(mbmap_declared(m, MBMAP_COILS, 0, 9));
    assert_true(mbmap_declared(m, MBMAP_COILS, 100, 3));
    assert_false(mbmap_declared(m, MBMAP_COILS, 100, 4));
    assert_false(mbmap_declared(m, MBMAP_DISCRETE, 100, 1));
    assert_false(mbmap_declared(m, MBMAP_REGS, 65535, 2));
    assert_false(mbmap_declared(m, MBMAP_REGS, 1000, 0));
}

static void test_read_plans(void **state)
{
    (void)state;
    struct mbmap_span s[80];
    /* 4992 cells = 40 reads */
    unsigned n = mbmap_plan_reads(&mbmap_mega, MBMAP_REGS, 1010, 6001, 125, s, 80);
    assert_int_equal(n, 40);
    assert_int_equal(s[0].addr, 1010);
    assert_int_equal(s[0].qty, 125);
    assert_int_equal(s[39].addr, 5885);
    assert_int_equal(s[39].qty, 117);
    /* everything: 1000..6001 joined (41 reads), the gap skipped, 2304 sensors (19 reads) */
    n = mbmap_plan_reads(&mbmap_mega, MBMAP_REGS, 0, 65535, 125, s, 80);
    assert_int_equal(n, 41 + 19 + 1);
    assert_int_equal(s[40].addr, 6000);
    assert_int_equal(s[40].qty, 2);
    assert_int_equal(s[41].addr, 7000);
    assert_int_equal(s[59].addr, 9250);
    assert_int_equal(s[59].qty, 54);
    assert_int_equal(s[60].addr, 30003);
    assert_int_equal(s[60].qty, 6);
    /* a short output still counts what is needed */
    assert_int_equal(mbmap_plan_reads(&mbmap_testpattern, MBMAP_REGS, 0, 1000, 125, s, 2), 9);
    assert_int_equal(mbmap_plan_reads(&mbmap_testpattern, MBMAP_COILS, 0, 300, 2000, s, 2), 1);
    assert_int_equal(mbmap_plan_reads(&mbmap_pack12s, MBMAP_REGS, 1440, 1599, 125, s, 80), 3);
    assert_int_equal(s[0].qty, 14);
    assert_int_equal(s[1].addr, 1596);
    assert_int_equal(s[1].qty, 1);
    assert_int_equal(s[2].addr, 1598);
    assert_int_equal(s[2].qty, 2);
}

static void check_locate(const struct mbmap *m, unsigned addr, const char *key, unsigned g,
                         unsigned i, unsigned off)
{
    unsigned gg, ii, oo;
    const struct mbmap_field *f = mbmap_locate(m, MBMAP_REGS, addr, &gg, &ii, &oo);
    assert_non_null(f);
    assert_string_equal(f->key, key);
    assert_int_equal(gg, g);
    assert_int_equal(ii, i);
    assert_int_equal(oo, off);
}

static void test_locate_and_names(void **state)
{
    (void)state;
    char buf[80];
    unsigned g, i, o;
    check_locate(&mbmap_mega, 1001, "soc", 0, 0, 1);
    check_locate(&mbmap_mega, 1026, "cell_voltage", 0, 16, 0); /* cell k at 1009 + k */
    check_locate(&mbmap_mega, 9303, "temperature", 0, 2303, 0);
    assert_null(mbmap_locate(&mbmap_tescom, MBMAP_REGS, 1994, &g, &i, &o)); /* declared, unused */
    check_locate(&mbmap_tescom, 3034, "battery_soc", 2, 4, 0); /* the seed's own example */
    check_locate(&mbmap_tescom, 6722, "alarm_low_voltage", 2, 4, 0);
    check_locate(&mbmap_tescom, 9248, "battery_status", 2, 4, 0);
    const struct mbmap_field *f = mbmap_locate(&mbmap_tescom, MBMAP_REGS, 3034, &g, &i, &o);
    assert_string_equal(mbmap_value_name(f, g, i, buf, sizeof(buf)), "arm 3 battery 5 SOC");
    f = mbmap_locate(&mbmap_mega, MBMAP_REGS, 1026, &g, &i, &o);
    assert_string_equal(mbmap_value_name(f, g, i, buf, sizeof(buf)), "cell 17 voltage");
    f = mbmap_field_find(&mbmap_mega, "soc");
    assert_string_equal(mbmap_value_name(f, 0, 0, buf, sizeof(buf)), "SOC");
    f = mbmap_field_find(&mbmap_tescom, "arm_current");
    assert_string_equal(mbmap_value_name(f, 3, 0, buf, sizeof(buf)), "arm 4 current");
    assert_int_equal(mbmap_field_addr(f, 3, 0), 4001);
    assert_int_equal(mbmap_field_addr(f, 4, 0), -1);
    assert_string_equal(mbmap_value_name(f, 3, 0, buf, 6), "arm 4");
}

/* Structure of every map: images build (every value inside a declared range), keys are unique
 * and no two values share a register. */
static void test_tables_are_consistent(void **state)
{
    (void)state;
    static const uint32_t regs[] = { 30009, 9485, 15116, 1001 };
    for (int k = 0; k < MBMAP_KIND_COUNT; k++) {
        const struct mbmap *m = mbmap_get(k);
        struct mbmap_image img;
        assert_non_null(m);
        assert_ptr_equal(mbmap_find(m->name), m);
        assert_int_equal(mbmap_image_init(&img, m, MBMAP_WORDS_ABCD), 0);
        assert_int_equal(img.size[MBMAP_REGS], regs[k]);
        for (unsigned a = 0; a < m->n_fields; a++)
            for (unsigned b = a + 1; b < m->n_fields; b++)
                assert_string_not_equal(m->fields[a].key, m->fields[b].key);
        for (int t = 0; t < MBMAP_TABLE_COUNT; t++) {
            uint8_t *used = calloc(img.size[t] + 1, 1);
            for (unsigned a = 0; a < m->n_fields; a++) {
                const struct mbmap_field *f = &m->fields[a];
                if (f->table != t)
                    continue;
                for (unsigned g = 0; g < mbmap_field_groups(f); g++)
                    for (unsigned i = 0; i < f->count; i++)
                        for (unsigned w = 0; w < mbmap_field_width(f); w++)
                            assert_int_equal(used[mbmap_field_addr(f, g, i) + w]++, 0);
            }
            free(used);
        }
        mbmap_image_deinit(&img);
    }
    assert_null(mbmap_get(MBMAP_KIND_COUNT));
    assert_null(mbmap_get(-1));
    assert_null(mbmap_find("nope"));
}

static void test_write_decode(void **state)
{
    (void)state;
    struct mbmap_image mega, pack;
    struct mbmap_write w[130];
    unsigned n;
    assert_int_equal(mbmap_image_init(&mega, &mbmap_mega, MBMAP_WORDS_ABCD), 0);
    assert_int_equal(mbmap_image_init(&pack, &mbmap_pack12s, MBMAP_WORDS_ABCD), 0);

    uint16_t soc[2] = { 0, 5000 };
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 1000, 2, soc, NULL, true, w, 130, &n),
                     MBMAP_EX_NONE);
    assert_int_equal(n, 1);
    assert_string_equal(w[0].field->key, "soc");
    assert_float_equal(w[0].value, 50.0, 1e-9);
    /* the gateway has no writable registers in the mega map */
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 1000, 2, soc, NULL, false, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
    /* half a 32-bit value */
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 1001, 1, soc, NULL, true, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
    uint16_t too_much[2] = { 0, 10001 }, full[2] = { 0, 10000 };
    assert_int_equal(
        mbmap_write_decode(&mega, MBMAP_REGS, 1000, 2, too_much, NULL, true, w, 130, &n),
        MBMAP_EX_ILLEGAL_VALUE);
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 1000, 2, full, NULL, true, w, 130, &n),
                     MBMAP_EX_NONE);
    /* SOH is not injectable */
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 1002, 2, soc, NULL, true, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
    uint16_t cells[3] = { 3700, 0, 3300 };
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 6000, 3, cells, NULL, true, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS); /* 6002 is outside */
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 5999, 3, cells, NULL, true, w, 130, &n),
                     MBMAP_EX_NONE);
    assert_int_equal(n, 3);
    assert_int_equal(w[2].item, 4991);
    uint16_t temps[2] = { 0x8000, (uint16_t)-125 };
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_REGS, 7000, 2, temps, NULL, true, w, 130, &n),
                     MBMAP_EX_NONE);
    assert_true(w[0].absent);
    assert_false(w[1].absent);
    assert_float_equal(w[1].value, -12.5, 1e-9);
    uint8_t coils[3] = { 0, 1, 1 };
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_COILS, 100, 3, NULL, coils, false, w, 130, &n),
                     MBMAP_EX_NONE);
    assert_int_equal(n, 3);
    assert_string_equal(w[0].field->key, "charge_enable");
    assert_true(w[0].value == 0 && w[2].value == 1);
    assert_int_equal(mbmap_write_decode(&mega, MBMAP_COILS, 7, 1, NULL, coils, true, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);

    uint16_t v36 = 36, v37 = 37;
    assert_int_equal(mbmap_write_decode(&pack, MBMAP_REGS, 1599, 1, &v36, NULL, false, w, 130, &n),
                     MBMAP_EX_ILLEGAL_VALUE);
    assert_int_equal(mbmap_write_decode(&pack, MBMAP_REGS, 1599, 1, &v37, NULL, false, w, 130, &n),
                     MBMAP_EX_NONE);
    assert_int_equal(mbmap_write_decode(&pack, MBMAP_REGS, 1597, 1, &v37, NULL, false, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
    assert_int_equal(mbmap_write_decode(&pack, MBMAP_REGS, 1440, 1, &v37, NULL, true, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
    /* an address error wins over a value error later in the same request */
    uint16_t two[2] = { 36, 1 };
    assert_int_equal(mbmap_write_decode(&pack, MBMAP_REGS, 1599, 2, two, NULL, false, w, 130, &n),
                     MBMAP_EX_ILLEGAL_ADDRESS);
    mbmap_image_deinit(&mega);
    mbmap_image_deinit(&pack);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mbmap_exception_name(2), "illegal data address");
    assert_string_equal(mbmap_exception_name(0x0B), "gateway target device failed to respond");
    assert_string_equal(mbmap_exception_name(0x55), "unknown exception");
    assert_string_equal(mbmap_type_name(MBMAP_F16), "float16");
    assert_string_equal(mbmap_type_name(99), "unknown");
    assert_string_equal(mbmap_table_name(MBMAP_REGS), "holding/input registers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_precision),    cmocka_unit_test(test_word_orders),
        cmocka_unit_test(test_scale_round_clamp), cmocka_unit_test(test_strings),
        cmocka_unit_test(test_declared_ranges),   cmocka_unit_test(test_read_plans),
        cmocka_unit_test(test_locate_and_names),  cmocka_unit_test(test_tables_are_consistent),
        cmocka_unit_test(test_write_decode),      cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
