/* SPDX-License-Identifier: MIT */
/* test-safety-oracle.c — spec "Safety invariants" 1-9 on the bytes, composer to 0x351. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/can_out.h"
#include "bmsgw/battery_stages.h"
#include "bmsgw/compose.h"
#include "bmsgw/control.h"
#include "bmsgw/victron.h"
#include "oracle-gen.h"
#include "sysgen.h"

/*
 * Generated systems and sequences go through the whole output pipeline (composer_run,
 * can_out_decide, victron_encode, can_out_sent) and the oracle (oracle.h) checks the decoded
 * frames. Deterministic: a failure names the seed and the step; ORACLE_SEED=<seed> runs only that
 * seed (ORACLE_TRACE=1 prints every step's frames).
 */

#define N_SEQUENCES 1500
#define SEQ_STEPS   80
#define N_EXTREME   3000
#define N_SYSGEN    2000
#define SEED_SEQ    1u
#define SEED_EXT    1000001u
#define SEED_GEN    2000001u
#define T0          100000 /* sample times start here (0 means "never sampled") */

/* ---- the pipeline ------------------------------------------------------------------------ */

static bool seed_selected(uint64_t seed)
{
    const char *env = getenv("ORACLE_SEED");
    return !env || strtoull(env, NULL, 10) == seed;
}

static void rig_init(struct rig *g, struct bmsgw_system *sys, uint64_t seed)
{
    g->rng = seed * 0x2545F4914F6CDD1Dull;
    g->sys = sys;
    g->ctl = control_new();
    composer_init(&g->comp, NULL, g->ctl);
    battery_stages_register(&g->comp);
    can_out_init(&g->st);
    oracle_run_init(&g->run, seed);
}

/* After the config is chosen. */
static void rig_start(struct rig *g)
{
    g->comp.cfg = g->cfg;
}

static void rig_free(struct rig *g)
{
    control_free(g->ctl);
}

static bool send(struct rig *g, enum victron_frame_idx f, const struct can_proto_input *in,
                 uint8_t d[VICTRON_DLC])
{
    memset(d, 0, VICTRON_DLC);
    if (victron_encode(f, in, d) < 0)
        return false;
    can_out_sent(&g->st, &can_proto_victron, f, d);
    return true;
}

static void trace(const struct rig *g, int64_t now, const struct oracle_frames *fr)
{
    fprintf(stderr, "seed %llu step %u t %lld mode %d:", (unsigned long long)g->run.seed,
            g->run.step, (long long)now, fr->mode);
    const uint8_t *d[] = { fr->d351, fr->d35a, fr->d372 };
    const bool s[] = { fr->sent351, fr->sent35a, fr->sent372 };
    for (unsigned k = 0; k < 3; k++) {
        fprintf(stderr, " %s", k == 0 ? "351" : k == 1 ? "35A" : "372");
        for (unsigned b = 0; s[k] && b < VICTRON_DLC; b++)
            fprintf(stderr, "%s%02X", b ? "" : "=", d[k][b]);
    }
    fprintf(stderr, "\n");
}

static void rig_step(struct rig *g, int64_t now)
{
    struct bmsgw_system *s = g->sys;
    struct control_state cs;
    struct can_out out;
    struct can_proto_input in;
    struct oracle_frames fr = { 0 };
    uint8_t other[VICTRON_DLC];

    s->generation++;
    s->updated_ms = now;
    sysgen_driver(s);
    composer_run(s, now, &g->comp);
    control_get(g->ctl, &cs);
    can_out_decide(&g->cfg, s, &cs, now, &g->st, &out);
    fr.mode = (int)out.mode;
    if (out.mode != CAN_OUT_SILENT) {
        can_out_input(&out, s, &g->cfg.can, &in);
        fr.sent351 = send(g, VICTRON_351, &in, fr.d351);
        fr.sent35a = send(g, VICTRON_35A, &in, fr.d35a);
        fr.sent372 = send(g, VICTRON_372, &in, fr.d372);
        if (out.mode == CAN_OUT_NORMAL)
            fr.sent356 = send(g, VICTRON_356, &in, fr.d356);
        for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++) /* 9: every encoder, no UB */
            if (out.mode == CAN_OUT_NORMAL || !can_out_measurement_frame(&can_proto_victron, f))
                (void)victron_encode(f, &in, other);
    }
    if (getenv("ORACLE_TRACE"))
        trace(g, now, &fr);
    oracle_check(&g->run, &g->cfg, s, &cs, &out.lim, now, &fr);
}

static void run_sequence(struct bmsgw_system *sys, uint64_t seed)
{
    struct rig g;
    struct seq q;
    int64_t now = T0;
    rig_init(&g, sys, seed);
    gen_config(&g, false);
    gen_seq_init(&g, &q, now);
    for (unsigned i = 0; i < g.sys->string_count; i++)
        gen_seq_string(&g, &q, i, now);
    for (unsigned step = 0; step < SEQ_STEPS; step++) {
        rig_step(&g, now);
        now += chance(&g.rng, 0.1) ? range(&g.rng, 2000, 8000) : range(&g.rng, 100, 1500);
        gen_seq_step(&g, &q, now);
    }
    rig_free(&g);
}

/* ---- single systems at the extremes (invariant 9) ----------------------------------------- */

static void run_extreme(struct bmsgw_system *sys, uint64_t seed)
{
    struct rig g;
    int64_t now = T0;
    rig_init(&g, sys, seed);
    gen_config(&g, true);
    unsigned strings = chance(&g.rng, 0.3) ? BMSGW_MAX_STRINGS : (unsigned)range(&g.rng, 1, 64);
    unsigned cells = (unsigned)range(&g.rng, 4, 16);
    unsigned sensors = (unsigned)range(&g.rng, 0, 2); /* after cells, on every compiler */
    gen_layout(sys, strings, cells, sensors);
    for (unsigned step = 0, n = (unsigned)range(&g.rng, 1, 3); step < n; step++, now += 1000) {
        for (unsigned i = 0; i < strings; i++)
            gen_extreme_string(&g, i, now);
        rig_step(&g, now);
    }
    rig_free(&g);
}

/* sysgen_random systems (the other tests' generator) under random configurations. */
static void run_sysgen(struct bmsgw_system *sys, uint64_t seed)
{
    struct rig g;
    rig_init(&g, sys, seed);
    gen_config(&g, false);
    for (int64_t now = T0; now < T0 + 3000; now += 1000) {
        uint64_t r = g.rng;
        sysgen_random(sys, &r, now);
        g.rng = r;
        rig_step(&g, now);
    }
    rig_free(&g);
}

/* ---- tests ------------------------------------------------------------------------------- */

static struct bmsgw_system *sys_buf;

static int setup(void **state)
{
    (void)state;
    sys_buf = calloc(1, sizeof(*sys_buf));
    return sys_buf ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(sys_buf);
    return 0;
}

static void finish(const char *what)
{
    unsigned total = 0;
    for (unsigned c = 0; c < OC_COUNT; c++)
        total += oracle_failures(c);
    oracle_print_summary();
    fprintf(stderr, "%s: %u failures (%u steps checked so far)\n", what, total,
            oracle_coverage(ORACLE_COV_STEPS));
    assert_int_equal(total, 0);
}

/* A test that cannot fail is a bug: the oracle flags frames that break the invariants. */
static void test_oracle_detects_violations(void **state)
{
    (void)state;
    struct bmsgw_config cfg;
    struct bmsgw_system *s = sysgen_new(1, 16, 2, 3300, 250, T0);
    struct bmsgw_limits lim = {
        .valid = true, .cvl_v = 56.0, .ccl_a = 0, .dcl_a = 0, .dvl_v = 46.4
    };
    struct oracle_frames fr = { .mode = CAN_OUT_NORMAL, .sent351 = true, .sent372 = true };
    struct oracle_run run;
    config_defaults(&cfg);
    oracle_reset();
    oracle_run_init(&run, 0);
    fr.d351[0] = 560 & 0xFF; /* CVL 56.0 V above V = 52.8 V with CCL 0 */
    fr.d351[1] = 560 >> 8;
    fr.d351[6] = 464 & 0xFF;
    fr.d351[7] = 464 >> 8;
    fprintf(stderr, "(the ORACLE failures below are expected)\n");
    oracle_check(&run, &cfg, s, NULL, &lim, T0, &fr);
    assert_int_equal(oracle_failures(OC_CVL_LE_V), 1);
    assert_int_equal(oracle_failures(OC_372_CHARGE), 1);
    assert_int_equal(oracle_failures(OC_372_DISCHARGE), 1);
    sysgen_cell(s, 0, 3, 3700); /* >= 3650 mV OV, CCL 10 A, no alarm */
    fr.d351[0] = 520 & 0xFF;
    fr.d351[1] = 520 >> 8;
    fr.d351[2] = 100;
    fr.sent35a = true;
    memset(fr.d35a, 0xAA, sizeof(fr.d35a));
    lim.cvl_v = 52.0;
    lim.ccl_a = 10.0;
    oracle_check(&run, &cfg, s, NULL, &lim, T0 + 1000, &fr);
    assert_true(oracle_failures(OC_OV_CCL) >= 1);
    assert_true(oracle_failures(OC_ALARM_HV) >= 1);
    assert_true(oracle_failures(OC_CCL_RAMP) >= 1); /* 0 -> 10 A in 1 s at 5 A/s */
    oracle_reset();
    free(s);
}

/* 3: a register less safe than the configuration is refused, a stricter one is used. */
static void test_stricter_wins(void **state)
{
    (void)state;
    static const struct {
        uint16_t reg315, cell_mv;
        bool refused;
    } cases[] = { { 3800, 3660, true }, { 3500, 3550, false }, { 3800, 3640, true } };
    oracle_reset();
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct rig g;
        rig_init(&g, sys_buf, 9000 + k);
        config_defaults(&g.cfg);
        g.cfg.alarms.thresholds_from_bms = true;
        rig_start(&g);
        gen_layout(sys_buf, 1, 16, 2);
        struct bmsgw_string *st = &sys_buf->strings[0];
        st->settings_valid = true;
        st->settings_reg[15] = cases[k].reg315;
        st->settings_reg[16] = 2500;
        st->settings_reg[17] = 100;
        st->settings_reg[18] = 40;
        st->settings_reg[19] = 60;
        st->settings_reg[20] = 0;
        for (unsigned c = 0; c < 16; c++)
            sys_buf->cell_mv[c] = c == 4 ? cases[k].cell_mv : 3300;
        for (unsigned t = 0; t < 2; t++)
            sys_buf->sensor_dc[t] = 250;
        st->pack_v = (15 * 3300 + cases[k].cell_mv) / 1000.0;
        st->sample_ms = T0;
        rig_step(&g, T0);
        assert_int_equal(sys_buf->limits.refused_count > 0, cases[k].refused);
        rig_free(&g);
    }
    finish("stricter wins");
}

static void test_sequences(void **state)
{
    (void)state;
    oracle_reset();
    for (uint64_t seed = SEED_SEQ; seed < SEED_SEQ + N_SEQUENCES; seed++)
        if (seed_selected(seed))
            run_sequence(sys_buf, seed);
    oracle_coverage_print();
    if (!getenv("ORACLE_SEED"))
        for (unsigned c = 0; c < ORACLE_COV_COUNT; c++)
            assert_true(oracle_coverage(c) > 0);
    finish("sequences");
}

static void test_extremes(void **state)
{
    (void)state;
    oracle_reset();
    for (uint64_t seed = SEED_EXT; seed < SEED_EXT + N_EXTREME; seed++)
        if (seed_selected(seed))
            run_extreme(sys_buf, seed);
    finish("extremes");
}

static void test_sysgen_random(void **state)
{
    (void)state;
    oracle_reset();
    for (uint64_t seed = SEED_GEN; seed < SEED_GEN + N_SYSGEN; seed++)
        if (seed_selected(seed))
            run_sysgen(sys_buf, seed);
    finish("sysgen_random");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_detects_violations),
        cmocka_unit_test(test_stricter_wins),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_sysgen_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
