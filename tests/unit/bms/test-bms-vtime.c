/* SPDX-License-Identifier: MIT */
/* test-bms-vtime.c — the generic poller with a second driver (a fake 24-cell BMS with three
 * sensors and no pages), on the virtual clock: the strings' ranges come from the driver, a
 * string goes offline when no sample was accepted for bms.stale_after_ms (not before, and within
 * one wake-up after), a lost device is reopened with the doubling backoff, and the link
 * recovers. Time moves only when the test moves it, so every bound here is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_driver.h"
#include "bmsgw/bms_service.h"
#include "bmsgw/battery_stages.h"
#include "bmsgw/bus.h"
#include "bmsgw/compose.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"
#include "bmsgw/snapshot.h"
#include "vclock.h"

#include "../../../src/bms/bms_link.h"

#define GIVE_UP_MS 30000 /* real time the test waits for the threads: a give-up limit */
#define STEP_MS    50
#define CELLS      24
#define SENSORS    3
#define LIVE_REGS  32
#define MAX_OPENS  16

/* ---- the fake BMS: one per string index, scripted by the test ----------------------------- */

struct fake {
    bool answer; /* read_live replies */
    bool open_fails;
    unsigned opens; /* open calls */
    int64_t open_ms[MAX_OPENS];
    uint16_t cell_mv;
};

static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fake fakes[2];
static struct vclock vc;

static int fake_open(struct bms_link *l, const struct bms_driver *drv, const struct cfg_port *port,
                     char *note, unsigned note_size)
{
    (void)drv;
    (void)note;
    (void)note_size;
    unsigned i = strcmp(port->name, "a") == 0 ? 0 : 1;
    pthread_mutex_lock(&fake_mu);
    struct fake *f = &fakes[i];
    if (f->opens < MAX_OPENS)
        f->open_ms[f->opens] = vclock_now_ms(&vc);
    f->opens++;
    bool fails = f->open_fails;
    pthread_mutex_unlock(&fake_mu);
    if (fails) {
        snprintf(l->error, sizeof(l->error), "fake: no such device");
        return -ENOENT;
    }
    return 0;
}

static void fake_close(struct bms_link *l)
{
    (void)l;
}

/* A made-up register layout: 0 cells, 1..24 mV, 25..27 sensors (0.1 degC), 28 pack 10 mV,
 * 29 current 0.1 A (signed), 30 SOC %, 31 a marker. */
static int fake_read_live(struct bms_link *l, uint16_t *regs)
{
    pthread_mutex_lock(&fake_mu);
    struct fake f = fakes[l->source];
    pthread_mutex_unlock(&fake_mu);
    l->n.requests++;
    if (!f.answer) {
        l->n.timeouts++;
        snprintf(l->error, sizeof(l->error), "fake: no reply");
        return -ETIMEDOUT;
    }
    regs[0] = CELLS;
    for (unsigned c = 0; c < CELLS; c++)
        regs[1 + c] = (uint16_t)(f.cell_mv + c);
    for (unsigned t = 0; t < SENSORS; t++)
        regs[25 + t] = (uint16_t)(200 + 10 * t);
    unsigned sum = 0;
    for (unsigned c = 0; c < CELLS; c++)
        sum += regs[1 + c];
    regs[28] = (uint16_t)(sum / 10);
    regs[29] = (uint16_t)(int16_t)-55;
    regs[30] = 80;
    regs[31] = 0xF00D;
    return 0;
}

static int fake_decode(const uint16_t *regs, struct bms_sample *out, char *why, size_t size)
{
    memset(out, 0, sizeof(*out));
    if (regs[31] != 0xF00D || regs[0] == 0 || regs[0] > CELLS) {
        snprintf(why, size, "fake: not a sample");
        return -EDOM;
    }
    out->cell_count = regs[0];
    for (unsigned c = 0; c < out->cell_count; c++) {
        out->cell_mv[c] = regs[1 + c];
        out->cell_flags[c] = c == 5 ? BMSGW_CELL_BALANCING : 0;
    }
    out->sensor_count = SENSORS;
    for (unsigned t = 0; t < SENSORS; t++)
        out->sensor_dc[t] = (int16_t)regs[25 + t];
    out->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    out->pack_v = regs[28] / 100.0;
    out->current_a = (int16_t)regs[29] / 10.0;
    out->soc_pct = regs[30];
    out->soh_pct = 100;
    out->state = BMSGW_BMS_DISCHARGING;
    out->status_code = 7;
    return 0;
}

static int fake_read(struct bms_link *l, uint16_t addr, uint16_t count, uint16_t *regs)
{
    (void)addr;
    (void)count;
    (void)regs;
    snprintf(l->error, sizeof(l->error), "fake: no pages");
    return -EREMOTEIO;
}

static void fake_apply(enum bms_page page, const uint16_t *regs, struct bmsgw_string *st,
                       int64_t read_ms)
{
    (void)page;
    (void)regs;
    (void)st;
    (void)read_ms;
    fail_msg("the fake has no pages: nothing to apply");
}

static unsigned fake_events(const uint16_t *regs, struct bmsgw_bms_event out[BMSGW_EVENTS_MAX])
{
    (void)regs;
    (void)out;
    return 0;
}

static int fake_check(const uint16_t *settings, unsigned addr, uint16_t raw, char *why, size_t size)
{
    (void)settings;
    (void)raw;
    snprintf(why, size, "register %u: the fake has no settings", addr);
    return -EINVAL;
}

static const char *fake_key(unsigned addr)
{
    (void)addr;
    return NULL;
}

static int fake_write(struct bms_link *l, uint16_t addr, uint16_t value)
{
    (void)addr;
    (void)value;
    snprintf(l->error, sizeof(l->error), "fake: read-only");
    return -EREMOTEIO;
}

static int fake_control(struct bms_link *l, enum bms_control what)
{
    (void)what;
    snprintf(l->error, sizeof(l->error), "fake: no commands");
    return -EREMOTEIO;
}

static const struct bms_driver fake_driver = {
    .name = "fake24",
    .bms_name = "Fake24",
    .max_cells = CELLS,
    .sensors = SENSORS,
    .open = fake_open,
    .close = fake_close,
    .live_count = LIVE_REGS,
    .read_live = fake_read_live,
    .decode_live = fake_decode,
    .read = fake_read,
    .apply_page = fake_apply,
    .decode_events = fake_events,
    .setting_check = fake_check,
    .setting_key = fake_key,
    .write = fake_write,
    .control = fake_control,
};

static const struct bms_driver *const drivers[] = { &fake_driver, NULL };

/* ---- the service on the virtual clock ------------------------------------------------------ */

static struct bmsgw_app app;
static struct service_registry reg;
static struct composer comp;
static struct bmsgw_system sys;

static void set_fake(unsigned i, bool answer, bool open_fails)
{
    pthread_mutex_lock(&fake_mu);
    fakes[i].answer = answer;
    fakes[i].open_fails = open_fails;
    pthread_mutex_unlock(&fake_mu);
}

static struct fake get_fake(unsigned i)
{
    pthread_mutex_lock(&fake_mu);
    struct fake f = fakes[i];
    pthread_mutex_unlock(&fake_mu);
    return f;
}

/* Let the service's threads (two pollers, the energy keeper) do what they can at this time,
 * then move the clock by ms in steps. */
static void run_for(int64_t ms)
{
    assert_true(vclock_wait_sleepers(&vc, 3, GIVE_UP_MS));
    for (int64_t done = 0; done < ms; done += STEP_MS) {
        vclock_advance(&vc, STEP_MS);
        assert_true(vclock_wait_sleepers(&vc, 3, GIVE_UP_MS));
    }
    snapshot_copy(app.snap, &sys);
}

static void start(char *dir, size_t dir_size)
{
    char conf[1024], dev[2][300];
    snprintf(dir, dir_size, "/tmp/bmsgw-vtime-XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (int i = 0; i < 2; i++) { /* the device path must exist: the poller checks it */
        snprintf(dev[i], sizeof(dev[i]), "%s/tty%d", dir, i);
        FILE *f = fopen(dev[i], "w");
        assert_non_null(f);
        fclose(f);
    }
    snprintf(conf, sizeof(conf),
             "state_dir = \"%s\";\n"
             "bms = { poll_interval_ms = 500; stale_after_ms = 2000; fail_threshold = 10;\n"
             "  reconnect_min_ms = 1000; reconnect_max_ms = 4000;\n"
             "  ports = ( { name = \"a\"; device = \"%s\"; }, { name = \"b\"; device = \"%s\"; } "
             "); };\n",
             dir, dev[0], dev[1]);
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    assert_int_equal(config_load_string(cfg, conf, "test", &err), 0);
    memset(fakes, 0, sizeof(fakes));
    fakes[0] = (struct fake){ .answer = true, .cell_mv = 3300 };
    fakes[1] = (struct fake){ .answer = true, .cell_mv = 3310 };
    vclock_init(&vc, 1000000);
    static const struct service_ops *const table[] = { &bms_service_ops, NULL };
    memset(&app, 0, sizeof(app));
    app.config = config_store_new(cfg, "test");
    app.snap = snapshot_new();
    app.bus = bus_new();
    app.control = control_new();
    app.services = &reg;
    app.clock = &vc.ops;
    app.bms_drivers = drivers;
    composer_init(&comp, app.config, app.control);
    battery_stages_register(&comp);
    snapshot_set_composer(app.snap, composer_run, &comp);
    log_open(LOG_TARGET_STDERR, LOG_ERR);
    services_init(&reg, &app, table);
    assert_int_equal(services_start(&reg, cfg), 1);
    free(cfg);
}

static void stop(const char *dir)
{
    services_stop(&reg, GIVE_UP_MS);
    services_deinit(&reg);
    control_free(app.control);
    bus_free(app.bus);
    snapshot_free(app.snap);
    config_store_free(app.config);
    vclock_destroy(&vc);
    char path[300];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/tty%d", dir, i);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/energy.json", dir);
    unlink(path);
    rmdir(dir);
}

/* Each string gets the range its driver needs: 24 cells and 3 sensors, one after the other. */
static void test_ranges_from_the_driver(void **state)
{
    (void)state;
    char dir[64];
    start(dir, sizeof(dir));
    run_for(0);
    assert_int_equal(sys.string_count, 2);
    for (unsigned i = 0; i < 2; i++) {
        const struct bmsgw_string *st = &sys.strings[i];
        assert_true(st->online);
        assert_string_equal(st->bms_name, "Fake24");
        assert_int_equal(st->cell_first, i * CELLS);
        assert_int_equal(st->cell_count, CELLS);
        assert_int_equal(st->sensor_first, i * SENSORS);
        assert_int_equal(st->sensor_count, SENSORS);
        assert_int_equal(st->state, BMSGW_BMS_DISCHARGING);
        assert_int_equal(st->max_cell_no, CELLS);
        assert_false(st->settings_valid); /* no pages: nothing claimed */
        unsigned base = i ? 3310 : 3300;
        for (unsigned c = 0; c < CELLS; c++)
            assert_int_equal(sys.cell_mv[st->cell_first + c], base + c);
        assert_int_equal(sys.cell_flags[st->cell_first + 5], BMSGW_CELL_BALANCING);
        assert_int_equal(sys.sensor_dc[st->sensor_first + 2], 220);
    }
    assert_int_equal(sys.cell_count, 2 * CELLS);
    assert_int_equal(sys.sensor_count, 2 * SENSORS);
    assert_int_equal(sys.agg.strings_online, 2);
    assert_int_equal(sys.agg.max_cell_mv, 3310 + CELLS - 1);
    assert_int_equal(sys.agg.max_cell.string, 1);
    assert_int_equal(sys.agg.max_cell.no, CELLS);
    stop(dir);
}

/* No accepted sample for stale_after_ms: offline after that much virtual time, not before, and
 * at the latest one wake-up (250 ms) later; the link itself is only degraded. */
static void test_stale_on_virtual_time(void **state)
{
    (void)state;
    char dir[64];
    start(dir, sizeof(dir));
    run_for(0);
    assert_true(sys.strings[0].online);
    int64_t last = sys.strings[0].sample_ms;
    set_fake(0, false, false);
    run_for(last + 2000 - vclock_now_ms(&vc));
    assert_true(sys.strings[0].online);
    assert_int_equal(sys.strings[0].link.state, BMSGW_LINK_DEGRADED);
    run_for(250);
    assert_false(sys.strings[0].online);
    assert_int_equal(sys.strings[0].sample_ms, last);
    assert_true(sys.strings[1].online); /* the other string goes on */
    assert_int_equal(sys.agg.strings_online, 1);
    stop(dir);
}

/* A device that will not open again is retried after reconnect_min_ms, then twice as long each
 * time up to reconnect_max_ms; once it opens and answers, the string is back online. */
static void test_backoff_on_virtual_time(void **state)
{
    (void)state;
    char dir[64];
    start(dir, sizeof(dir));
    run_for(0);
    set_fake(0, false, true);
    run_for(10 * 500 + 1000 + 2000 + 4000 + 4000 + 100); /* 10 failed cycles, then 4 retries */
    struct fake f = get_fake(0);
    assert_int_equal(sys.strings[0].link.state, BMSGW_LINK_DOWN);
    assert_false(sys.strings[0].online);
    assert_int_equal(f.opens, 5); /* the first open, then the four retries */
    /* down at the 10th failed cycle (+5000 ms), retried 1000 ms later, then after 2000, then
     * after 4000 (reconnect_max_ms) each time */
    assert_int_equal(f.open_ms[1] - f.open_ms[0], 10 * 500 + 1000);
    assert_int_equal(f.open_ms[2] - f.open_ms[1], 2000);
    assert_int_equal(f.open_ms[3] - f.open_ms[2], 4000);
    assert_int_equal(f.open_ms[4] - f.open_ms[3], 4000);
    set_fake(0, true, false);
    run_for(4000 + 500);
    assert_true(sys.strings[0].online);
    assert_int_equal(sys.strings[0].link.state, BMSGW_LINK_UP);
    assert_int_equal(get_fake(0).opens, 6);
    assert_int_equal(sys.strings[0].link.reconnects, 1);
    stop(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_from_the_driver),
        cmocka_unit_test(test_stale_on_virtual_time),
        cmocka_unit_test(test_backoff_on_virtual_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
