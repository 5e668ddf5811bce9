/* SPDX-License-Identifier: MIT */
/* test-mbtcp-gateway.c — the daemon's data behind the maps: snapshot, staleness, operator writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/mbmap_maps.h"
#include "bmsgw/mbtcp_service.h"
#include "bmsgw/snapshot.h"

#define T0 1000000

struct fix {
    struct snapshot *snap;
    struct control *ctl;
    struct config_store *store;
    struct bmsgw_config cfg;
    struct mbtcp_gateway *gw;
    struct mbtcp_provider p;
    struct mbmap_mega_src mega;
    struct mbmap_pack12s_src pack;
    struct mbmap_tescom_src tescom;
    struct mbmap_testpattern_src tp;
};

/* One string of 4 cells sampled at T0. */
static void publish(struct fix *f, int64_t sample_ms, double soc)
{
    struct bmsgw_system *sys = snapshot_write_begin(f->snap);
    sys->string_count = 1;
    sys->cell_count = 4;
    sys->strings[0] = (struct bmsgw_string){ .online = true,
                                             .sample_ms = sample_ms,
                                             .cell_count = 4,
                                             .soc_pct = soc,
                                             .pack_v = 13.2,
                                             .capacity_ah = 100 };
    for (unsigned c = 0; c < 4; c++)
        sys->cell_mv[c] = (uint16_t)(3300 + c);
    bmsgw_system_aggregate(sys, sample_ms, 3000);
    snapshot_write_commit(f->snap, sample_ms);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    config_defaults(&f->cfg);
    f->snap = snapshot_new();
    f->ctl = control_new();
    f->store = config_store_new(&f->cfg, "/nonexistent.conf");
    f->gw = mbtcp_gateway_new(f->snap, f->ctl, f->store, T0);
    assert_non_null(f->gw);
    mbtcp_gateway_provider(f->gw, &f->p);
    publish(f, T0, 55.0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbtcp_gateway_free(f->gw);
    config_store_free(f->store);
    control_free(f->ctl);
    snapshot_free(f->snap);
    free(f);
    return 0;
}

static struct mbtcp_data_info load(struct fix *f, int kind, void *src, int64_t now)
{
    struct mbtcp_data_info info = { 0 };
    memset(src, 0, mbmap_get(kind)->src_size);
    f->p.load(f->p.ctx, kind, src, now, &info);
    return info;
}

static void test_fresh_then_stale(void **state)
{
    struct fix *f = *state;
    struct mbtcp_data_info i = load(f, MBMAP_TESCOM, &f->tescom, T0 + 1000);
    assert_false(i.stale);
    assert_int_equal(i.valid_until_ms, T0 + 3001); /* the moment it turns stale */
    assert_int_equal(f->tescom.arm[0].count, 4);
    assert_true(f->tescom.arm[0].ok);
    i = load(f, MBMAP_TESCOM, &f->tescom, T0 + 3001);
    assert_true(i.stale);
    assert_int_equal(i.valid_until_ms, 0); /* only new data changes it now */
    assert_false(f->tescom.arm[0].ok);
    /* the maps that show operator blocks look again soon */
    i = load(f, MBMAP_MEGA, &f->mega, T0 + 1000);
    assert_int_equal(i.valid_until_ms, T0 + 1250);
    assert_true(f->mega.soc_pct == 55.0);
    publish(f, T0 + 4000, 56.0);
    i = load(f, MBMAP_MEGA, &f->mega, T0 + 4000);
    assert_false(i.stale);
    assert_true(f->mega.soc_pct == 56.0);
}

static void test_stale_after_follows_the_config(void **state)
{
    struct fix *f = *state;
    f->cfg.bms.stale_after_ms = 500;
    config_store_set(f->store, &f->cfg);
    struct mbtcp_data_info i = load(f, MBMAP_TESCOM, &f->tescom, T0 + 600);
    assert_true(i.stale);
}

static int write1(struct fix *f, int kind, int table, unsigned addr, double value)
{
    unsigned g, it, off;
    const struct mbmap_field *fl = mbmap_locate(mbmap_get(kind), table, addr, &g, &it, &off);
    assert_non_null(fl);
    struct mbmap_write w = {
        .field = fl, .group = (uint16_t)g, .item = (uint16_t)it, .value = value
    };
    return f->p.write(f->p.ctx, kind, &w, 1, T0);
}

static void test_mega_coils(void **state)
{
    struct fix *f = *state;
    assert_int_equal(write1(f, MBMAP_MEGA, MBMAP_COILS, 100, 0), 0);
    assert_true(control_blocked(f->ctl, CONTROL_CHARGE));
    assert_false(control_blocked(f->ctl, CONTROL_DISCHARGE));
    struct control_state cs;
    control_get(f->ctl, &cs);
    assert_string_equal(cs.charge_by, "modbus coil 100");
    load(f, MBMAP_MEGA, &f->mega, T0);
    assert_false(f->mega.charge_enabled);
    assert_int_equal(write1(f, MBMAP_MEGA, MBMAP_COILS, 101, 0), 0);
    assert_true(control_blocked(f->ctl, CONTROL_DISCHARGE));
    assert_int_equal(write1(f, MBMAP_MEGA, MBMAP_COILS, 100, 1), 0);
    assert_false(control_blocked(f->ctl, CONTROL_CHARGE));
    assert_int_equal(control_ack_requests(f->ctl), 0);
    assert_int_equal(write1(f, MBMAP_MEGA, MBMAP_COILS, 102, 0), 0); /* 0 does nothing */
    assert_int_equal(control_ack_requests(f->ctl), 0);
    assert_int_equal(write1(f, MBMAP_MEGA, MBMAP_COILS, 102, 1), 0);
    assert_int_equal(control_ack_requests(f->ctl), 1);
    assert_int_equal(write1(f, MBMAP_MEGA, MBMAP_REGS, 1010, 3000), MBMAP_EX_ILLEGAL_ADDRESS);
}

static void test_pack12s_commands(void **state)
{
    struct fix *f = *state;
    assert_int_equal(write1(f, MBMAP_PACK12S, MBMAP_REGS, 6452, 0), 0); /* stored only */
    assert_false(control_blocked(f->ctl, CONTROL_CHARGE));
    assert_int_equal(write1(f, MBMAP_PACK12S, MBMAP_REGS, 6452, 1), 0);
    assert_true(control_blocked(f->ctl, CONTROL_CHARGE));
    assert_true(control_blocked(f->ctl, CONTROL_DISCHARGE));
    assert_int_equal(write1(f, MBMAP_PACK12S, MBMAP_REGS, 1596, 1), 0);
    load(f, MBMAP_PACK12S, &f->pack, T0);
    assert_int_equal(f->pack.cmd[MBMAP_PACK12S_CMD03], 1);
    assert_int_equal(f->pack.cmd[MBMAP_PACK12S_CMD04], 1);
    assert_true(f->pack.status_bits & MBMAP_PACK12S_ST_POWER_OFF);
    assert_int_equal(write1(f, MBMAP_PACK12S, MBMAP_REGS, 10077, 1), 0);
    assert_false(control_blocked(f->ctl, CONTROL_CHARGE));
    assert_false(control_blocked(f->ctl, CONTROL_DISCHARGE));
    load(f, MBMAP_PACK12S, &f->pack, T0);
    assert_false(f->pack.status_bits & MBMAP_PACK12S_ST_POWER_OFF);
    assert_int_equal(f->pack.cmd[MBMAP_PACK12S_CMD02], 1);
    assert_int_equal(write1(f, MBMAP_TESCOM, MBMAP_REGS, 0, 1), MBMAP_EX_ILLEGAL_ADDRESS);
}

static void test_testpattern_clock(void **state)
{
    struct fix *f = *state;
    struct mbtcp_data_info i = load(f, MBMAP_TESTPATTERN, &f->tp, T0 + 2500);
    assert_false(i.stale);
    assert_int_equal(f->tp.t, 2);
    assert_int_equal(i.valid_until_ms, T0 + 3000);
    assert_int_equal(f->tp.coils[0], 0); /* toggled twice */
    assert_int_equal(write1(f, MBMAP_TESTPATTERN, MBMAP_COILS, 0, 1), 0);
    load(f, MBMAP_TESTPATTERN, &f->tp, T0 + 2600);
    assert_int_equal(f->tp.coils[0], 1);
    assert_non_null(strstr(f->tp.hello_epoch, "Hello, World! "));
}

static void test_server_cfg_from_the_config(void **state)
{
    struct fix *f = *state;
    struct mbtcp_server_cfg sc;
    f->cfg.mbtcp.maps[1].word_order = CFG_WORDS_CDAB;
    f->cfg.mbtcp.maps[1].unit_id = 3;
    f->cfg.mbtcp.idle_timeout_s = 7;
    mbtcp_server_cfg_from(&sc, &f->cfg);
    assert_string_equal(sc.bind, "0.0.0.0");
    assert_int_equal(sc.max_connections, 64);
    assert_int_equal(sc.n_listeners, 2);
    assert_int_equal(sc.listeners[0].kind, MBMAP_MEGA);
    assert_int_equal(sc.listeners[0].port, 502);
    assert_int_equal(sc.listeners[1].kind, MBMAP_TESCOM);
    assert_int_equal(sc.listeners[1].word_order, MBMAP_WORDS_CDAB);
    assert_int_equal(sc.listeners[1].unit_id, 3);
    assert_int_equal(sc.policy.idle_timeout_ms, 7000);
    assert_int_equal(sc.policy.frame_timeout_ms, 2000);
    assert_false(sc.policy.allow_writes);
    assert_false(sc.simulator);
}

/* Port 0 stands for the map's default port, also when ports are compared. */
static void test_default_ports_in_validation(void **state)
{
    (void)state;
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    assert_int_equal(config_load_string(cfg,
                                        "modbus_tcp = { maps = ( { map = \"mega\"; },\n"
                                        "  { map = \"tescom\"; }, { map = \"pack12s\"; } ); };\n",
                                        "t.conf", &err),
                     0);
    assert_int_equal(config_load_string(cfg,
                                        "modbus_tcp = { maps = ( { map = \"mega\"; },\n"
                                        "  { map = \"tescom\"; port = 502; } ); };\n",
                                        "t.conf", &err),
                     -EINVAL);
    assert_string_equal(err.key, "modbus_tcp.maps[1].port");
    assert_non_null(strstr(err.msg, "502 is already used by modbus_tcp.maps[0]"));
    assert_int_equal(
        config_load_string(cfg,
                           "http = { port = 5020; };\n"
                           "modbus_tcp = { maps = ( { map = \"testpattern\"; } ); };\n",
                           "t.conf", &err),
        -EINVAL);
    assert_string_equal(err.key, "modbus_tcp.maps[0].port");
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_then_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_after_follows_the_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mega_coils, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack12s_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_testpattern_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_cfg_from_the_config, setup, teardown),
        cmocka_unit_test(test_default_ports_in_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
