/* SPDX-License-Identifier: MIT */
/* test-ctl-out.c — bmsctl's output: JSON keys and nesting, CSV, text layouts, highlights,
 * string summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl_out.h"
#include "bmsgw/ctl_summary.h"
#include "ctl-fixture.h"

static struct ctl_image img;
static struct ctl_query q;

static void read_view(const struct mbmap *m, const void *src, int cmd, const char *range,
                      const uint16_t *counts, struct ctl_result *r)
{
    char err[160];
    memset(&img, 0, sizeof(img));
    fix_render(m, src, MBMAP_WORDS_ABCD, &img);
    assert_int_equal(
        ctl_query_build(&q, m, ctl_view_get(m->kind, cmd), range, counts, err, sizeof(err)), 0);
    assert_int_equal(ctl_query_decode(&q, m, &img, MBMAP_WORDS_ABCD, r), 0);
}

/* What fn prints, as a string (free it). */
#define CAPTURE(buf, call)                                                                         \
    do {                                                                                           \
        size_t len_;                                                                               \
        FILE *out = open_memstream(&(buf), &len_);                                                 \
        call;                                                                                      \
        fclose(out);                                                                               \
    } while (0)

static void test_json_keys(void **state)
{
    (void)state;
    char b[64];
    const struct mbmap *m = &mbmap_mega, *t = &mbmap_tescom;
    assert_string_equal(ctl_json_key(mbmap_field_find(m, "soc"), NULL, b, 64), "soc_pct");
    assert_string_equal(ctl_json_key(mbmap_field_find(m, "total_voltage"), NULL, b, 64),
                        "total_voltage_v");
    assert_string_equal(ctl_json_key(mbmap_field_find(m, "cell_voltage"), "cell", b, 64),
                        "voltage_mv");
    assert_string_equal(ctl_json_key(mbmap_field_find(m, "temperature"), "sensor", b, 64),
                        "temperature_c");
    assert_string_equal(ctl_json_key(mbmap_field_find(t, "arm_status"), "arm", b, 64), "status");
    assert_string_equal(ctl_json_key(mbmap_field_find(t, "battery_count"), "arm", b, 64),
                        "battery_count");
    assert_string_equal(ctl_json_key(mbmap_field_find(t, "battery_rimt"), "battery", b, 64),
                        "rimt_c");
    assert_string_equal(
        ctl_json_key(mbmap_field_find(&mbmap_pack12s, "nominal_capacity"), NULL, b, 64),
        "nominal_capacity_ah");
}

static void test_json_nesting_mega(void **state)
{
    (void)state;
    struct mbmap_mega_src *src = fix_mega(4992);
    struct ctl_result r = { 0 };
    read_view(&mbmap_mega, src, CTL_CMD_ALL, NULL, NULL, &r);
    json_t *o = json_object();
    for (unsigned k = 0; k < r.n_sections; k++)
        assert_int_equal(ctl_json_add(o, &r.v, r.sec[k].first, r.sec[k].end), 0);
    assert_float_equal(json_real_value(json_object_get(o, "soc_pct")), 87.53, 1e-12);
    assert_float_equal(json_real_value(json_object_get(o, "avg_cell_voltage_v")), 3.30512, 1e-12);
    json_t *cells = json_object_get(o, "cells");
    assert_int_equal(json_array_size(cells), 4992);
    json_t *c17 = json_array_get(cells, 16);
    assert_int_equal(json_integer_value(json_object_get(c17, "cell")), 17);
    assert_int_equal(json_integer_value(json_object_get(c17, "voltage_mv")), 3017);
    json_t *s3 = json_array_get(json_object_get(o, "sensors"), 2);
    assert_true(json_is_null(json_object_get(s3, "temperature_c")));
    json_t *coils = json_object_get(o, "coils");
    assert_int_equal(json_array_size(coils), 11);
    json_t *c4 = json_array_get(coils, 4);
    assert_int_equal(json_integer_value(json_object_get(c4, "address")), 4);
    assert_string_equal(json_string_value(json_object_get(c4, "key")), "alarm_active");
    assert_true(json_is_true(json_object_get(c4, "value")));
    assert_int_equal(json_array_size(json_object_get(o, "discrete_inputs")), 8);
    /* reals print as the register carries them */
    char *text = NULL;
    json_t *soc = json_pack("{s:O}", "soc", json_object_get(o, "soc_pct"));
    CAPTURE(text, ctl_json_print(out, soc));
    assert_string_equal(text, "{\"soc\":87.53}\n");
    free(text);
    json_decref(soc);
    json_decref(o);
    ctl_result_free(&r);
    free(src);
}

static void test_json_nesting_tescom_and_bits(void **state)
{
    (void)state;
    struct mbmap_tescom_src *src = fix_tescom();
    static const uint16_t counts[4] = { 3, 0, 2, 0 };
    struct ctl_result r = { 0 };
    read_view(&mbmap_tescom, src, CTL_CMD_ALL, NULL, counts, &r);
    json_t *o = json_object();
    assert_int_equal(ctl_json_add(o, &r.v, 0, r.v.n), 0);
    json_t *arms = json_object_get(o, "arms");
    assert_int_equal(json_array_size(arms), 4);
    json_t *arm3 = json_array_get(arms, 2);
    assert_int_equal(json_integer_value(json_object_get(arm3, "arm")), 3);
    assert_int_equal(json_integer_value(json_object_get(arm3, "battery_count")), 2);
    assert_float_equal(json_real_value(json_object_get(arm3, "current_a")), -4.5, 1e-12);
    json_t *bats = json_object_get(arm3, "batteries");
    assert_int_equal(json_array_size(bats), 2);
    json_t *b2 = json_array_get(bats, 1);
    assert_int_equal(json_integer_value(json_object_get(b2, "battery")), 2);
    assert_float_equal(json_real_value(json_object_get(b2, "voltage_v")), 3.24, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(b2, "alarm_high_voltage_warning")), 1);
    assert_null(json_object_get(json_array_get(arms, 1), "batteries"));
    json_decref(o);

    struct mbmap_pack12s_src pack = { .status_bits = 0x9, .alarm_bits = 0x100 };
    read_view(&mbmap_pack12s, &pack, CTL_CMD_STATUS, NULL, NULL, &r);
    o = json_object();
    assert_int_equal(ctl_json_add(o, &r.v, 0, r.v.n), 0);
    json_t *set = json_object_get(o, "status_set");
    assert_int_equal(json_array_size(set), 2);
    assert_string_equal(json_string_value(json_array_get(set, 1)), "balancing");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "alarms_set"), 0)),
                        "data stale");
    json_decref(o);
    ctl_result_free(&r);
    free(src);
}

static void test_csv(void **state)
{
    (void)state;
    struct mbmap_testpattern tp;
    struct mbmap_testpattern_src src;
    struct ctl_result r = { 0 };
    char *text = NULL;
    mbmap_testpattern_init(&tp, 0);
    mbmap_testpattern_source(&tp, 1700000000, &src);
    read_view(&mbmap_testpattern, &src, CTL_CMD_MAIN, NULL, NULL, &r);
    CAPTURE(text, {
        ctl_csv_header(out, false);
        ctl_csv_rows(out, &r.v, 0, r.v.n, -1);
    });
    assert_non_null(strstr(text, "address,key,name,value,unit\n0,int16,value 1 int16 "
                                 "(-16000 + t),-16000,\n"));
    assert_non_null(strstr(text, "\n801,hello,fixed string,\"Hello, World!\",\n"));
    free(text);
    CAPTURE(text, ctl_csv_field(out, "say \"hi\"", true));
    assert_string_equal(text, "\"say \"\"hi\"\"\"\n");
    free(text);
    ctl_result_free(&r);
}

static void test_text_list_and_highlights(void **state)
{
    (void)state;
    struct mbmap_mega_src *src = fix_mega(4992);
    struct ctl_result r = { 0 }, prev = { 0 };
    struct ctl_text_style plain = { 0 }, color = { .color = true };
    char *text = NULL;
    read_view(&mbmap_mega, src, CTL_CMD_WATCH, NULL, NULL, &prev);
    src->soc_pct = 87.54;
    read_view(&mbmap_mega, src, CTL_CMD_WATCH, NULL, NULL, &r);
    CAPTURE(text,
            ctl_text_section(out, r.sec[0].title, &r.v, r.sec[0].first, r.sec[0].end, &plain));
    assert_non_null(strstr(text, "\nmain parameters\n   1000  SOC                    "));
    assert_non_null(strstr(text, "  87.54 %\n"));
    assert_non_null(strstr(text, "   1008  current       "));
    assert_non_null(strstr(text, " -53.03 A\n"));
    assert_non_null(strstr(text, " 26.3 °C\n"));
    assert_null(strchr(text, '\033'));
    free(text);
    /* with colours: the changed SOC in reverse video, the active alarm in red, nothing else */
    color.prev = &prev.v;
    CAPTURE(text, {
        for (unsigned k = 0; k < r.n_sections; k++)
            ctl_text_section(out, r.sec[k].title, &r.v, r.sec[k].first, r.sec[k].end, &color);
    });
    assert_non_null(strstr(text, "\033[7m87.54\033[0m"));
    assert_non_null(strstr(text, "\033[1;31myes\033[0m"));
    assert_non_null(strstr(text, "alarm active"));
    assert_null(strstr(text, "\033[7m-53.03"));
    size_t changed = 0;
    for (const char *p = text; (p = strstr(p, "\033[7m")) != NULL; p++)
        changed++;
    assert_int_equal(changed, 1);
    free(text);
    ctl_result_free(&r);
    ctl_result_free(&prev);
    free(src);
}

static void test_text_grid_folds_empty_runs(void **state)
{
    (void)state;
    struct mbmap_mega_src *src = fix_mega(32);
    struct ctl_result r = { 0 };
    char *text = NULL;
    struct ctl_text_style st = { 0 };
    read_view(&mbmap_mega, src, CTL_CMD_CELLS, NULL, NULL, &r);
    CAPTURE(text, ctl_text_section(out, "cells", &r.v, 0, r.v.n, &st));
    assert_non_null(strstr(text, "  cell 1-10              3001 3002 3003"));
    assert_non_null(strstr(text, "  cell 31-32             3031 3032\n"));
    assert_non_null(strstr(text, "  cell 33-4992           all 0\n"));
    assert_non_null(strstr(text, "  min 3001 mV (cell 1)  max 3032 mV (cell 32)  avg 3016.5 mV  "
                                 "spread 31 mV  [32 of 4992]\n"));
    free(text);
    ctl_result_free(&r);
    free(src);
}

static void test_text_tables_and_alarm_lists(void **state)
{
    (void)state;
    struct mbmap_tescom_src *src = fix_tescom();
    static const uint16_t counts[4] = { 3, 0, 2, 0 };
    struct ctl_result r = { 0 };
    struct ctl_text_style st = { 0 };
    char *text = NULL;
    read_view(&mbmap_tescom, src, CTL_CMD_STATUS, NULL, counts, &r);
    CAPTURE(text, {
        for (unsigned k = 0; k < r.n_sections; k++)
            ctl_text_section(out, r.sec[k].title, &r.v, r.sec[k].first, r.sec[k].end, &st);
    });
    assert_non_null(strstr(text, "arm status\n          battery count  status\n"
                                 "  arm 1               3       1\n"));
    assert_non_null(strstr(text, "arm alarms\n  none active (4 checked)\n"));
    assert_non_null(strstr(text, "battery alarms\n  arm 3 battery 2     high-voltage warning\n"));
    free(text);
    ctl_result_free(&r);
    free(src);
}

static void test_strings_summary(void **state)
{
    (void)state;
    struct mbmap_mega_src *src = fix_mega(416);
    struct ctl_result r = { 0 };
    struct ctl_strings s;
    struct ctl_layout lay = { .cells_per_string = 208, .sensors_per_string = 96 };
    read_view(&mbmap_mega, src, CTL_CMD_STRINGS, NULL, NULL, &r);
    assert_int_equal(ctl_strings_build(&r.v, &lay, &s), 0);
    assert_int_equal(s.n, 24); /* 2 strings of cells, 24 of sensors */
    assert_int_equal(s.s[0].cells_mv.n, 208);
    assert_float_equal(s.s[0].cells_mv.min, 3001, 0);
    assert_float_equal(s.s[0].cells_mv.max, 3208, 0);
    assert_int_equal(s.s[1].cells_mv.min_at->item, 299); /* cell 300 reads 3000 */
    assert_int_equal(s.s[2].cells_mv.n, 0);
    assert_int_equal(s.s[0].temps_c.n, 95); /* sensor 3 absent */
    assert_int_equal(s.system.cells_mv.n, 416);
    assert_int_equal(s.system.temps_c.n, 2303);
    json_t *o = json_object();
    assert_int_equal(ctl_strings_json(o, &s, &lay), 0);
    json_t *s1 = json_array_get(json_object_get(o, "strings"), 0);
    json_t *cells = json_object_get(s1, "cells_mv");
    assert_string_equal(json_string_value(json_object_get(cells, "min_at")), "cell 1 voltage");
    assert_float_equal(json_real_value(json_object_get(cells, "spread")), 207, 0);
    json_decref(o);
    ctl_strings_free(&s);

    struct mbmap_tescom_src *t = fix_tescom();
    static const uint16_t counts[4] = { 3, 0, 2, 0 };
    read_view(&mbmap_tescom, t, CTL_CMD_STRINGS, NULL, counts, &r);
    assert_int_equal(ctl_strings_build(&r.v, &lay, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.s[2].cells_mv.n, 2);
    assert_float_equal(s.s[2].cells_mv.max, 3240, 1e-6); /* V in mV */
    assert_float_equal(s.s[2].current_a.sum, -4.5, 1e-9);
    assert_int_equal(s.s[1].status, 0);
    assert_float_equal(ctl_stats_avg(&s.s[0].soc_pct), 50, 1e-9);
    char *text = NULL;
    CAPTURE(text, ctl_strings_text(out, &s, "arm"));
    assert_non_null(strstr(text, "  2           0            --            --       --"));
    free(text);
    ctl_strings_free(&s);
    ctl_result_free(&r);
    free(t);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_keys),
        cmocka_unit_test(test_json_nesting_mega),
        cmocka_unit_test(test_json_nesting_tescom_and_bits),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_text_list_and_highlights),
        cmocka_unit_test(test_text_grid_folds_empty_runs),
        cmocka_unit_test(test_text_tables_and_alarm_lists),
        cmocka_unit_test(test_strings_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
