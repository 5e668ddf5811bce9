/* SPDX-License-Identifier: MIT */
/* test-mbmap-client.c — what the map engine gives clients: read plans, bit names, packed ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bmsgw/mbmap.h"
#include "bmsgw/mbmap_maps.h"

static uint8_t need[MBMAP_ADDR_SPACE];

static void mark(unsigned first, unsigned last)
{
    for (unsigned a = first; a <= last; a++)
        need[a] = 1;
}

static unsigned plan(const struct mbmap *m, struct mbmap_span *s, unsigned max)
{
    return mbmap_plan_cover(m, MBMAP_REGS, need, MBMAP_ADDR_SPACE, MBMAP_MAX_READ_REGS, s, max);
}

static void test_cover_mega_cells_in_40_reads(void **state)
{
    (void)state;
    struct mbmap_span s[64];
    memset(need, 0, sizeof(need));
    mark(1010, 6001);
    assert_int_equal(plan(&mbmap_mega, s, 64), 40);
    assert_int_equal(s[0].addr, 1010);
    assert_int_equal(s[0].qty, 125);
    assert_int_equal(s[39].addr, 1010 + 39 * 125);
    assert_int_equal(s[39].qty, 4992 - 39 * 125);
    /* the main values and the floats far away: two reads, nothing read in between */
    memset(need, 0, sizeof(need));
    mark(1000, 1009);
    mark(30003, 30008);
    assert_int_equal(plan(&mbmap_mega, s, 64), 2);
    assert_int_equal(s[0].qty, 10);
    assert_int_equal(s[1].addr, 30003);
    assert_int_equal(s[1].qty, 6);
}

static void test_cover_joins_gaps_inside_declared_spans(void **state)
{
    (void)state;
    struct mbmap_span s[8];
    /* 1010 and 1134 fit one read of 125; 1135 does not */
    memset(need, 0, sizeof(need));
    need[1010] = need[1134] = 1;
    assert_int_equal(plan(&mbmap_mega, s, 8), 1);
    assert_int_equal(s[0].qty, 125);
    need[1135] = 1;
    assert_int_equal(plan(&mbmap_mega, s, 8), 2);
    assert_int_equal(s[1].addr, 1135);
    assert_int_equal(s[1].qty, 1);
    /* a read never crosses an undeclared gap: 6001 and 7000 are two reads */
    memset(need, 0, sizeof(need));
    need[6001] = need[7000] = 1;
    assert_int_equal(plan(&mbmap_mega, s, 8), 2);
    /* ranges that touch are one span: 1009 (main values) and 1010 (cells) */
    memset(need, 0, sizeof(need));
    need[1009] = need[1010] = 1;
    assert_int_equal(plan(&mbmap_mega, s, 8), 1);
    assert_int_equal(s[0].qty, 2);
    /* Tescom: the voltages of arm 1 batteries 1..7, every 7th register: one read */
    memset(need, 0, sizeof(need));
    for (unsigned j = 0; j < 7; j++)
        need[1005 + 7 * j] = 1;
    assert_int_equal(plan(&mbmap_tescom, s, 8), 1);
    assert_int_equal(s[0].addr, 1005);
    assert_int_equal(s[0].qty, 43);
}

static void test_cover_undeclared_and_short_output(void **state)
{
    (void)state;
    struct mbmap_span s[4];
    memset(need, 0, sizeof(need));
    mark(6500, 6502); /* not declared by the mega map: its own read, the device will refuse it */
    need[6600] = 1;
    assert_int_equal(plan(&mbmap_mega, s, 4), 2);
    assert_int_equal(s[0].addr, 6500);
    assert_int_equal(s[0].qty, 3);
    assert_int_equal(s[1].addr, 6600);
    /* max_out smaller than the plan: the count is still right */
    memset(need, 0, sizeof(need));
    mark(1010, 6001);
    assert_int_equal(plan(&mbmap_mega, s, 4), 40);
    assert_int_equal(s[3].addr, 1010 + 3 * 125);
    /* bits: 301 coils of the test pattern in one FC1 read */
    memset(need, 0, sizeof(need));
    mark(0, 300);
    assert_int_equal(mbmap_plan_cover(&mbmap_testpattern, MBMAP_COILS, need, MBMAP_ADDR_SPACE,
                                      MBMAP_MAX_READ_BITS, s, 4),
                     1);
    assert_int_equal(s[0].qty, 301);
    assert_int_equal(mbmap_plan_cover(&mbmap_mega, MBMAP_REGS, need, 10, 0, s, 4), 0);
}

/* Every needed address is read, every read is within the limits and starts and ends at a
 * needed address, and no two reads could have been one. */
static void test_cover_properties_on_random_needs(void **state)
{
    (void)state;
    static struct mbmap_span s[1024];
    srand(7);
    for (unsigned round = 0; round < 200; round++) {
        const struct mbmap *m = mbmap_get((int)(round % MBMAP_KIND_COUNT));
        memset(need, 0, sizeof(need));
        for (unsigned k = 0; k < 1 + round % 40; k++)
            need[(unsigned)rand() % 12000] = 1;
        unsigned n = plan(m, s, 1024), covered = 0;
        assert_true(n <= 1024);
        for (unsigned k = 0; k < n; k++) {
            assert_true(s[k].qty >= 1 && s[k].qty <= MBMAP_MAX_READ_REGS);
            assert_true(need[s[k].addr] && need[s[k].addr + s[k].qty - 1]);
            for (unsigned a = s[k].addr; a < s[k].addr + s[k].qty; a++)
                covered += need[a];
            if (k > 0) {
                assert_true(s[k].addr > s[k - 1].addr + s[k - 1].qty - 1);
                unsigned len = s[k].addr - s[k - 1].addr + 1u; /* up to the next start */
                bool joinable =
                    len <= MBMAP_MAX_READ_REGS && mbmap_declared(m, MBMAP_REGS, s[k - 1].addr, len);
                assert_false(joinable);
            }
        }
        unsigned wanted = 0;
        for (unsigned a = 0; a < 12000; a++)
            wanted += need[a];
        assert_int_equal(covered, wanted);
    }
}

static void test_bit_names_and_alarm_flags(void **state)
{
    (void)state;
    char buf[128];
    const struct mbmap_field *st = mbmap_field_find(&mbmap_pack12s, "status");
    const struct mbmap_field *al = mbmap_field_find(&mbmap_pack12s, "alarms");
    assert_string_equal(mbmap_bit_list(st, 0x0009, buf, sizeof(buf)), "charging, balancing");
    assert_string_equal(mbmap_bit_list(st, 0, buf, sizeof(buf)), "");
    assert_string_equal(mbmap_bit_list(al, 0x0100, buf, sizeof(buf)), "data stale");
    assert_string_equal(mbmap_bit_list(al, 0x1000, buf, sizeof(buf)), "bit 12");
    assert_string_equal(mbmap_bit_list(mbmap_field_find(&mbmap_pack12s, "soh"), 3, buf, 128),
                        "bit 0, bit 1");
    assert_string_equal(mbmap_bit_list(st, 0xff, buf, 12), "charging, d"); /* cut, terminated */
    assert_true(al->flags & MBMAP_ALARM);
    assert_false(st->flags & MBMAP_ALARM);
    assert_true(mbmap_field_find(&mbmap_mega, "alarm_active")->flags & MBMAP_ALARM);
    assert_true(mbmap_field_find(&mbmap_mega, "input_warning_active")->flags & MBMAP_ALARM);
    assert_false(mbmap_field_find(&mbmap_mega, "charging")->flags & MBMAP_ALARM);
    assert_true(mbmap_field_find(&mbmap_tescom, "alarm_high_current")->flags & MBMAP_ALARM);
    assert_true(mbmap_field_find(&mbmap_tescom, "alarm_low_voltage")->flags & MBMAP_ALARM);
    assert_false(mbmap_field_find(&mbmap_tescom, "battery_status")->flags & MBMAP_ALARM);
}

/* The packed cell and sensor numbers come back whole from what the map renders. */
static void test_pack12s_ids_round_trip(void **state)
{
    (void)state;
    struct mbmap_image img;
    struct mbmap_pack12s_src src = {
        .max_cell_no = 0x1234, .min_cell_no = 0x0056, .max_temp_id = 9, .min_temp_id = 2
    };
    struct mbmap_pack12s_ids ids;
    assert_int_equal(mbmap_image_init(&img, &mbmap_pack12s, MBMAP_WORDS_ABCD), 0);
    mbmap_render(&img, &src);
    mbmap_pack12s_ids_decode(img.regs[1448], img.regs[1449], img.regs[1453], &ids);
    assert_int_equal(ids.max_cell_no, 0x1234);
    assert_int_equal(ids.min_cell_no, 0x0056);
    assert_int_equal(ids.max_temp_id, 9);
    assert_int_equal(ids.min_temp_id, 2);
    mbmap_image_deinit(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cover_mega_cells_in_40_reads),
        cmocka_unit_test(test_cover_joins_gaps_inside_declared_spans),
        cmocka_unit_test(test_cover_undeclared_and_short_output),
        cmocka_unit_test(test_cover_properties_on_random_needs),
        cmocka_unit_test(test_bit_names_and_alarm_flags),
        cmocka_unit_test(test_pack12s_ids_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
