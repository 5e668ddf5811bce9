/* SPDX-License-Identifier: MIT */
/* test-bms-drivers.c — every driver built in fits the generic poller and the model: its pages
 * fit the snapshot's arrays, its strings fit a string's range, the calls the poller makes are
 * there, and bms.ports[].type selects it by index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bmsgw/bms_driver.h"
#include "bmsgw/config.h"

static void test_every_driver_fits(void **state)
{
    (void)state;
    static const unsigned model_room[BMS_PAGE_COUNT] = {
        [BMS_PAGE_STATS] = BMSGW_STATS_COUNT,
        [BMS_PAGE_EVENTS] = BMS_REGS_MAX, /* decoded into BMSGW_EVENTS_MAX entries */
        [BMS_PAGE_SETTINGS] = BMSGW_SETTINGS_COUNT,
        [BMS_PAGE_IDENTITY] = BMSGW_IDENT_COUNT,
    };
    unsigned n = 0;
    for (const struct bms_driver *const *d = bms_drivers; *d; d++, n++) {
        const struct bms_driver *b = *d;
        assert_non_null(b->name);
        assert_non_null(b->bms_name);
        assert_true(b->max_cells >= 1 && b->max_cells <= BMS_STRING_CELLS_MAX);
        assert_true(b->sensors <= BMS_STRING_SENSORS_MAX);
        assert_true(b->live_count >= 1 && b->live_count <= BMS_REGS_MAX);
        for (unsigned p = 0; p < BMS_PAGE_COUNT; p++)
            assert_true(b->pages[p].count <= model_room[p]);
        assert_non_null(b->open);
        assert_non_null(b->close);
        assert_non_null(b->read_live);
        assert_non_null(b->decode_live);
        assert_non_null(b->read);
        assert_non_null(b->apply_page);
        assert_non_null(b->decode_events);
        assert_non_null(b->setting_check);
        assert_non_null(b->setting_key);
        assert_non_null(b->write);
        assert_non_null(b->control);
        /* the settings it lists lie on its settings page and can be found by key */
        struct bms_setting s, again;
        const struct bms_page_def *sp = &b->pages[BMS_PAGE_SETTINGS];
        for (unsigned i = 0; b->setting_at && b->setting_at(i, &s); i++) {
            assert_true(s.addr >= sp->first && s.addr + s.words <= sp->first + sp->count);
            assert_true(bms_setting_find(b, s.key, &again));
            assert_int_equal(again.addr, s.addr);
        }
        /* bms.ports[].type is the index in the list, and the config knows the same names */
        struct cfg_port port = { .type = (int)n };
        assert_ptr_equal(bms_driver_of(&port), b);
        assert_string_equal(cfg_bms_driver_name(n), b->name);
        assert_int_equal(cfg_bms_driver_max_cells(n), b->max_cells);
    }
    assert_int_equal(n, cfg_bms_driver_count());
    assert_ptr_equal(bms_drivers[0], &tinybms_driver); /* the default */
}

/* The TinyBMS lists its 300..343 settings page, and a key outside it is not found. */
static void test_tinybms_settings(void **state)
{
    (void)state;
    struct bms_setting s;
    assert_true(bms_setting_find(&tinybms_driver, "over_voltage_cutoff_mv", &s));
    assert_int_equal(s.addr, 315);
    assert_string_equal(s.unit, "mV");
    assert_true(s.writable);
    assert_false(bms_setting_find(&tinybms_driver, "pack_voltage_v", &s)); /* live, not a setting */
    assert_false(bms_setting_find(&tinybms_driver, "nope", &s));
    uint16_t page[BMSGW_SETTINGS_COUNT] = { 0 };
    page[315 - 300] = 3650;
    assert_true(bms_setting_find(&tinybms_driver, "over_voltage_cutoff_mv", &s));
    double v = 0;
    assert_int_equal(tinybms_driver.setting_value(&s, page, &v), 0);
    assert_true(v == 3650.0);
    uint16_t words[1] = { 3650 };
    char why[160];
    assert_int_equal(tinybms_driver.setting_encode(&s, 3600, words, why, sizeof(why)), 0);
    assert_int_equal(words[0], 3600);
    assert_true(tinybms_driver.setting_encode(&s, 9000, words, why, sizeof(why)) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_driver_fits),
        cmocka_unit_test(test_tinybms_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
