/* SPDX-License-Identifier: MIT */
/* test-map-mega.c — the mega map rendered from a hand-built system, addresses as in seed 000. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bmsgw/mbmap_maps.h"
#include "fixture-system.h"

struct fix {
    struct bmsgw_system *sys;
    struct mbmap_mega_src *src;
    struct mbmap_image img;
};

/* Two strings of 16 cells and 2 sensors: cells 3301..3316 and 3281..3296 mV, sensors 25.1,
 * 25.2, -5.9, -5.8 degC; SOC 55.5/57.5 %, current -10.00 + -2.34 A, 53.12/53.10 V. */
static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    f->sys = fix_system_new();
    f->src = calloc(1, sizeof(*f->src));
    struct bmsgw_string *a = fix_add_string(f->sys, 16, 2, 3300, 250);
    struct bmsgw_string *b = fix_add_string(f->sys, 16, 2, 3280, -60);
    a->soc_pct = 55.5;
    b->soc_pct = 57.5;
    a->current_a = -10.0;
    b->current_a = -2.34;
    a->pack_v = 53.12;
    b->pack_v = 53.10;
    f->sys->cell_flags[3] = BMSGW_CELL_BALANCING;
    f->sys->alarms.a[BMSGW_ALARM_HIGH_TEMP].level = BMSGW_LEVEL_ALARM;
    f->sys->limits = (struct bmsgw_limits){ .valid = true, .ccl_a = 50, .dcl_a = 0 };
    fix_aggregate(f->sys);
    assert_int_equal(mbmap_image_init(&f->img, &mbmap_mega, MBMAP_WORDS_ABCD), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbmap_image_deinit(&f->img);
    free(f->src);
    free(f->sys);
    free(f);
    return 0;
}

static void render(struct fix *f, const struct control_state *ctl, bool stale)
{
    mbmap_mega_from_system(f->src, f->sys, ctl, stale);
    mbmap_render(&f->img, f->src);
}

static void test_main_values(void **state)
{
    struct fix *f = *state;
    render(f, NULL, false);
    assert_int_equal(img_u32(&f->img, 1000), 5650);  /* SOC 56.50 % (equal capacities) */
    assert_int_equal(img_u32(&f->img, 1002), 10000); /* SOH 100.00 % */
    assert_int_equal(img_u32(&f->img, 1004), 5311);  /* 53.11 V: strings in parallel */
    assert_int_equal(img_u32(&f->img, 1006), 252);   /* 25.2 degC */
    assert_int_equal(img_reg(&f->img, 1008), 0xFFFF);
    assert_int_equal(img_reg(&f->img, 1009), 0xFB2E); /* -12.34 A */
    assert_true(img_f32(&f->img, 30003) == 9.7f);     /* (25.1 + 25.2 - 5.9 - 5.8) / 4 */
    assert_true(img_f32(&f->img, 30005) == 3.2985f);
    assert_true(img_f32(&f->img, 30007) == 53.11f);
}

static void test_cells_and_sensors(void **state)
{
    struct fix *f = *state;
    render(f, NULL, false);
    assert_int_equal(img_reg(&f->img, 1010), 3301); /* cell 1 at 1009 + 1 */
    assert_int_equal(img_reg(&f->img, 1025), 3316);
    assert_int_equal(img_reg(&f->img, 1026), 3281); /* cell 17: string 2 follows string 1 */
    assert_int_equal(img_reg(&f->img, 1041), 3296);
    assert_int_equal(img_reg(&f->img, 1042), 0); /* no cell 33 */
    assert_int_equal(img_reg(&f->img, 6001), 0);
    assert_int_equal(img_reg(&f->img, 7000), 251);
    assert_int_equal(img_reg(&f->img, 7001), 252);
    assert_int_equal(img_reg(&f->img, 7002), 0xFFC5); /* -5.9 degC */
    assert_int_equal(img_reg(&f->img, 7003), 0xFFC6);
    assert_int_equal(img_reg(&f->img, 7004), 0x8000); /* absent sensor */
    assert_int_equal(img_reg(&f->img, 9303), 0x8000);

    f->sys->sensor_dc[1] = BMSGW_TEMP_ABSENT; /* unplugged */
    f->sys->strings[1].online = false;        /* string 2 lost */
    fix_aggregate(f->sys);
    render(f, NULL, false);
    assert_int_equal(img_reg(&f->img, 7001), 0x8000);
    assert_int_equal(img_reg(&f->img, 1026), 0);
    assert_int_equal(img_reg(&f->img, 7002), 0x8000);
    assert_int_equal(img_u32(&f->img, 1000), 5550);
}

static void test_word_order_cdab(void **state)
{
    struct fix *f = *state;
    struct mbmap_image cdab;
    assert_int_equal(mbmap_image_init(&cdab, &mbmap_mega, MBMAP_WORDS_CDAB), 0);
    mbmap_mega_from_system(f->src, f->sys, NULL, false);
    mbmap_render(&cdab, f->src);
    assert_int_equal(cdab.regs[1000], 5650);
    assert_int_equal(cdab.regs[1001], 0);
    assert_int_equal(cdab.regs[1008], 0xFB2E);
    assert_int_equal(cdab.regs[1009], 0xFFFF);
    assert_int_equal(cdab.regs[1010], 3301); /* 16-bit values do not change */
    mbmap_image_deinit(&cdab);
}

static void test_no_temperature_reads_zero(void **state)
{
    struct fix *f = *state;
    for (unsigned k = 0; k < 4; k++)
        f->sys->sensor_dc[k] = BMSGW_TEMP_ABSENT;
    fix_aggregate(f->sys);
    render(f, NULL, false);
    assert_int_equal(img_u32(&f->img, 1006), 0);
    assert_true(img_f32(&f->img, 30003) == 0.0f);
    assert_int_equal(img_reg(&f->img, 7000), 0x8000);
}

static void test_coils(void **state)
{
    struct fix *f = *state;
    struct control_state ctl = { .charge_blocked = true };
    render(f, &ctl, false);
    static const uint8_t expect[8] = { 1, 0, 1, 1, 1, 0, 1, 0 };
    assert_memory_equal(f->img.bits[MBMAP_COILS], expect, 8);
    assert_memory_equal(f->img.bits[MBMAP_DISCRETE], expect, 8);
    assert_int_equal(f->img.bits[MBMAP_COILS][100], 0); /* charge blocked */
    assert_int_equal(f->img.bits[MBMAP_COILS][101], 1);
    assert_int_equal(f->img.bits[MBMAP_COILS][102], 0); /* acknowledge reads 0 */

    /* stale: nothing claims to be online or active; the alarm stays visible */
    render(f, NULL, true);
    static const uint8_t stale[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };
    assert_memory_equal(f->img.bits[MBMAP_COILS], stale, 8);
    assert_int_equal(f->img.bits[MBMAP_COILS][100], 1);
}

static void test_capacity_is_the_seed_range(void **state)
{
    (void)state;
    const struct mbmap_field *c = mbmap_field_find(&mbmap_mega, "cell_voltage");
    const struct mbmap_field *t = mbmap_field_find(&mbmap_mega, "temperature");
    assert_int_equal(mbmap_field_addr(c, 0, 0), 1010);
    assert_int_equal(mbmap_field_addr(c, 0, 4991), 6001);
    assert_int_equal(mbmap_field_addr(t, 0, 0), 7000);
    assert_int_equal(mbmap_field_addr(t, 0, 2303), 9303);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_main_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cells_and_sensors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_word_order_cdab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_temperature_reads_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coils, setup, teardown),
        cmocka_unit_test(test_capacity_is_the_seed_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
