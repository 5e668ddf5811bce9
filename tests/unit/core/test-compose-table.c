/* SPDX-License-Identifier: MIT */
/* test-compose-table.c — the composer's stage table: order, contexts, input, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/compose.h"

struct trace_ctx {
    int inits;
    int runs;
    char tag;
};

static char trace[16];
static unsigned trace_len;

static void trace_init(void *ctx)
{
    struct trace_ctx *t = ctx;
    assert_int_equal(t->inits + t->runs, 0); /* starts zeroed */
    t->inits++;
}

static void trace_run_a(void *ctx, struct bmsgw_system *sys, const struct compose_input *in)
{
    struct trace_ctx *t = ctx;
    t->runs++;
    trace[trace_len++] = 'a';
    sys->agg.soc_pct = in->now_ms;
    assert_null(in->control);
    assert_int_equal(in->stale_after_ms, in->cfg->bms.stale_after_ms);
}

static void trace_run_b(void *ctx, struct bmsgw_system *sys, const struct compose_input *in)
{
    (void)in;
    assert_null(ctx); /* ctx_size 0 */
    trace[trace_len++] = 'b';
    sys->agg.soc_pct += 1; /* sees what stage a wrote */
}

static const struct snapshot_stage stage_a = {
    .name = "a", .ctx_size = sizeof(struct trace_ctx), .init = trace_init, .run = trace_run_a
};
static const struct snapshot_stage stage_b = { .name = "b", .run = trace_run_b };

static void test_stages_run_in_order_with_their_context(void **state)
{
    (void)state;
    struct composer *c = calloc(1, sizeof(*c));
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    composer_init(c, NULL, NULL);
    assert_int_equal(compose_stage_register(c, &stage_a), 0);
    assert_int_equal(compose_stage_register(c, &stage_b), 0);
    trace_len = 0;
    composer_run(sys, 40, c);
    composer_run(sys, 50, c);
    assert_int_equal(trace_len, 4);
    assert_memory_equal(trace, "abab", 4);
    assert_float_equal(sys->agg.soc_pct, 51, 1e-9);
    struct trace_ctx *t = c->stages[0].ctx;
    assert_int_equal(t->inits, 1);
    assert_int_equal(t->runs, 2);
    free(sys);
    free(c);
}

static void test_table_bounds(void **state)
{
    (void)state;
    struct composer *c = calloc(1, sizeof(*c));
    composer_init(c, NULL, NULL);
    for (unsigned i = 0; i < COMPOSE_STAGES_MAX; i++)
        assert_int_equal(compose_stage_register(c, &stage_b), 0);
    assert_int_equal(compose_stage_register(c, &stage_b), -ENOSPC);
    composer_init(c, NULL, NULL);
    const struct snapshot_stage huge = { .name = "huge",
                                         .ctx_size = COMPOSE_STATE_BYTES + 1,
                                         .run = trace_run_b };
    assert_int_equal(compose_stage_register(c, &huge), -ENOSPC);
    assert_int_equal(c->n_stages, 0);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_run_in_order_with_their_context),
        cmocka_unit_test(test_table_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
