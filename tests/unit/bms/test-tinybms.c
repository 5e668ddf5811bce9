/* SPDX-License-Identifier: MIT */
/* test-tinybms.c — the register table: coverage of the spec, keys, conversions, range checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bmsgw/tinybms.h"

/* spec/tinybms.md: the reserved addresses; everything else in 0..599 has an entry */
static bool spec_reserved(unsigned a)
{
    return (a >= 16 && a <= 31) || a == 49 || (a >= 56 && a <= 99) || a == 110 || a == 115 ||
           (a >= 118 && a <= 199) || (a >= 298 && a <= 299) || a == 302 || a == 309 ||
           (a >= 324 && a <= 327) || (a >= 344 && a <= 499) || (a >= 510 && a <= 599);
}

static void test_table_covers_the_spec(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 600; a++) {
        const struct tinybms_reg *r = tinybms_reg_find_addr(a);
        if (spec_reserved(a))
            assert_null(r);
        else if (!r)
            fail_msg("register %u has no entry", a);
    }
}

static const char *unit_suffix(const char *unit)
{
    static const struct {
        const char *unit, *suffix;
    } map[] = { { "mV", "_mv" }, { "V", "_v" },     { "A", "_a" },   { "mA", "_ma" },
                { "Ah", "_ah" }, { "degC", "_c" },  { "%", "_pct" }, { "s", "_s" },
                { "km", "_km" }, { "km/h", "_kmh" } };
    for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].unit, unit) == 0)
            return map[i].suffix;
    return NULL;
}

static void test_entries_are_consistent(void **state)
{
    (void)state;
    for (unsigned i = 0; i < tinybms_reg_count; i++) {
        const struct tinybms_reg *r = &tinybms_regs[i];
        /* unique snake_case keys that end with their unit */
        for (const char *c = r->key; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
        for (unsigned j = i + 1; j < tinybms_reg_count; j++)
            assert_string_not_equal(r->key, tinybms_regs[j].key);
        assert_ptr_equal(tinybms_reg_find_key(r->key), r);
        if (r->unit[0]) {
            const char *suf = unit_suffix(r->unit);
            assert_non_null(suf);
            size_t lk = strlen(r->key), ls = strlen(suf);
            if (lk < ls || strcmp(r->key + lk - ls, suf) != 0)
                fail_msg("%s does not end with %s", r->key, suf);
        }
        /* inside its poll block */
        const struct tinybms_block_def *b = &tinybms_blocks[r->block];
        assert_true(r->addr >= b->first && r->addr + r->words <= b->first + b->count);
        /* writable only in the settings block, with a range */
        if (r->access == TINYBMS_READ_WRITE) {
            assert_int_equal(r->block, TINYBMS_BLOCK_SETTINGS);
            assert_true(r->min < r->max);
        }
        if (r->type == TINYBMS_U32 || r->type == TINYBMS_FLOAT32) {
            assert_int_equal(r->words, 2);
            assert_int_equal(r->word_order, TINYBMS_WORDS_CDAB);
        }
        assert_true(r->scale > 0);
        assert_true(r->kind != TINYBMS_CODE || r->choices || r->access == TINYBMS_READ_WRITE);
    }
    /* the poll blocks fit one request each */
    for (unsigned b = 0; b < TINYBMS_BLOCK_COUNT; b++)
        assert_true(tinybms_blocks[b].count >= 1 && tinybms_blocks[b].count <= 127);
}

static void test_find(void **state)
{
    (void)state;
    assert_int_equal(tinybms_reg_find_key("over_voltage_cutoff_mv")->addr, 315);
    assert_null(tinybms_reg_find_key("nope"));
    assert_string_equal(tinybms_reg_find_addr(37)->key, "pack_voltage_v");
    assert_string_equal(tinybms_reg_find_addr(113)->key, "pack_temp_min_c");
    assert_string_equal(tinybms_reg_find_addr(9)->key, "cell_voltage_mv");
    assert_string_equal(tinybms_reg_find_addr(297)->key, "event_log");
    assert_null(tinybms_reg_find_addr(302));
}

static double value_of(const char *key, const uint16_t *w)
{
    double v = -1;
    assert_int_equal(tinybms_reg_value(tinybms_reg_find_key(key), w, 0, &v), 0);
    return v;
}

static void test_values(void **state)
{
    (void)state;
    const uint16_t pack[] = { 0x1EB8, 0x425F }; /* CDAB: the float 55.78 V (spec) */
    assert_true(fabs(value_of("pack_voltage_v", pack) - 55.78) < 1e-4);
    const uint16_t soc[] = { 0xE100, 0x05F5 }; /* 100 000 000 = 100 % */
    assert_true(fabs(value_of("soc_pct", soc) - 100.0) < 1e-9);
    const uint16_t soh[] = { 50000 };
    assert_true(fabs(value_of("soh_pct", soh) - 100.0) < 1e-9);
    const uint16_t cur[] = { 0x0000, 0xC120 }; /* -10.0 A: discharging */
    assert_true(fabs(value_of("pack_current_a", cur) + 10.0) < 1e-9);
    const uint16_t t113[] = { 0x23FB }; /* min -5 degC (low byte), max 35 degC (high byte) */
    assert_true(fabs(value_of("pack_temp_min_c", t113) + 5) < 1e-9);
    assert_true(fabs(value_of("pack_temp_max_c", t113) - 35) < 1e-9);
    const uint16_t temp[] = { (uint16_t)-123 };
    assert_true(fabs(value_of("external_temp_1_c", temp) + 12.3) < 1e-9);

    double v;
    const uint16_t absent[] = { 0x8000 };
    assert_int_equal(tinybms_reg_value(tinybms_reg_find_key("external_temp_2_c"), absent, 0, &v),
                     -ENODATA);
    const uint16_t nan[] = { 0x0000, 0x7FC0 }, inf[] = { 0x0000, 0xFF80 };
    assert_int_equal(tinybms_reg_value(tinybms_reg_find_key("pack_voltage_v"), nan, 0, &v), -EDOM);
    assert_int_equal(tinybms_reg_value(tinybms_reg_find_key("pack_current_a"), inf, 0, &v), -EDOM);
    const uint16_t cells[16] = { [3] = 33051 };
    const struct tinybms_reg *c = tinybms_reg_find_key("cell_voltage_mv");
    assert_int_equal(tinybms_reg_value(c, cells, 3, &v), 0);
    assert_true(fabs(v - 3305.1) < 1e-9);
    assert_int_equal(tinybms_reg_value(c, cells, 16, &v), -EINVAL);
    assert_int_equal(tinybms_reg_value(tinybms_reg_find_key("event_log"), cells, 0, &v), -EINVAL);
}

static void test_encode_with_ranges(void **state)
{
    (void)state;
    char why[128];
    uint16_t w[2] = { 0, 0 };
    const struct tinybms_reg *ov = tinybms_reg_find_key("over_voltage_cutoff_mv");
    assert_int_equal(tinybms_reg_encode(ov, 3650, w, why, sizeof(why)), 0);
    assert_int_equal(w[0], 3650);
    assert_int_equal(tinybms_reg_encode(ov, 4501, w, why, sizeof(why)), -ERANGE);
    assert_string_equal(why, "over_voltage_cutoff_mv must be 1200..4500 mV (got 4501)");
    assert_int_equal(w[0], 3650); /* untouched on failure */
    assert_int_equal(tinybms_reg_encode(ov, NAN, w, why, sizeof(why)), -ERANGE);

    const struct tinybms_reg *cap = tinybms_reg_find_key("battery_capacity_ah");
    assert_int_equal(tinybms_reg_encode(cap, 280.0, w, why, sizeof(why)), 0);
    assert_int_equal(w[0], 28000);
    assert_int_equal(tinybms_reg_encode(cap, 0.05, w, why, sizeof(why)), -ERANGE);

    const struct tinybms_reg *lt = tinybms_reg_find_key("low_temp_charger_cutoff_c");
    assert_int_equal(tinybms_reg_encode(lt, -20, w, why, sizeof(why)), 0);
    assert_int_equal(w[0], 0xFFEC);

    /* one byte of a register keeps the other */
    const struct tinybms_reg *doc = tinybms_reg_find_key("discharge_over_current_timeout_s");
    w[0] = 0x0001; /* charger type CC/CV */
    assert_int_equal(tinybms_reg_encode(doc, 12, w, why, sizeof(why)), 0);
    assert_int_equal(w[0], 0x0C01);
    assert_int_equal(tinybms_reg_encode(doc, 31, w, why, sizeof(why)), -ERANGE);

    const struct tinybms_reg *ppu = tinybms_reg_find_key("pulses_per_unit");
    assert_int_equal(tinybms_reg_encode(ppu, 70000, w, why, sizeof(why)), 0);
    assert_int_equal(w[0], 70000 & 0xFFFF); /* CDAB */
    assert_int_equal(w[1], 70000 >> 16);

    assert_int_equal(tinybms_reg_encode(tinybms_reg_find_key("soc_pct"), 50, w, why, sizeof(why)),
                     -EINVAL);
    assert_string_equal(why, "soc_pct (register 46) is read-only");
}

static void test_setting_check(void **state)
{
    (void)state;
    uint16_t settings[BMSGW_SETTINGS_COUNT] = { 0 };
    char why[128];
    settings[330 - 300] = 0x0001;
    assert_int_equal(tinybms_setting_check(settings, 315, 3650, why, sizeof(why)), 0);
    assert_int_equal(tinybms_setting_check(settings, 315, 4600, why, sizeof(why)), -ERANGE);
    assert_string_equal(why, "over_voltage_cutoff_mv must be 1200..4500 mV (got 4600)");
    assert_int_equal(tinybms_setting_check(settings, 302, 1, why, sizeof(why)), -EINVAL);
    assert_string_equal(why, "register 302 is reserved (not writable)");
    assert_int_equal(tinybms_setting_check(settings, 350, 1, why, sizeof(why)), -EINVAL);
    assert_int_equal(tinybms_setting_check(settings, 46, 1, why, sizeof(why)), -EINVAL);
    /* both bytes of 330 are checked */
    assert_int_equal(tinybms_setting_check(settings, 330, 0x1E01, why, sizeof(why)), 0);
    assert_int_equal(tinybms_setting_check(settings, 330, 0x1F01, why, sizeof(why)), -ERANGE);
    assert_int_equal(tinybms_setting_check(settings, 330, 0x0003, why, sizeof(why)), -ERANGE);
    /* a 32-bit setting is checked with its other word */
    settings[313 - 300] = 1; /* high word: 65536 */
    assert_int_equal(tinybms_setting_check(settings, 312, 1000, why, sizeof(why)), 0);
    assert_int_equal(tinybms_setting_check(settings, 312, 40000, why, sizeof(why)), -ERANGE);
    /* signed settings */
    assert_int_equal(tinybms_setting_check(settings, 320, (uint16_t)-41, why, sizeof(why)),
                     -ERANGE);
    assert_int_equal(tinybms_setting_check(settings, 320, (uint16_t)-40, why, sizeof(why)), 0);
}

static void test_choices_and_events(void **state)
{
    (void)state;
    assert_string_equal(tinybms_reg_choice_name(tinybms_reg_find_key("online_status"), 0x9B),
                        "fault");
    assert_null(tinybms_reg_choice_name(tinybms_reg_find_key("online_status"), 0x42));
    assert_string_equal(tinybms_event_name(0x03), "Over-voltage cutoff");
    assert_string_equal(tinybms_event_severity(0x03), "fault");
    assert_string_equal(tinybms_event_severity(0x31), "warning");
    assert_string_equal(tinybms_event_severity(0x61), "info");
    assert_string_equal(tinybms_event_name(0x29), "Unknown event");
    assert_string_equal(tinybms_event_severity(0x29), "fault");
    assert_string_equal(tinybms_event_severity(0), "info");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_the_spec),
        cmocka_unit_test(test_entries_are_consistent),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_encode_with_ranges),
        cmocka_unit_test(test_setting_check),
        cmocka_unit_test(test_choices_and_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
