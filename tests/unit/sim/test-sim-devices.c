/* SPDX-License-Identifier: MIT */
/* test-sim-devices.c — the simulated Modbus TCP devices: mega, Tescom and 12S pack models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/sim_devices.h"

#define T0 50000

/* A decoded write of one value of the field key (item, group 0). */
static struct mbmap_write wr(const struct mbmap *m, const char *key, unsigned item, double value)
{
    const struct mbmap_field *f = mbmap_field_find(m, key);
    assert_non_null(f);
    return (struct mbmap_write){ .field = f, .item = (uint16_t)item, .value = value };
}

/* ---- mega ---------------------------------------------------------------------------------- */

static void test_mega_defaults_fill_the_map(void **state)
{
    (void)state;
    struct sim_mega m;
    struct sim_mega_params p;
    struct mbmap_mega_src *src = calloc(1, sizeof(*src));
    sim_mega_params_default(&p);
    assert_int_equal(sim_mega_init(&m, &p, T0), 0);
    assert_int_equal(m.sys->string_count, 24);
    assert_int_equal(m.sys->cell_count, 4992);
    assert_int_equal(m.sys->sensor_count, 2304);
    sim_mega_source(&m, src);
    unsigned lo = 65535, hi = 0;
    for (unsigned k = 0; k < MBMAP_MEGA_CELLS; k++) {
        lo = src->cell_mv[k] < lo ? src->cell_mv[k] : lo;
        hi = src->cell_mv[k] > hi ? src->cell_mv[k] : hi;
    }
    assert_true(lo >= 3000 && hi <= 3500);
    assert_true(hi > lo); /* cells differ */
    for (unsigned k = 0; k < MBMAP_MEGA_SENSORS; k++)
        assert_true(src->sensor_dc[k] > 150 && src->sensor_dc[k] < 350);
    assert_true(fabs(src->soc_pct - 60) < 10);
    assert_true(src->total_v > 208 * 3.0 && src->total_v < 208 * 3.5);
    assert_true(src->status[MBMAP_MEGA_ONLINE]);
    assert_true(m.sys->limits.valid); /* the daemon's composer ran */

    uint16_t first = src->cell_mv[0];
    double soc = src->soc_pct;
    for (unsigned s = 0; s < 120; s++)
        sim_mega_step(&m, 1.0, T0 + 1000 * (s + 1));
    sim_mega_source(&m, src);
    assert_true(src->cell_mv[0] != first || src->soc_pct != soc); /* it moves */
    sim_mega_free(&m);
    free(src);
}

static void test_mega_injection(void **state)
{
    (void)state;
    struct sim_mega m;
    struct sim_mega_params p;
    struct mbmap_mega_src *src = calloc(1, sizeof(*src));
    sim_mega_params_default(&p);
    p.strings = 4;
    p.cells = 64;
    p.sensors = 8;
    assert_int_equal(sim_mega_init(&m, &p, T0), 0);
    struct mbmap_write w[3] = { wr(&mbmap_mega, "cell_voltage", 16, 3700),
                                wr(&mbmap_mega, "temperature", 2, -12.5),
                                wr(&mbmap_mega, "soc", 0, 20) };
    assert_int_equal(sim_mega_write(&m, w, 3, T0), MBMAP_EX_NONE);
    sim_mega_source(&m, src);
    assert_int_equal(src->cell_mv[16], 3700);
    assert_int_equal(src->sensor_dc[2], -125);
    assert_true(fabs(src->soc_pct - 20) < 0.5);
    assert_true(src->status[MBMAP_MEGA_ALARM]); /* 3700 mV beyond the 3650 mV alarm */
    assert_int_equal(m.sys->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);

    w[0] = wr(&mbmap_mega, "cell_voltage", 16, 0); /* back to the physics */
    w[1] = wr(&mbmap_mega, "temperature", 2, 0);
    w[1].absent = true; /* unplugged */
    assert_int_equal(sim_mega_write(&m, w, 2, T0 + 1000), MBMAP_EX_NONE);
    sim_mega_source(&m, src);
    assert_true(src->cell_mv[16] > 2800 && src->cell_mv[16] < 3500);
    assert_int_equal(src->sensor_dc[2], BMSGW_TEMP_ABSENT);
    w[0] = wr(&mbmap_mega, "temperature", 2, 3276.7); /* 0x7FFF releases */
    assert_int_equal(sim_mega_write(&m, w, 1, T0 + 2000), MBMAP_EX_NONE);
    sim_mega_source(&m, src);
    assert_true(src->sensor_dc[2] > 150 && src->sensor_dc[2] < 350);

    /* a cell that is not installed: nothing of the request is applied */
    w[0] = wr(&mbmap_mega, "cell_voltage", 3, 3000);
    w[1] = wr(&mbmap_mega, "cell_voltage", 64, 3000);
    assert_int_equal(sim_mega_write(&m, w, 2, T0), MBMAP_EX_ILLEGAL_ADDRESS);
    sim_mega_source(&m, src);
    assert_int_not_equal(src->cell_mv[3], 3000);
    w[0] = wr(&mbmap_mega, "soh", 0, 50);
    assert_int_equal(sim_mega_write(&m, w, 1, T0), MBMAP_EX_ILLEGAL_ADDRESS);
    sim_mega_free(&m);
    free(src);
}

static void test_mega_charge_enable(void **state)
{
    (void)state;
    struct sim_mega m;
    struct sim_mega_params p;
    struct mbmap_mega_src *src = calloc(1, sizeof(*src));
    sim_mega_params_default(&p);
    p.strings = 2;
    p.cells = 32;
    p.sensors = 4;
    assert_int_equal(sim_mega_init(&m, &p, T0), 0);
    struct mbmap_write w = wr(&mbmap_mega, "charge_enable", 0, 0);
    assert_int_equal(sim_mega_write(&m, &w, 1, T0), MBMAP_EX_NONE);
    for (unsigned s = 0; s < 300; s++) {
        sim_mega_step(&m, 1.0, T0 + 1000 * (s + 1));
        assert_true(m.sys->agg.current_a <= 0);
    }
    sim_mega_source(&m, src);
    assert_false(src->charge_enabled);
    assert_false(src->status[MBMAP_MEGA_CHARGE_ALLOWED]); /* CCL 0 from the limits */
    assert_true(m.sys->limits.ccl_a == 0);
    sim_mega_free(&m);
    free(src);
}

static void test_mega_bad_sizes(void **state)
{
    (void)state;
    struct sim_mega m;
    struct sim_mega_params p;
    sim_mega_params_default(&p);
    p.strings = 0;
    assert_int_equal(sim_mega_init(&m, &p, T0), -EINVAL);
    sim_mega_params_default(&p);
    p.cells = 4993;
    assert_int_equal(sim_mega_init(&m, &p, T0), -EINVAL);
    sim_mega_params_default(&p);
    p.strings = 65;
    assert_int_equal(sim_mega_init(&m, &p, T0), -EINVAL);
}

/* ---- Tescom -------------------------------------------------------------------------------- */

static void test_tescom(void **state)
{
    (void)state;
    struct sim_tescom t;
    struct mbmap_tescom_src *src = calloc(1, sizeof(*src));
    assert_int_equal(sim_tescom_init(&t, (const unsigned[]){ 7, 0, 5, 0 }, CFG_CHEM_LFP, 3), 0);
    for (unsigned s = 0; s < 30; s++)
        sim_tescom_step(&t, 1.0);
    sim_tescom_source(&t, src);
    assert_int_equal(src->arm[0].count, 7);
    assert_int_equal(src->arm[1].count, 0);
    assert_int_equal(src->arm[2].count, 5);
    for (unsigned j = 0; j < 7; j++) {
        const struct mbmap_tescom_battery *b = &src->arm[0].bat[j];
        assert_true(b->present);
        assert_true(b->value[MBMAP_TESCOM_VOLTAGE] > 2.9 && b->value[MBMAP_TESCOM_VOLTAGE] < 3.5);
        assert_true(b->value[MBMAP_TESCOM_SOC] > 0 && b->value[MBMAP_TESCOM_SOC] < 100);
        assert_true(b->value[MBMAP_TESCOM_SOH] > 85 && b->value[MBMAP_TESCOM_SOH] <= 100);
        assert_false(b->alarm[MBMAP_TESCOM_LOW_V_ALARM]);
    }
    assert_true(src->arm[0].humidity_pct > 5 && src->arm[0].humidity_pct < 95);
    assert_false(src->arm[1].ok); /* no batteries: "no data" (status 0) */
    assert_false(src->arm[1].bat[0].present);

    t.arm[2].bat.cells[4].forced_mv = 2400; /* arm 3 battery 5 */
    sim_tescom_source(&t, src);
    assert_true(src->arm[2].bat[4].alarm[MBMAP_TESCOM_LOW_V_ALARM]);
    assert_true(src->arm[2].bat[4].alarm[MBMAP_TESCOM_LOW_V_WARNING]);
    t.arm[0].humidity_pct = 90; /* the simulator measures humidity */
    sim_tescom_source(&t, src);
    assert_true(src->arm[0].alarm[MBMAP_TESCOM_ARM_HIGH_HUMIDITY]);
    sim_tescom_free(&t);
    assert_int_equal(sim_tescom_init(&t, (const unsigned[]){ 121, 0, 0, 0 }, CFG_CHEM_LFP, 3),
                     -EINVAL);
    free(src);
}

/* ---- 12S pack ------------------------------------------------------------------------------ */

static struct sim_pack12s *pack_new(void)
{
    struct sim_pack12s *s = calloc(1, sizeof(*s));
    assert_int_equal(sim_pack12s_init(s, CFG_CHEM_NMC, 60, 3.0, 7), 0);
    return s;
}

static void pack_cmd(struct sim_pack12s *s, enum mbmap_pack12s_cmd c, unsigned v)
{
    unsigned g, i, o;
    const struct mbmap_field *f =
        mbmap_locate(&mbmap_pack12s, MBMAP_REGS, mbmap_pack12s_cmd_addr(c), &g, &i, &o);
    struct mbmap_write w = { .field = f, .value = v };
    assert_int_equal(sim_pack12s_write(s, &w, 1), MBMAP_EX_NONE);
}

static void test_pack12s_registers_sync_every_3s(void **state)
{
    (void)state;
    struct sim_pack12s *s = pack_new();
    struct mbmap_pack12s_src r0, r;
    sim_pack12s_source(s, &r0);
    assert_true(r0.nominal_ah == 50);
    assert_true(r0.pack_v > 12 * 3.6 && r0.pack_v < 12 * 4.0);
    assert_true(r0.max_cell_no >= 1 && r0.max_cell_no <= 12);
    assert_true(r0.max_temp_id >= 1 && r0.max_temp_id <= 4);
    sim_pack12s_step(s, 1);
    sim_pack12s_step(s, 1);
    sim_pack12s_source(s, &r);
    assert_memory_equal(&r, &r0, sizeof(r)); /* physics ran, registers not yet */
    sim_pack12s_step(s, 1);
    sim_pack12s_source(s, &r);
    assert_true(r.current_a != r0.current_a || r.pack_v != r0.pack_v);
    for (unsigned t = 0; t < 600; t++) {
        sim_pack12s_step(s, 1);
        assert_true(fabs(s->current_a) <= 30);
    }
    sim_pack12s_free(s);
    free(s);
}

static void test_pack12s_commands(void **state)
{
    (void)state;
    struct sim_pack12s *s = pack_new();
    struct mbmap_pack12s_src r;
    pack_cmd(s, MBMAP_PACK12S_CMD03, 1); /* forced power-off, shown at once */
    sim_pack12s_source(s, &r);
    assert_true(r.status_bits & MBMAP_PACK12S_ST_POWER_OFF);
    assert_int_equal(r.cmd[MBMAP_PACK12S_CMD03], 1);
    for (unsigned t = 0; t < 20; t++) {
        sim_pack12s_step(s, 1);
        assert_true(s->current_a == 0);
    }
    pack_cmd(s, MBMAP_PACK12S_CMD02, 1);
    sim_pack12s_source(s, &r);
    assert_false(r.status_bits & MBMAP_PACK12S_ST_POWER_OFF);
    assert_int_equal(r.cmd[MBMAP_PACK12S_CMD03], 1); /* the device never changes commands */

    pack_cmd(s, MBMAP_PACK12S_CMD04, 1);
    sim_pack12s_source(s, &r);
    assert_true(r.status_bits & MBMAP_PACK12S_ST_BALANCING);
    pack_cmd(s, MBMAP_PACK12S_CMD04, 0);
    sim_pack12s_source(s, &r);
    assert_false(r.status_bits & MBMAP_PACK12S_ST_BALANCING);

    pack_cmd(s, MBMAP_PACK12S_CMD06, 1); /* protection released, precharge, for 2 s */
    sim_pack12s_source(s, &r);
    assert_true(r.status_bits & MBMAP_PACK12S_ST_PRECHARGE);
    sim_pack12s_step(s, 1);
    assert_true(s->status & MBMAP_PACK12S_ST_PRECHARGE);
    sim_pack12s_step(s, 1.5);
    assert_false(s->status & MBMAP_PACK12S_ST_PRECHARGE);
    sim_pack12s_free(s);
    free(s);
}

static void test_pack12s_protections_and_lock(void **state)
{
    (void)state;
    struct sim_pack12s *s = pack_new();
    s->bat.cells[3].forced_mv = 4250; /* over-voltage: alarm and protection, no charging */
    sim_pack12s_step(s, 1);           /* the pack sees it on this step, acts from the next */
    for (unsigned t = 0; t < 30; t++) {
        sim_pack12s_step(s, 1);
        assert_true(s->current_a <= 0);
    }
    assert_true(s->alarms & MBMAP_PACK12S_AL_CELL_OV);
    assert_true(s->status & MBMAP_PACK12S_ST_PROTECTION);
    assert_false(s->locked);
    s->bat.cells[3].forced_mv = 4400; /* beyond 4.35 V: locked until restart */
    sim_pack12s_step(s, 1);
    s->bat.cells[3].forced_mv = 0;
    pack_cmd(s, MBMAP_PACK12S_CMD02, 1);
    pack_cmd(s, MBMAP_PACK12S_CMD06, 1);
    for (unsigned t = 0; t < 10; t++) {
        sim_pack12s_step(s, 1);
        assert_true(s->current_a == 0);
    }
    struct mbmap_pack12s_src r;
    sim_pack12s_source(s, &r);
    assert_true(r.status_bits & MBMAP_PACK12S_ST_LOCKED);
    assert_true(r.alarm_bits & MBMAP_PACK12S_AL_SEVERE_OV);
    s->bat.cells[3].forced_mv = 2900; /* under-voltage alarm */
    sim_pack12s_step(s, 1);
    assert_true(s->alarms & MBMAP_PACK12S_AL_CELL_UV);
    sim_pack12s_free(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mega_defaults_fill_the_map),
        cmocka_unit_test(test_mega_injection),
        cmocka_unit_test(test_mega_charge_enable),
        cmocka_unit_test(test_mega_bad_sizes),
        cmocka_unit_test(test_tescom),
        cmocka_unit_test(test_pack12s_registers_sync_every_3s),
        cmocka_unit_test(test_pack12s_commands),
        cmocka_unit_test(test_pack12s_protections_and_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
