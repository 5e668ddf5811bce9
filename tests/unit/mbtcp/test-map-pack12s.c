/* SPDX-License-Identifier: MIT */
/* test-map-pack12s.c — the 12S pack map (seed 004) rendered from a hand-built system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsgw/mbmap_maps.h"
#include "fixture-system.h"

struct fix {
    struct bmsgw_system *sys;
    struct mbmap_pack12s_src src;
    struct mbmap_image img;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    f->sys = fix_system_new();
    struct bmsgw_string *st = fix_add_string(f->sys, 16, 4, 3300, 200);
    f->sys->cell_mv[6] = 3345;  /* cell 7 highest */
    f->sys->cell_mv[11] = 3290; /* cell 12 lowest */
    f->sys->sensor_dc[2] = 180; /* sensor 3 lowest (18.0), sensor 4 highest (20.4) */
    st->soc_pct = 55.5;
    st->soh_pct = 98.5;
    st->current_a = -12.3;
    st->pack_v = 53.12;
    fix_aggregate(f->sys);
    assert_int_equal(mbmap_image_init(&f->img, &mbmap_pack12s, MBMAP_WORDS_ABCD), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbmap_image_deinit(&f->img);
    free(f->sys);
    free(f);
    return 0;
}

static void render(struct fix *f, const struct control_state *ctl, const uint16_t *cmd, bool stale)
{
    mbmap_pack12s_from_system(&f->src, f->sys, ctl, cmd, stale);
    mbmap_render(&f->img, &f->src);
}

static void test_values(void **state)
{
    struct fix *f = *state;
    render(f, NULL, NULL, false);
    assert_int_equal(img_reg(&f->img, 1440), 1000);   /* 100.0 Ah */
    assert_int_equal(img_reg(&f->img, 1441), 555);    /* 55.5 % of it */
    assert_int_equal(img_reg(&f->img, 1442), 0xFF85); /* -12.3 A, two's complement */
    assert_int_equal(img_reg(&f->img, 1443), 5312);
    assert_int_equal(img_reg(&f->img, 1444), 3345);
    assert_int_equal(img_reg(&f->img, 1445), 3290);
    assert_int_equal(img_reg(&f->img, 1446), 204);
    assert_int_equal(img_reg(&f->img, 1447), 180);
    assert_int_equal(img_reg(&f->img, 1448), 0x070C); /* max cell 7, min cell 12 */
    assert_int_equal(img_reg(&f->img, 1449), 0x0403); /* max sensor 4, min sensor 3 */
    assert_int_equal(img_reg(&f->img, 1450), 9850);
    assert_int_equal(img_reg(&f->img, 1451), MBMAP_PACK12S_ST_DISCHARGING);
    assert_int_equal(img_reg(&f->img, 1452), 0);
    assert_int_equal(img_reg(&f->img, 1453), 0);
}

static void test_cell_index_above_255(void **state)
{
    struct fix *f = *state;
    struct bmsgw_system *sys = fix_system_new();
    fix_add_string(sys, 300, 2, 3000, 200); /* cell 300 highest, cell 1 lowest */
    fix_aggregate(sys);
    mbmap_pack12s_from_system(&f->src, sys, NULL, NULL, false);
    mbmap_render(&f->img, &f->src);
    assert_int_equal(img_reg(&f->img, 1448), 0x2C01); /* 300 = 0x012C */
    assert_int_equal(img_reg(&f->img, 1453), 0x0100);
    free(sys);
}

static void test_status_and_alarm_bits(void **state)
{
    struct fix *f = *state;
    struct control_state ctl = { .charge_blocked = true, .discharge_blocked = true };
    f->sys->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level = BMSGW_LEVEL_ALARM;
    f->sys->alarms.a[BMSGW_ALARM_CELL_IMBALANCE].level = BMSGW_LEVEL_WARNING; /* not an alarm */
    f->sys->alarms.a[BMSGW_ALARM_LOW_TEMP_CHARGE].level = BMSGW_LEVEL_ALARM;
    f->sys->cell_flags[0] = BMSGW_CELL_BALANCING;
    f->sys->strings[0].current_a = 0.2;
    fix_aggregate(f->sys);
    render(f, &ctl, NULL, true);
    assert_int_equal(img_reg(&f->img, 1451), MBMAP_PACK12S_ST_IDLE | MBMAP_PACK12S_ST_BALANCING |
                                                 MBMAP_PACK12S_ST_POWER_OFF |
                                                 MBMAP_PACK12S_ST_PROTECTION);
    assert_int_equal(img_reg(&f->img, 1452), MBMAP_PACK12S_AL_CELL_OV |
                                                 MBMAP_PACK12S_AL_UNDER_TEMP |
                                                 MBMAP_PACK12S_AL_STALE);
    assert_int_equal(img_reg(&f->img, 1452), 0x0109);
}

static void test_commands_read_back(void **state)
{
    struct fix *f = *state;
    uint16_t cmd[MBMAP_PACK12S_CMD_COUNT] = { 1, 2, 37, 4, 5, 6, 7 };
    render(f, NULL, cmd, false);
    for (unsigned c = 0; c < MBMAP_PACK12S_CMD_COUNT; c++)
        assert_int_equal(img_reg(&f->img, mbmap_pack12s_cmd_addr(c)), cmd[c]);
    assert_int_equal(mbmap_pack12s_cmd_addr(MBMAP_PACK12S_CMD03), 6452);
    assert_int_equal(mbmap_pack12s_cmd_addr(MBMAP_PACK12S_CMD02), 10077);
    assert_int_equal(mbmap_pack12s_cmd_addr(MBMAP_PACK12S_CMD01), 15115);
    assert_int_equal(mbmap_pack12s_cmd_addr(MBMAP_PACK12S_CMD_COUNT), 0);
    render(f, NULL, NULL, false); /* commands initially 0 */
    assert_int_equal(img_reg(&f->img, 1596), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cell_index_above_255, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_alarm_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands_read_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
