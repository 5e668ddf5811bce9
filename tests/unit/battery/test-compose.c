/* SPDX-License-Identifier: MIT */
/* test-compose.c — alarms and limits as composer stages on every snapshot commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/battery_stages.h"
#include "bmsgw/compose.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/snapshot.h"
#include "sysgen.h"

struct fixture {
    struct snapshot *snap;
    struct config_store *store;
    struct control *control;
    struct composer comp;
    struct bmsgw_system *tmpl;
    struct bmsgw_system *out;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct bmsgw_config cfg;
    config_defaults(&cfg);
    f->snap = snapshot_new();
    f->store = config_store_new(&cfg, "test.conf");
    f->control = control_new();
    f->tmpl = sysgen_new(1, 16, 2, 3300, 250, 1000);
    f->out = calloc(1, sizeof(*f->out));
    composer_init(&f->comp, f->store, f->control);
    battery_stages_register(&f->comp);
    snapshot_set_composer(f->snap, composer_run, &f->comp);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    snapshot_free(f->snap);
    config_store_free(f->store);
    control_free(f->control);
    free(f->tmpl);
    free(f->out);
    free(f);
    return 0;
}

/* Commit the template sampled at now_ms and copy the result out. */
static void commit(struct fixture *f, int64_t now_ms)
{
    struct bmsgw_system *w = snapshot_write_begin(f->snap);
    memcpy(w, f->tmpl, sizeof(*w));
    for (unsigned i = 0; i < w->string_count; i++)
        w->strings[i].sample_ms = now_ms;
    snapshot_write_commit(f->snap, now_ms);
    snapshot_copy(f->snap, f->out);
}

static void test_stages_fill_alarms_and_limits(void **state)
{
    struct fixture *f = *state;
    commit(f, 1000);
    assert_int_equal(f->out->agg.strings_online, 1);
    assert_int_equal(f->out->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_OK);
    assert_true(f->out->limits.valid);
    assert_true(fabs(f->out->limits.cvl_v - 52.8) < 1e-9); /* CCL starts at 0: held at V */
    assert_true(f->out->limits.computed_ms == 1000);
    for (int64_t t = 2000; t <= 60000; t += 1000)
        commit(f, t);
    assert_true(fabs(f->out->limits.cvl_v - 55.2) < 1e-9);

    sysgen_cell(f->tmpl, 0, 2, 3700);
    commit(f, 60250);
    assert_int_equal(f->out->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);
    assert_true(f->out->limits.ccl_a == 0);
    assert_int_equal(f->out->limits.phase, BMSGW_PHASE_BLOCKED);
}

static void test_operator_block_applies_on_next_commit(void **state)
{
    struct fixture *f = *state;
    for (int64_t t = 1000; t <= 20000; t += 1000)
        commit(f, t);
    assert_true(f->out->limits.ccl_a == 50.0);
    control_set_block(f->control, CONTROL_CHARGE, true, "modbus coil 100", 20000);
    commit(f, 20250);
    assert_true(f->out->limits.ccl_a == 0);
    assert_string_equal(f->out->limits.ccl_reason, "CCL 0 A — blocked by modbus coil 100");
    control_set_block(f->control, CONTROL_CHARGE, false, "modbus coil 100", 20500);
    commit(f, 20500);
    assert_non_null(strstr(f->out->limits.ccl_reason, "hold left"));
}

static void test_config_change_is_picked_up(void **state)
{
    struct fixture *f = *state;
    struct bmsgw_config cfg;
    for (int64_t t = 1000; t <= 60000; t += 1000)
        commit(f, t);
    config_store_get(f->store, &cfg);
    cfg.limits.max_cvl_v = 53.0;
    config_store_set(f->store, &cfg);
    commit(f, 60250);
    assert_true(fabs(f->out->limits.cvl_v - 53.0) < 1e-9);
    cfg.alarms.cell_high_mv = 3300;
    config_store_set(f->store, &cfg);
    commit(f, 60500);
    assert_int_equal(f->out->alarms.a[BMSGW_ALARM_HIGH_VOLTAGE].level, BMSGW_LEVEL_ALARM);
    assert_true(fabs(f->out->limits.cvl_v - 52.0) < 1e-9); /* 16 x (3.300 - 0.050) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stages_fill_alarms_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_block_applies_on_next_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_change_is_picked_up, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
