/* SPDX-License-Identifier: MIT */
/* test-ctl-query.c — bmsctl's selections, views, read plans and decoding against rendered maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/ctl_query.h"
#include "bmsgw/ctl_views.h"
#include "ctl-fixture.h"

static struct ctl_image img;
static struct ctl_query q;

static void test_items_parse(void **state)
{
    (void)state;
    struct ctl_items it;
    char err[160];
    assert_int_equal(ctl_items_parse("1-16, 100,200-", 4992, "cell", &it, err, sizeof(err)), 0);
    assert_int_equal(it.n, 3);
    assert_int_equal(it.r[0].first, 0);
    assert_int_equal(it.r[0].last, 15);
    assert_int_equal(it.r[1].first, 99);
    assert_int_equal(it.r[1].last, 99);
    assert_int_equal(it.r[2].first, 199);
    assert_int_equal(it.r[2].last, 4991);
    assert_true(ctl_items_has(&it, 15));
    assert_false(ctl_items_has(&it, 16));
    assert_true(ctl_items_has(&it, 4991));
    assert_int_equal(ctl_items_parse("all", 10, "cell", &it, err, sizeof(err)), 0);
    assert_int_equal(it.n, 0);
    assert_true(ctl_items_has(&it, 9));
    assert_int_equal(ctl_items_parse("", 10, "cell", &it, err, sizeof(err)), 0);
    assert_int_equal(it.n, 0);
}

static void check_bad(const char *text, const char *msg)
{
    struct ctl_items it;
    char err[160] = "";
    assert_int_equal(ctl_items_parse(text, 4992, "cell", &it, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, msg);
}

static void test_items_errors_name_what_is_allowed(void **state)
{
    (void)state;
    check_bad("5000", "cell 5000 is out of range: the map has cells 1-4992");
    check_bad("1-5000", "cell 5000 is out of range: the map has cells 1-4992");
    check_bad("0", "'0' is not a cell number or range (e.g. 1-16,100)");
    check_bad("9-3", "cell range 9-3 is reversed");
    check_bad("x", "'x' is not a cell number or range (e.g. 1-16,100)");
    check_bad("1,,2", "'' is not a cell number or range (e.g. 1-16,100)");
    check_bad("1-2-3", "'1-2-3' is not a cell number or range (e.g. 1-16,100)");
    char many[256] = "";
    for (int k = 1; k <= CTL_MAX_RANGES + 1; k++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", k > 1 ? "," : "", k);
    check_bad(many, "too many cell ranges (at most 32)");
}

static void test_items_limit(void **state)
{
    (void)state;
    struct ctl_items it = { 0 };
    assert_true(ctl_items_limit(&it, 7));
    assert_int_equal(it.n, 1);
    assert_int_equal(it.r[0].last, 6);
    char err[64];
    assert_int_equal(ctl_items_parse("2-4,6-9,50", 120, "battery", &it, err, sizeof(err)), 0);
    assert_true(ctl_items_limit(&it, 7));
    assert_int_equal(it.n, 2);
    assert_int_equal(it.r[1].first, 5);
    assert_int_equal(it.r[1].last, 6);
    assert_false(ctl_items_limit(&it, 0));
    assert_int_equal(ctl_items_parse("50", 120, "battery", &it, err, sizeof(err)), 0);
    assert_false(ctl_items_limit(&it, 7));
}

/* Every key of every view names a field of its map; every command has a view or a reason. */
static void test_views_name_fields_of_their_maps(void **state)
{
    (void)state;
    for (int k = 0; k < MBMAP_KIND_COUNT; k++) {
        const struct mbmap *m = mbmap_get(k);
        for (int c = 0; c < CTL_VIEW_COUNT; c++) {
            const struct ctl_view *v = ctl_view_get(k, c);
            assert_non_null(v);
            assert_non_null(v->title);
            assert_true(v->unavailable ? v->n_sections == 0 : v->n_sections > 0);
            for (unsigned s = 0; s < v->n_sections; s++)
                for (unsigned n = 0; n < CTL_MAX_KEYS && v->sections[s].keys[n]; n++) {
                    const char *key = v->sections[s].keys[n];
                    size_t len = strlen(key);
                    bool found = false;
                    for (unsigned f = 0; f < m->n_fields && !found; f++)
                        found = key[len - 1] == '*' ? strncmp(key, m->fields[f].key, len - 1) == 0
                                                    : strcmp(key, m->fields[f].key) == 0;
                    if (!found)
                        fail_msg("map %s, %s: no field '%s'", m->name, ctl_cmd_name(c), key);
                }
        }
    }
    assert_null(ctl_view_get(MBMAP_KIND_COUNT, 0));
    assert_null(ctl_view_get(0, CTL_CMD_TOKEN));
    assert_non_null(ctl_view_count_field(&mbmap_tescom));
    assert_null(ctl_view_count_field(&mbmap_mega));
    assert_int_equal(ctl_cmd_find("write-reg"), CTL_CMD_WRITE_REG);
    assert_int_equal(ctl_cmd_find("nope"), -1);
}

static unsigned reads_of(const struct mbmap *m, int cmd, const char *range, const uint16_t *counts)
{
    char err[160];
    struct mbmap_span s[700];
    assert_int_equal(
        ctl_query_build(&q, m, ctl_view_get(m->kind, cmd), range, counts, err, sizeof(err)), 0);
    ctl_need_clear(&img);
    ctl_need_mark(&img, q.sel, q.n_sel);
    unsigned n = 0;
    for (int t = 0; t < MBMAP_TABLE_COUNT; t++)
        n += ctl_plan(m, &img, t, s, 700);
    return n;
}

/* The fewest requests: 4992 cells = 40 reads; the whole mega map in 61 + 3. */
static void test_views_plan_few_reads(void **state)
{
    (void)state;
    static const uint16_t counts[4] = { 7, 0, 5, 0 };
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_CELLS, NULL, NULL), 40);
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_CELLS, "1-125", NULL), 1);
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_CELLS, "1-126", NULL), 2);
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_TEMPS, NULL, NULL), 19);
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_MAIN, NULL, NULL), 2);
    /* 1000..6001 (41), 7000..9303 (19), 30003 (1); coils 0-7 and 100-102; inputs 0-7 */
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_ALL, NULL, NULL), 61 + 3);
    assert_int_equal(reads_of(&mbmap_mega, CTL_CMD_WATCH, NULL, NULL), 3);
    /* Tescom: the installed batteries of arms 1 and 3 only */
    assert_int_equal(reads_of(&mbmap_tescom, CTL_CMD_CELLS, NULL, counts), 2);
    /* 0..1000 less what no value uses (the second register of a half, padding): 8 reads */
    assert_int_equal(reads_of(&mbmap_testpattern, CTL_CMD_ALL, NULL, NULL), 8 + 2);
    assert_int_equal(reads_of(&mbmap_pack12s, CTL_CMD_MAIN, NULL, NULL), 1);
    assert_int_equal(reads_of(&mbmap_pack12s, CTL_CMD_ALL, NULL, NULL), 1 + 6);
}

static const struct ctl_value *find(const struct ctl_result *r, const char *key, unsigned g,
                                    unsigned i)
{
    const struct ctl_value *v = ctl_values_find(&r->v, key, g, i);
    if (!v)
        fail_msg("no value %s[%u][%u]", key, g, i);
    return v;
}

static void decode_view(const struct mbmap *m, int cmd, const char *range, const uint16_t *counts,
                        int word_order, struct ctl_result *r)
{
    char err[160];
    assert_int_equal(
        ctl_query_build(&q, m, ctl_view_get(m->kind, cmd), range, counts, err, sizeof(err)), 0);
    assert_int_equal(ctl_query_decode(&q, m, &img, word_order, r), 0);
}

static void test_decode_mega_in_both_word_orders(void **state)
{
    (void)state;
    struct mbmap_mega_src *src = fix_mega(4992);
    struct ctl_result r = { 0 };
    for (int wo = MBMAP_WORDS_ABCD; wo <= MBMAP_WORDS_CDAB; wo++) {
        memset(&img, 0, sizeof(img));
        fix_render(&mbmap_mega, src, wo, &img);
        decode_view(&mbmap_mega, CTL_CMD_ALL, NULL, NULL, wo, &r);
        assert_int_equal(r.n_sections, 6);
        assert_float_equal(find(&r, "soc", 0, 0)->value, 87.53, 1e-9);
        assert_float_equal(find(&r, "current", 0, 0)->value, -53.03, 1e-9);
        assert_float_equal(find(&r, "avg_cell_voltage", 0, 0)->value, 3.30512, 1e-6);
        assert_int_equal(find(&r, "cell_voltage", 0, 16)->value, 3017);
        assert_int_equal(find(&r, "cell_voltage", 0, 4991)->value, 3000 + 4992 % 300);
        assert_float_equal(find(&r, "temperature", 0, 0)->value, 20.1, 1e-9);
        assert_true(find(&r, "temperature", 0, 2)->absent);
        assert_true(isnan(find(&r, "temperature", 0, 2)->value));
        assert_int_equal(find(&r, "online", 0, 0)->value, 1);
        assert_int_equal(find(&r, "charging", 0, 0)->value, 0);
        assert_int_equal(find(&r, "input_alarm_active", 0, 0)->value, 1);
        assert_int_equal(find(&r, "charge_enable", 0, 0)->value, 1);
        assert_int_equal(r.v.n, 8 + 8 + 3 + 8 + 4992 + 2304);
    }
    /* read in the wrong word order, a 32-bit value is wrong: the test can tell */
    decode_view(&mbmap_mega, CTL_CMD_MAIN, NULL, NULL, MBMAP_WORDS_ABCD, &r);
    assert_true(fabs(find(&r, "soc", 0, 0)->value - 87.53) > 1);
    /* a range selects exactly those cells */
    decode_view(&mbmap_mega, CTL_CMD_CELLS, "2,4990-", NULL, MBMAP_WORDS_CDAB, &r);
    assert_int_equal(r.v.n, 4);
    assert_int_equal(r.v.v[0].item, 1);
    assert_int_equal(r.v.v[0].addr, 1011);
    assert_int_equal(r.v.v[3].item, 4991);
    ctl_result_free(&r);
    free(src);
}

static void test_decode_tescom_installed_only(void **state)
{
    (void)state;
    struct mbmap_tescom_src *src = fix_tescom();
    static const uint16_t counts[4] = { 3, 0, 2, 0 };
    struct ctl_result r = { 0 };
    memset(&img, 0, sizeof(img));
    fix_render(&mbmap_tescom, src, MBMAP_WORDS_ABCD, &img);
    decode_view(&mbmap_tescom, CTL_CMD_CELLS, NULL, counts, MBMAP_WORDS_ABCD, &r);
    assert_int_equal(r.v.n, 5);
    assert_float_equal(find(&r, "battery_voltage", 0, 2)->value, 3.23, 1e-9);
    assert_float_equal(find(&r, "battery_voltage", 2, 1)->value, 3.24, 1e-9);
    assert_int_equal(find(&r, "battery_voltage", 2, 1)->addr, 2001 + 1000 + 4 + 7);
    decode_view(&mbmap_tescom, CTL_CMD_STATUS, "2", counts, MBMAP_WORDS_ABCD, &r);
    assert_int_equal(find(&r, "alarm_high_voltage_warning", 2, 1)->value, 1);
    assert_null(ctl_values_find(&r.v, "alarm_high_voltage_warning", 0, 0)); /* RANGE 2 only */
    decode_view(&mbmap_tescom, CTL_CMD_MAIN, NULL, counts, MBMAP_WORDS_ABCD, &r);
    assert_int_equal(find(&r, "battery_count", 0, 2)->value, 2);
    assert_float_equal(find(&r, "arm_current", 3, 0)->value, -6.0, 1e-9);
    ctl_result_free(&r);
    free(src);
}

static void test_decode_pack12s_numbers_and_testpattern_types(void **state)
{
    (void)state;
    struct mbmap_pack12s_src pack = {
        .max_cell_no = 3, .min_cell_no = 270, .max_temp_id = 4, .min_temp_id = 1, .status_bits = 0x9
    };
    struct ctl_result r = { 0 };
    memset(&img, 0, sizeof(img));
    fix_render(&mbmap_pack12s, &pack, MBMAP_WORDS_ABCD, &img);
    decode_view(&mbmap_pack12s, CTL_CMD_MAIN, NULL, NULL, MBMAP_WORDS_ABCD, &r);
    assert_int_equal(find(&r, "max_cell_no", 0, 0)->value, 3);
    assert_int_equal(find(&r, "min_cell_no", 0, 0)->value, 270);
    assert_int_equal(find(&r, "max_temp_id", 0, 0)->value, 4);
    assert_int_equal(find(&r, "status", 0, 0)->raw, 9);

    struct mbmap_testpattern tp;
    struct mbmap_testpattern_src tsrc;
    mbmap_testpattern_init(&tp, 0);
    mbmap_testpattern_advance(&tp, 12345 * 1000);
    mbmap_testpattern_source(&tp, 1700000000, &tsrc);
    fix_render(&mbmap_testpattern, &tsrc, MBMAP_WORDS_ABCD, &img);
    decode_view(&mbmap_testpattern, CTL_CMD_MAIN, NULL, NULL, MBMAP_WORDS_ABCD, &r);
    assert_float_equal(find(&r, "int16", 0, 0)->value, -16000 + 12345, 0);
    assert_int_equal(find(&r, "uint32", 0, 0)->value, 12345);
    assert_float_equal(find(&r, "float32", 0, 0)->value, 0.222 * 12345, 1e-3);
    assert_float_equal(find(&r, "double", 0, 0)->value, 0.444 * 12345, 1e-9);
    assert_float_equal(find(&r, "float16", 0, 0)->value, -8632, 4.1); /* a half's step is 8 */
    assert_string_equal(find(&r, "hello", 0, 0)->text, "Hello, World!");
    assert_string_equal(find(&r, "hello_epoch", 0, 0)->text, "Hello, World! 1700000000");
    assert_null(ctl_values_find(&r.v, "int16", 0, 1)); /* main: the first value of each */
    ctl_result_free(&r);
}

static void test_probe_addresses_tell_the_maps_apart(void **state)
{
    (void)state;
    for (int k = 0; k < MBMAP_KIND_COUNT; k++) {
        const struct mbmap *m = mbmap_get(k);
        long a = ctl_probe_addr(m, MBMAP_REGS);
        assert_true(a >= 0);
        for (int o = 0; o < MBMAP_KIND_COUNT; o++)
            assert_true(mbmap_declared(mbmap_get(o), MBMAP_REGS, (unsigned)a, 1) == (o == k));
    }
    assert_int_equal(ctl_probe_addr(&mbmap_pack12s, MBMAP_REGS), 10077);
    assert_int_equal(ctl_probe_addr(&mbmap_tescom, MBMAP_COILS), -1);
}

static void test_value_same(void **state)
{
    (void)state;
    const struct mbmap_field *f = mbmap_field_find(&mbmap_mega, "soc");
    struct ctl_value a = { .f = f, .value = 1 }, b = a;
    assert_true(ctl_value_same(&a, &b));
    b.value = 2;
    assert_false(ctl_value_same(&a, &b));
    b = a;
    b.absent = true;
    b.value = NAN;
    assert_false(ctl_value_same(&a, &b));
    a = b;
    assert_true(ctl_value_same(&a, &b));
    a.text = "x";
    b.text = "y";
    assert_false(ctl_value_same(&a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_parse),
        cmocka_unit_test(test_items_errors_name_what_is_allowed),
        cmocka_unit_test(test_items_limit),
        cmocka_unit_test(test_views_name_fields_of_their_maps),
        cmocka_unit_test(test_views_plan_few_reads),
        cmocka_unit_test(test_decode_mega_in_both_word_orders),
        cmocka_unit_test(test_decode_tescom_installed_only),
        cmocka_unit_test(test_decode_pack12s_numbers_and_testpattern_types),
        cmocka_unit_test(test_probe_addresses_tell_the_maps_apart),
        cmocka_unit_test(test_value_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
