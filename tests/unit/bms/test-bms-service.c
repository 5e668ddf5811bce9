/* SPDX-License-Identifier: MIT */
/* test-bms-service.c — the "bms" service's threads in one process (run under ThreadSanitizer):
 * two pollers against two simulators on PTYs, the snapshot, the event bus, a settings write
 * through the command queue, stop and the energy file. */
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
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_cmd.h"
#include "bmsgw/bms_service.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/battery_stages.h"
#include "bmsgw/compose.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/tinybms_sim.h"

/* How long the test waits for what the threads must do: a give-up limit, never a measurement. */
#define GIVE_UP_MS 30000

struct sim_thread {
    pthread_t t;
    int stop_efd;
    char path[128];
    struct tinybms_sim_opts o;
    int rc;
};

static void *sim_main(void *arg)
{
    struct sim_thread *s = arg;
    s->rc = tinybms_sim_run(&s->o, s->stop_efd);
    return NULL;
}

static void sim_start(struct sim_thread *s, const char *dir, int n, double current_a)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s/tty%d", dir, n);
    tinybms_sim_params_default(&s->o.params);
    s->o.params.seed = (uint64_t)n + 7;
    s->o.device = s->path;
    s->o.initial_current_a = current_a;
    s->o.quiet = true;
    s->stop_efd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(pthread_create(&s->t, NULL, sim_main, s), 0);
    struct stat st;
    for (int64_t end = clock_mono_ms() + GIVE_UP_MS; stat(s->path, &st) != 0;) {
        if (clock_mono_ms() > end)
            break;
        clock_sleep_ms(10);
    }
    assert_int_equal(stat(s->path, &st), 0);
}

static void sim_stop(struct sim_thread *s)
{
    uint64_t one = 1;
    assert_int_equal(write(s->stop_efd, &one, sizeof(one)), (ssize_t)sizeof(one));
    pthread_join(s->t, NULL);
    close(s->stop_efd);
    assert_int_equal(s->rc, 0);
}

static bool both_online(struct snapshot *snap, struct bmsgw_system *sys)
{
    snapshot_copy(snap, sys);
    return sys->string_count == 2 && sys->strings[0].online && sys->strings[1].online &&
           sys->strings[0].settings_valid && sys->strings[1].settings_valid;
}

static unsigned count_events(struct bus_sub *sub, const char *type)
{
    struct bus_msg m;
    unsigned n = 0;
    char needle[64];
    snprintf(needle, sizeof(needle), "\"type\":\"%s\"", type);
    while (bus_pop(sub, &m)) {
        struct bmsgw_event e;
        if (!bmsgw_event_from_msg(&m, &e))
            continue;
        json_t *j = bmsgw_event_to_json(&e, 0, 0); /* as the bus carried it when it was text */
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text && strstr(text, needle))
            n++;
        free(text);
        json_decref(j);
    }
    return n;
}

static void test_two_strings(void **state)
{
    (void)state;
    char dir[] = "/tmp/bmsgw-svc-XXXXXX", conf[1024], path[300];
    assert_non_null(mkdtemp(dir));
    struct sim_thread sims[2];
    sim_start(&sims[0], dir, 0, -10);
    sim_start(&sims[1], dir, 1, 5);
    /* a reply timeout no pause of the simulator threads reaches: a link that goes down and up
     * again would announce link_up twice */
    snprintf(conf, sizeof(conf),
             "state_dir = \"%s\";\n"
             "bms = { poll_interval_ms = 100; slow_interval_ms = 1000; timeout_ms = 2000;\n"
             "  ports = ( { name = \"a\"; device = \"%s\"; }, { name = \"b\"; device = \"%s\"; } "
             "); };\n",
             dir, sims[0].path, sims[1].path);
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    assert_int_equal(config_load_string(cfg, conf, "test", &err), 0);

    static struct bmsgw_app app;
    static struct service_registry reg;
    static struct composer comp;
    static struct bmsgw_system sys;
    static const struct service_ops *const table[] = { &bms_service_ops, NULL };
    app.config = config_store_new(cfg, "test");
    app.snap = snapshot_new();
    app.bus = bus_new();
    app.control = control_new();
    app.services = &reg;
    app.bms_cmdq[0] = cmdq_new(4);
    app.bms_cmdq[1] = cmdq_new(4);
    composer_init(&comp, app.config, app.control);
    battery_stages_register(&comp);
    snapshot_set_composer(app.snap, composer_run, &comp);
    struct bus_sub *sub = bus_subscribe(app.bus, BUS_EVENT | BUS_UART, 8192, NULL, NULL);
    log_open(LOG_TARGET_STDERR, LOG_ERR);

    services_init(&reg, &app, table);
    assert_int_equal(services_start(&reg, cfg), 1);
    int64_t deadline = clock_mono_ms() + GIVE_UP_MS;
    while (!both_online(app.snap, &sys) && clock_mono_ms() < deadline)
        snapshot_wait(app.snap, sys.generation, 200);
    assert_true(both_online(app.snap, &sys));
    assert_int_equal(sys.agg.strings_online, 2);
    assert_true(sys.agg.current_a > -5.5 && sys.agg.current_a < -4.5);
    assert_int_equal(sys.strings[1].cell_first, 16);
    assert_int_equal(count_events(sub, "link_up"), 2);

    struct cmdq_req req = { .op = BMS_CMD_WRITE_SETTING, .arg = { 315, 3600 } };
    assert_int_equal(cmdq_call(app.bms_cmdq[1], &req, GIVE_UP_MS), 0);
    assert_int_equal(req.out[0], 3600);
    snapshot_copy(app.snap, &sys);
    assert_int_equal(sys.strings[1].settings_reg[15], 3600);
    assert_int_equal(sys.strings[0].settings_reg[15], 3650);

    services_stop(&reg, GIVE_UP_MS);
    services_deinit(&reg);
    struct cmdq_req late = { .op = BMS_CMD_READ_SETTINGS };
    assert_int_equal(cmdq_call(app.bms_cmdq[0], &late, 100), -ESHUTDOWN);
    sim_stop(&sims[0]);
    sim_stop(&sims[1]);
    snprintf(path, sizeof(path), "%s/energy.json", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    unlink(path);
    rmdir(dir);

    bus_unsubscribe(app.bus, sub);
    cmdq_free(app.bms_cmdq[0]);
    cmdq_free(app.bms_cmdq[1]);
    control_free(app.control);
    bus_free(app.bus);
    snapshot_free(app.snap);
    config_store_free(app.config);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
