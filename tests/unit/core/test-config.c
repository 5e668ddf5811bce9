/* SPDX-License-Identifier: MIT */
/* test-config.c — the file parser, defaults, presets, overlay, broken fixtures, restart diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/bms_driver.h"
#include "bmsgw/config.h"
#include "bmsgw/config_schema.h"
#include "bmsgw/mbmap.h"
#include "bmsgw/victron.h"

static struct bmsgw_config *cfg_alloc(void)
{
    struct bmsgw_config *c = malloc(sizeof(*c));
    assert_non_null(c);
    return c;
}

static char *fmt_err(const struct cfg_error *e)
{
    static char buf[800];
    return (char *)cfg_error_str(e, buf, sizeof(buf));
}

static void test_defaults(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    config_defaults(c);
    assert_int_equal(c->bms.poll_interval_ms, 250);
    assert_int_equal(c->bms.stale_after_ms, 3000);
    assert_int_equal(c->bms.port_count, 1);
    assert_string_equal(c->bms.ports[0].name, "house");
    assert_string_equal(c->bms.ports[0].device, "/dev/ttyUSB0");
    assert_true(c->can.enabled);
    assert_string_equal(c->can.interface, "can0");
    assert_int_equal(c->can.on_stale, CFG_STALE_SILENCE);
    assert_int_equal(c->can.period_ms[cfg_can_period_slot(0x351)], 1000);
    assert_int_equal(c->can.period_ms[cfg_can_period_slot(0x378)], 10000);
    assert_int_equal(c->limits.cell_charge_mv, 3450);
    assert_int_equal(c->limits.cell_float_mv, 3375);
    assert_int_equal(c->limits.ccl_cell.n_x, 5);
    assert_int_equal(c->limits.ccl_cell.x[0], 3375);
    assert_true(c->limits.ccl_temp.f[3] == 1.0);
    assert_int_equal(c->mbtcp.map_count, 2);
    assert_int_equal(c->mbtcp.maps[0].kind, CFG_MAP_MEGA);
    assert_int_equal(c->mbtcp.maps[1].port, 1502);
    assert_int_equal(c->http.port, 8080);
    assert_int_equal(c->ws.port, 8081);
    free(c);
}

/* The default ports live in the config's map-kind table; the maps are found by the same kind. */
static void test_map_default_ports(void **state)
{
    (void)state;
    static const int want[] = { 502, 1502, 7001, 5020 };
    for (int k = 0; k < 4; k++) {
        assert_int_equal(config_map_default_port(k), want[k]);
        assert_non_null(mbmap_get(k));
        assert_string_equal(mbmap_get(k)->name, config_map_kind_name(k));
    }
    assert_int_equal(config_map_default_port(4), 0);
    assert_int_equal(config_map_default_port(-1), 0);
}

static void test_minimal_and_full_syntax(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(config_load_string(c, "", "empty", &e), 0);
    const char *text = "state_dir = \"/tmp/x\";\n"
                       "bms = { poll_interval_ms = 500; ports = ( { name = \"boat\"; device = "
                       "\"/dev/ttyUSB3\"; rts = \"up\"; } ); };\n"
                       "limits = { max_charge_current_a = 80; ccl_temp_factor = [0.0, 0.5, 1.0, "
                       "1.0, 1.0, 0.5, 0.25, 0.0]; };\n"
                       "modbus_tcp = { maps = ( { map = \"pack12s\"; }, { map = \"testpattern\";"
                       " word_order = \"cdab\"; } ); };\n";
    assert_int_equal(config_load_string(c, text, "t", &e), 0);
    assert_string_equal(c->state_dir, "/tmp/x");
    assert_int_equal(c->bms.poll_interval_ms, 500);
    assert_int_equal(c->bms.port_count, 1);
    assert_string_equal(c->bms.ports[0].name, "boat");
    assert_int_equal(c->bms.ports[0].rts, CFG_RTS_UP);
    assert_true(c->limits.max_charge_current_a == 80.0); /* an integer is fine for a number */
    assert_true(c->limits.ccl_temp.f[2] == 1.0);
    assert_int_equal(c->mbtcp.maps[0].kind, CFG_MAP_PACK12S);
    assert_int_equal(c->mbtcp.maps[0].port, 7001); /* 0 = the map's default port */
    assert_int_equal(c->mbtcp.maps[1].port, 5020);
    assert_int_equal(c->mbtcp.maps[1].word_order, CFG_WORDS_CDAB);
    /* libconfig arrays are homogeneous: the error says how to write it */
    assert_int_equal(config_load_string(c, "limits = { ccl_temp_factor = [0.0, 1]; };", "t", &e),
                     -EINVAL);
    assert_non_null(strstr(fmt_err(&e), "t:1: syntax error: mismatched element type in array "
                                        "(every element of an array must have the same type"));
    free(c);
}

static void test_port_name_default(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(config_load_string(c,
                                        "bms = { ports = ( { device = \"/dev/a\"; }, { device = "
                                        "\"/dev/b\"; } ); };",
                                        "t", &e),
                     0);
    assert_string_equal(c->bms.ports[0].name, "string1");
    assert_string_equal(c->bms.ports[1].name, "string2");
    free(c);
}

/* bms.ports[].type picks the driver; tinybms is the default and the only one so far. */
static void test_port_type(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(cfg_bms_driver_count(), 1);
    assert_string_equal(cfg_bms_driver_name(0), "tinybms");
    assert_null(cfg_bms_driver_name(1));
    assert_int_equal(config_load_string(c,
                                        "bms = { ports = ( { device = \"/dev/a\"; }, { device = "
                                        "\"/dev/b\"; type = \"tinybms\"; } ); };",
                                        "t", &e),
                     0);
    assert_ptr_equal(bms_driver_of(&c->bms.ports[0]), &tinybms_driver);
    assert_ptr_equal(bms_driver_of(&c->bms.ports[1]), &tinybms_driver);
    assert_int_equal(tinybms_driver.link.baud, 115200);
    assert_int_equal(config_load_string(
                         c, "bms = { ports = ( { device = \"/dev/a\"; type = 1; } ); };", "t", &e),
                     -EINVAL);
    assert_non_null(strstr(fmt_err(&e), "bms.ports[0].type: must be one of tinybms (a string)"));
    free(c);
}

static void test_chemistry_presets(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(config_load_string(c, "limits = { chemistry = \"nmc\"; };", "t", &e), 0);
    assert_int_equal(c->limits.cell_charge_mv, 4100);
    assert_int_equal(c->limits.ccl_cell.x[3], 4100);
    /* an explicit key wins over the preset */
    assert_int_equal(config_load_string(c,
                                        "limits = { chemistry = \"nmc\"; cell_charge_mv = 4150;"
                                        " };",
                                        "t", &e),
                     0);
    assert_int_equal(c->limits.cell_charge_mv, 4150);
    assert_int_equal(c->limits.cell_float_mv, 4000);
    free(c);
}

struct fixture_case {
    const char *file;
    int line;
    const char *key;
    const char *msg_part;
};

static const struct fixture_case fixtures[] = {
    { "unknown-key.conf", 3, "bms.poll_intervall_ms",
      "unknown key; allowed in bms: poll_interval_ms" },
    { "wrong-type.conf", 3, "bms.poll_interval_ms", "must be an integer ms, 100..5000" },
    { "out-of-range.conf", 3, "bms.poll_interval_ms", "must be 100..5000 ms (got 50)" },
    { "bad-syntax.conf", 3, "", "syntax error" },
    { "duplicate-device.conf", 5, "bms.ports[1].device", "already used by bms.ports[0]" },
    { "float-above-charge.conf", 4, "limits.cell_float_mv",
      "must not exceed limits.cell_charge_mv (3450 mV)" },
    { "pylon-manufacturer.conf", 3, "can.manufacturer", "contains PYLON: the GX would take" },
    { "lg-family.conf", 3, "can.battery_family", "contains LG: the GX would take" },
    { "cutoff-below-charge.conf", 3, "alarms.cell_high_mv",
      "3480 mV is below limits.cell_charge_mv + 50 mV (3500 mV)" },
    { "too-many-cells.conf", 3, "bms.ports[0].cells", "0..48" },
    { "cells-above-driver.conf", 3, "bms.ports[0].cells",
      "a tinybms handles at most 16 series cells (got 24)" },
    { "unknown-bms-type.conf", 3, "bms.ports[0].type", "must be one of tinybms (got \"daly\")" },
    { "bad-enum.conf", 3, "can.on_stale", "must be one of silence, block (got \"ignore\")" },
    { "unknown-can-protocol.conf", 3, "can.protocol",
      "must be one of victron (got \"pylontech\")" },
    { "unknown-group.conf", 2, "influxdb",
      "unknown key; allowed at top level: state_dir, log, bms" },
    { "mqtt-gateway-id.conf", 3, "mqtt.gateway_id", "may only contain a-z, 0-9, _ and -" },
};

/* spec/victron-can.md "What the GX does with the names" */
static void test_gx_names(void **state)
{
    (void)state;
    static const struct {
        const char *name, *found;
    } cases[] = {
        { "Pylontech", "PYLON" }, { "my pylon clone", "PYLON" },
        { "BYD B-Box", "BYD" },   { "xbydx", "BYD" },
        { "Pelio-L", "PELIO" },   { "LG", "LG" },
        { "LG Chem", "LG" },      { "LG-RESU", "LG" },
        { "resu lg", "LG" },      { "BULGARIA", NULL },
        { "TinyBMS", NULL },      { "Energus", NULL },
        { "LGX", NULL },          { "", NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = victron_gx_quirk_name(cases[i].name);
        if ((got == NULL) != (cases[i].found == NULL) || (got && strcmp(got, cases[i].found) != 0))
            fail_msg("\"%s\": got %s, expected %s", cases[i].name, got ? got : "none",
                     cases[i].found ? cases[i].found : "none");
    }
}

static void test_broken_fixtures(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        struct cfg_error e;
        char path[512], expect_prefix[600];
        snprintf(path, sizeof(path), "%s/config/%s", FIXTURES_DIR, fixtures[i].file);
        assert_int_equal(config_load(c, path, "", &e), -EINVAL);
        const char *msg = fmt_err(&e);
        snprintf(expect_prefix, sizeof(expect_prefix), "%s:%d: %s", path, fixtures[i].line,
                 fixtures[i].key);
        if (strncmp(msg, expect_prefix, strlen(expect_prefix)) != 0 ||
            !strstr(msg, fixtures[i].msg_part))
            fail_msg("%s: got \"%s\"", fixtures[i].file, msg);
    }
    free(c);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(config_load(c, FIXTURES_DIR "/config/does-not-exist.conf", "", &e), -EINVAL);
    assert_non_null(strstr(fmt_err(&e), "does-not-exist.conf: cannot read the file: No such file"));
    free(c);
}

static void test_string_limits(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(config_load_string(c, "can = { manufacturer = \"ABCDEFGHI\"; };", "t", &e),
                     -EINVAL);
    assert_string_equal(e.key, "can.manufacturer");
    assert_non_null(strstr(e.msg, "1..8 characters long (got 9)"));
    assert_int_equal(config_load_string(c, "can = { battery_name = \"Bat\\xe9\"; };", "t", &e),
                     -EINVAL);
    assert_non_null(strstr(e.msg, "printable ASCII"));
    free(c);
}

static void test_tables_checked(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(
        config_load_string(c, "limits = { ccl_cell_mv = [3400, 3300, 3500]; };", "t", &e), -EINVAL);
    assert_string_equal(e.key, "limits.ccl_cell_mv");
    assert_int_equal(config_load_string(c,
                                        "limits = { ccl_cell_mv = [3300, 3400, 3500]; "
                                        "ccl_cell_factor = [1.0, 0.0]; };",
                                        "t", &e),
                     -EINVAL);
    assert_string_equal(e.key, "limits.ccl_cell_factor");
    assert_non_null(strstr(e.msg, "as many elements"));
    assert_int_equal(config_load_string(c, "limits = { dcl_cell_factor = [0.0, 1.5]; };", "t", &e),
                     -EINVAL);
    assert_non_null(strstr(e.msg, "element 2 must be 0..1 (got 1.5)"));
    free(c);
}

static void test_overlay_applies_on_top(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc();
    struct cfg_error e;
    char dir[] = "/tmp/bmsgw-cfg-XXXXXX";
    char base[128], overlay[160];
    assert_non_null(mkdtemp(dir));
    snprintf(base, sizeof(base), "%s/bmsgw.conf", dir);
    snprintf(overlay, sizeof(overlay), "%s/runtime.conf", dir);
    FILE *f = fopen(base, "w");
    fprintf(f, "state_dir = \"%s\";\nbms = { poll_interval_ms = 300; };\n", dir);
    fclose(f);
    f = fopen(overlay, "w");
    fprintf(f, "bms = { poll_interval_ms = 400; };\nalarms = { imbalance_alarm_mv = 90; };\n");
    fclose(f);
    assert_int_equal(config_load(c, base, NULL, &e), 0);
    assert_int_equal(c->bms.poll_interval_ms, 400);
    assert_int_equal(c->alarms.imbalance_alarm_mv, 90);
    /* errors in the overlay name the overlay */
    f = fopen(overlay, "w");
    fprintf(f, "\nbms = { poll_interval_ms = 1; };\n");
    fclose(f);
    assert_int_equal(config_load(c, base, NULL, &e), -EINVAL);
    assert_string_equal(e.file, overlay);
    assert_int_equal(e.line, 2);
    unlink(overlay);
    unlink(base);
    rmdir(dir);
    free(c);
}

static void test_restart_keys(void **state)
{
    (void)state;
    struct bmsgw_config *a = cfg_alloc(), *b = cfg_alloc();
    char keys[256];
    config_defaults(a);
    *b = *a;
    assert_int_equal(config_restart_keys(a, b, keys, sizeof(keys)), 0);
    b->bms.poll_interval_ms = 500; /* live */
    assert_int_equal(config_restart_keys(a, b, keys, sizeof(keys)), 0);
    b->http.port = 9090;
    snprintf(b->bms.ports[0].device, sizeof(b->bms.ports[0].device), "/dev/ttyUSB1");
    assert_int_equal(config_restart_keys(a, b, keys, sizeof(keys)), 2);
    assert_string_equal(keys, "bms.ports,http.port");
    free(a);
    free(b);
}

static void test_shipped_conf_is_generated(void **state)
{
    (void)state;
    char *gen = NULL, *shipped = NULL;
    size_t gen_len = 0;
    FILE *m = open_memstream(&gen, &gen_len);
    cfg_write_conf(m);
    fclose(m);
    FILE *f = fopen(SOURCE_DIR "/conf/bmsgw.conf", "r");
    assert_non_null(f);
    shipped = calloc(1, gen_len + 2);
    size_t n = fread(shipped, 1, gen_len + 1, f);
    fclose(f);
    if (n != gen_len || memcmp(gen, shipped, gen_len) != 0)
        fail_msg("conf/bmsgw.conf is not the generated one: run ninja -C build docs");
    free(gen);
    free(shipped);
}

static void test_shipped_conf_loads(void **state)
{
    (void)state;
    struct bmsgw_config *c = cfg_alloc(), *d = cfg_alloc();
    struct cfg_error e;
    assert_int_equal(config_load(c, SOURCE_DIR "/conf/bmsgw.conf", "", &e), 0);
    config_defaults(d);
    assert_memory_equal(c, d, sizeof(*c)); /* every key commented out: the defaults */
    free(c);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_minimal_and_full_syntax),
        cmocka_unit_test(test_port_name_default),
        cmocka_unit_test(test_port_type),
        cmocka_unit_test(test_chemistry_presets),
        cmocka_unit_test(test_gx_names),
        cmocka_unit_test(test_broken_fixtures),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_tables_checked),
        cmocka_unit_test(test_overlay_applies_on_top),
        cmocka_unit_test(test_restart_keys),
        cmocka_unit_test(test_shipped_conf_is_generated),
        cmocka_unit_test(test_shipped_conf_loads),
        cmocka_unit_test(test_map_default_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
