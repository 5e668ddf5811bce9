/* SPDX-License-Identifier: MIT */
/* test-can-service.c — the CAN thread on a fake link: degraded start, the frames, silence and
 * block on stale data, urgent sends, inverter detection, ENOBUFS, bus-off, lost interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/can/error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bus.h"
#include "bmsgw/can.h"
#include "bmsgw/clock.h"
#include "bmsgw/compose.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/victron.h"
#include "sysgen.h"

#define MAX_SENT 20000
#define WAIT_MS  8000

struct sent {
    int64_t t_ms;
    struct can_frame_io f;
};

/* The fake link: records sends, serves injected frames, fails on demand. */
struct fake {
    pthread_mutex_t lock;
    int efd; /* readable while rx frames wait */
    int open_rc;
    int send_rc;
    int opens;
    int restarts;
    unsigned n_sent;
    struct sent sent[MAX_SENT];
    unsigned n_rx, rx_pos;
    struct can_frame_io rx[16];
};

static int f_open(void *ctx, const char *ifname, char *why, size_t size)
{
    struct fake *k = ctx;
    pthread_mutex_lock(&k->lock);
    int rc = k->open_rc;
    k->opens++;
    pthread_mutex_unlock(&k->lock);
    if (rc < 0) {
        snprintf(why, size, "interface %s missing", ifname);
        return rc;
    }
    return k->efd;
}

static void f_close(void *ctx, int fd)
{
    (void)ctx;
    (void)fd;
}

static int f_send(void *ctx, int fd, const struct can_frame_io *f)
{
    struct fake *k = ctx;
    (void)fd;
    pthread_mutex_lock(&k->lock);
    int rc = k->send_rc;
    if (rc == 0 && k->n_sent < MAX_SENT)
        k->sent[k->n_sent++] = (struct sent){ .t_ms = clock_mono_ms(), .f = *f };
    pthread_mutex_unlock(&k->lock);
    return rc;
}

static int f_recv(void *ctx, int fd, struct can_frame_io *f)
{
    struct fake *k = ctx;
    uint64_t v;
    (void)fd;
    pthread_mutex_lock(&k->lock);
    int rc = 0;
    if (k->rx_pos < k->n_rx) {
        *f = k->rx[k->rx_pos++];
        rc = 1;
    } else if (read(k->efd, &v, sizeof(v)) < 0) {
        rc = 0;
    }
    pthread_mutex_unlock(&k->lock);
    return rc;
}

static int f_state(void *ctx, const char *ifname, uint8_t *st)
{
    (void)ctx;
    (void)ifname;
    (void)st;
    return -EOPNOTSUPP;
}

static int f_bitrate(void *ctx, const char *ifname, uint32_t *br)
{
    (void)ctx;
    (void)ifname;
    (void)br;
    return -EOPNOTSUPP;
}

static int f_set_bitrate(void *ctx, const char *ifname, uint32_t br)
{
    (void)ctx;
    (void)ifname;
    (void)br;
    return -EOPNOTSUPP;
}

static int f_restart(void *ctx, const char *ifname)
{
    struct fake *k = ctx;
    (void)ifname;
    pthread_mutex_lock(&k->lock);
    k->restarts++;
    pthread_mutex_unlock(&k->lock);
    return 0;
}

static const struct can_link_ops fake_ops = {
    .open = f_open,
    .close = f_close,
    .send = f_send,
    .recv = f_recv,
    .get_state = f_state,
    .get_bitrate = f_bitrate,
    .set_bitrate = f_set_bitrate,
    .restart = f_restart,
};

static void inject(struct fake *k, struct can_frame_io f)
{
    uint64_t one = 1;
    pthread_mutex_lock(&k->lock);
    if (k->rx_pos == k->n_rx)
        k->rx_pos = k->n_rx = 0;
    k->rx[k->n_rx++] = f;
    assert_int_equal(write(k->efd, &one, sizeof(one)), sizeof(one));
    pthread_mutex_unlock(&k->lock);
}

struct fx {
    struct fake fake;
    struct bmsgw_app app;
    struct composer comp;
    struct service svc;
    struct bmsgw_system *tmpl;
    bool started;
};

static struct fx *fx_new(void (*tune)(struct bmsgw_config *))
{
    struct fx *x = calloc(1, sizeof(*x));
    struct bmsgw_config cfg;
    config_defaults(&cfg);
    snprintf(cfg.can.interface, sizeof(cfg.can.interface), "fake0");
    cfg.bms.poll_interval_ms = 100;
    cfg.bms.stale_after_ms = 500;
    cfg.can.restart_min_ms = 100;
    cfg.can.restart_max_ms = 1000;
    if (tune)
        tune(&cfg);
    pthread_mutex_init(&x->fake.lock, NULL);
    x->fake.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    x->app.config = config_store_new(&cfg, "test.conf");
    x->app.snap = snapshot_new();
    x->app.bus = bus_new();
    x->app.control = control_new();
    composer_init(&x->comp, x->app.config, x->app.control);
    snapshot_set_composer(x->app.snap, composer_run, &x->comp);
    x->tmpl = sysgen_new(1, 16, 2, 3300, 250, 1);
    service_init(&x->svc, &can_service_ops, &x->app);
    return x;
}

static void fx_start(struct fx *x)
{
    assert_int_equal(can_service_start_with(&x->svc, &fake_ops, &x->fake), 0);
    x->started = true;
}

static void fx_free(struct fx *x)
{
    if (x->started)
        assert_int_equal(can_service_ops.stop(&x->svc, 3000), 0);
    service_deinit(&x->svc);
    snapshot_free(x->app.snap);
    bus_free(x->app.bus);
    control_free(x->app.control);
    config_store_free(x->app.config);
    close(x->fake.efd);
    pthread_mutex_destroy(&x->fake.lock);
    free(x->tmpl);
    free(x);
}

/* Publish the template as a fresh sample. */
static void commit(struct fx *x)
{
    int64_t now = clock_mono_ms();
    struct bmsgw_system *w = snapshot_write_begin(x->app.snap);
    memcpy(w, x->tmpl, sizeof(*w));
    w->strings[0].sample_ms = now;
    snapshot_write_commit(x->app.snap, now);
}

/* Commit fresh samples every 100 ms for ms milliseconds. */
static void feed(struct fx *x, int ms)
{
    for (int64_t end = clock_mono_ms() + ms; clock_mono_ms() < end;) {
        commit(x);
        clock_sleep_ms(100);
    }
}

static unsigned n_sent(struct fx *x)
{
    pthread_mutex_lock(&x->fake.lock);
    unsigned n = x->fake.n_sent;
    pthread_mutex_unlock(&x->fake.lock);
    return n;
}

static struct sent sent_at(struct fx *x, unsigned i)
{
    pthread_mutex_lock(&x->fake.lock);
    struct sent s = x->fake.sent[i];
    pthread_mutex_unlock(&x->fake.lock);
    return s;
}

/* The newest frame with id sent at or after index from; returns its index or -1. */
static int last_with_id(struct fx *x, unsigned from, uint32_t id)
{
    int found = -1;
    for (unsigned i = from; i < n_sent(x); i++)
        if (sent_at(x, i).f.id == id)
            found = (int)i;
    return found;
}

static int opens(struct fx *x)
{
    pthread_mutex_lock(&x->fake.lock);
    int n = x->fake.opens;
    pthread_mutex_unlock(&x->fake.lock);
    return n;
}

static void health(struct fx *x, struct bmsgw_can_health *h)
{
    struct bmsgw_system *s = malloc(sizeof(*s));
    snapshot_copy(x->app.snap, s);
    *h = s->can;
    free(s);
}

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int64_t end_ = clock_mono_ms() + WAIT_MS;                                                  \
        while (!(cond) && clock_mono_ms() < end_)                                                  \
            clock_sleep_ms(10);                                                                    \
        if (!(cond))                                                                               \
            fail_msg("timed out waiting for " #cond);                                              \
    } while (0)

/* The same, committing fresh samples every 100 ms meanwhile (the data must not go stale). */
#define WAIT_FEEDING(x, cond)                                                                      \
    do {                                                                                           \
        int64_t end_ = clock_mono_ms() + WAIT_MS;                                                  \
        while (!(cond) && clock_mono_ms() < end_) {                                                \
            commit(x);                                                                             \
            for (int k_ = 0; k_ < 10 && !(cond); k_++)                                             \
                clock_sleep_ms(10);                                                                \
        }                                                                                          \
        if (!(cond))                                                                               \
            fail_msg("timed out waiting for " #cond);                                              \
    } while (0)

static enum service_state svc_state(struct fx *x, char *why, size_t size)
{
    struct service_status st;
    service_get_status(&x->svc, &st);
    if (why)
        snprintf(why, size, "%s", st.last_error);
    return st.state;
}

static void test_missing_interface_degrades_and_retries(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    char why[160];
    x->fake.open_rc = -ENODEV;
    fx_start(x);
    WAIT_FOR(svc_state(x, why, sizeof(why)) == SERVICE_DEGRADED);
    assert_string_equal(why, "interface fake0 missing, retrying");
    WAIT_FOR(opens(x) >= 3); /* 100, 200, 400 ms backoff */
    assert_true(service_healthy(&x->svc, clock_mono_ms()));
    pthread_mutex_lock(&x->fake.lock);
    x->fake.open_rc = 0;
    pthread_mutex_unlock(&x->fake.lock);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    fx_free(x);
}

static void short_periods(struct bmsgw_config *c)
{
    for (unsigned f = 0; f < BMSGW_CAN_FRAME_COUNT; f++)
        c->can.period_ms[f] = 200;
}

static void test_every_frame_and_only_those(void **state)
{
    (void)state;
    struct fx *x = fx_new(short_periods);
    fx_start(x);
    feed(x, 1500);
    bool seen[BMSGW_CAN_FRAME_COUNT] = { false };
    for (unsigned i = 0; i < n_sent(x); i++) {
        struct sent s = sent_at(x, i);
        const struct victron_frame *fr = victron_frame_by_id(s.f.id);
        if (!fr || fr->period_ms == 0)
            fail_msg("frame 0x%03X is not one of the 19", s.f.id);
        assert_int_equal(s.f.dlc, 8);
        seen[fr - victron_frames] = true;
    }
    for (unsigned f = 0; f < BMSGW_CAN_FRAME_COUNT; f++)
        if (!seen[f])
            fail_msg("0x%03X never sent", victron_frames[f].id);
    int i = last_with_id(x, 0, 0x351);
    assert_true(i >= 0);
    assert_int_equal(sent_at(x, i).f.data[0], 0x28); /* CVL 55.2 V */
    assert_int_equal(sent_at(x, i).f.data[1], 0x02);
    struct bmsgw_can_health h;
    health(x, &h);
    assert_true(h.sending);
    assert_true(h.tx_frames >= n_sent(x) - 1);
    assert_string_equal(h.interface, "fake0");
    fx_free(x);
}

static void test_silence_on_stale_and_resume(void **state)
{
    (void)state;
    struct fx *x = fx_new(short_periods);
    fx_start(x);
    feed(x, 600);
    WAIT_FOR(n_sent(x) > 10);
    /* no more samples: stale after 500 ms, then nothing at all is sent */
    clock_sleep_ms(800);
    unsigned n = n_sent(x);
    clock_sleep_ms(600);
    assert_int_equal(n_sent(x), n);
    struct bmsgw_can_health h;
    health(x, &h);
    assert_false(h.sending);
    feed(x, 500);
    WAIT_FOR(n_sent(x) > n);
    fx_free(x);
}

static void block_policy(struct bmsgw_config *c)
{
    short_periods(c);
    c->can.on_stale = CFG_STALE_BLOCK;
}

static void test_block_on_stale(void **state)
{
    (void)state;
    struct fx *x = fx_new(block_policy);
    fx_start(x);
    feed(x, 600);
    clock_sleep_ms(800);
    unsigned from = n_sent(x);
    clock_sleep_ms(800);
    int i = last_with_id(x, from, 0x351);
    assert_true(i >= 0);
    struct sent s = sent_at(x, i);
    assert_int_equal(s.f.data[2] | s.f.data[3] | s.f.data[4] | s.f.data[5], 0); /* CCL=DCL=0 */
    assert_int_equal(s.f.data[0] | s.f.data[1] << 8, 528); /* CVL = last pack voltage 52.8 V */
    i = last_with_id(x, from, 0x35A);
    assert_true(i >= 0);
    assert_int_equal(sent_at(x, i).f.data[0] & 3, 1);   /* general alarm */
    assert_int_equal(last_with_id(x, from, 0x355), -1); /* no frozen measurements */
    assert_int_equal(last_with_id(x, from, 0x356), -1);
    assert_int_equal(last_with_id(x, from, 0x373), -1);
    i = last_with_id(x, from, 0x372);
    assert_int_equal(sent_at(x, i).f.data[0], 0); /* nothing online */
    struct bmsgw_can_health h;
    health(x, &h);
    assert_true(h.sending && h.blocked);
    fx_free(x);
}

static void test_urgent_limit_drop_and_operator_block(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL); /* 0x351 every 1000 ms */
    fx_start(x);
    feed(x, 1500);
    /* right after a regular 0x351, a cell over the cut-off drops CCL to 0 */
    unsigned from = n_sent(x);
    WAIT_FEEDING(x, last_with_id(x, from, 0x351) >= 0);
    int64_t t_regular = sent_at(x, (unsigned)last_with_id(x, from, 0x351)).t_ms;
    sysgen_cell(x->tmpl, 0, 3, 3700);
    commit(x);
    from = n_sent(x);
    WAIT_FEEDING(x, last_with_id(x, from, 0x351) >= 0);
    struct sent s = sent_at(x, (unsigned)last_with_id(x, from, 0x351));
    assert_true(s.t_ms - t_regular < 700); /* not at the next period */
    assert_int_equal(s.f.data[2] | s.f.data[3], 0);
    WAIT_FEEDING(x, last_with_id(x, from, 0x35A) >= 0);
    assert_int_equal(sent_at(x, (unsigned)last_with_id(x, from, 0x35A)).f.data[0], 0xA5);

    /* an operator block applies at once even without a new sample */
    sysgen_cell(x->tmpl, 0, 3, 3300);
    feed(x, 300);
    from = n_sent(x);
    control_set_block(x->app.control, CONTROL_DISCHARGE, true, "test", clock_mono_ms());
    /* DCL dropped: sent at once, before the data goes stale */
    WAIT_FOR(last_with_id(x, from, 0x351) >= 0 &&
             (sent_at(x, (unsigned)last_with_id(x, from, 0x351)).f.data[4] |
              sent_at(x, (unsigned)last_with_id(x, from, 0x351)).f.data[5]) == 0);
    fx_free(x);
}

static void test_inverter_detected(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    struct bmsgw_can_health h;
    struct bus_sub *sub = bus_subscribe(x->app.bus, BUS_CAN, 256, NULL, NULL);
    fx_start(x);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    inject(&x->fake, (struct can_frame_io){ .id = 0x305, .dlc = 8 });
    WAIT_FOR((health(x, &h), h.last_305_ms > 0));
    assert_false(h.inverter_identified);
    inject(&x->fake,
           (struct can_frame_io){ .id = 0x307, .dlc = 8, .data = { 1, 2, 0, 0, 'V', 'I', 'C' } });
    WAIT_FOR((health(x, &h), h.inverter_identified));
    assert_true(h.last_307_ms > 0 && h.rx_frames == 2);
    feed(x, 300);
    /* every frame is offered to BUS_CAN subscribers (/ws/can), both directions */
    struct bus_msg m;
    unsigned rx = 0, tx = 0;
    while (bus_pop(sub, &m)) {
        if (m.dir == BUS_DIR_RX && m.can_id == 0x307 && m.len == 8 && m.data[4] == 'V')
            rx++;
        if (m.dir == BUS_DIR_TX && victron_frame_by_id(m.can_id) && m.len == 8)
            tx++;
    }
    assert_int_equal(rx, 1);
    assert_true(tx > 0);
    bus_unsubscribe(x->app.bus, sub);
    fx_free(x);
}

static void test_periods_follow_a_reload(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    struct bmsgw_config cfg;
    fx_start(x);
    feed(x, 500);
    config_store_get(x->app.config, &cfg);
    cfg.can.period_ms[BMSGW_CAN_35E] = 200; /* from 5000 ms */
    config_store_set(x->app.config, &cfg);
    can_service_ops.reload(&x->svc, &cfg);
    clock_sleep_ms(100);
    unsigned from = n_sent(x), n = 0;
    feed(x, 1100);
    for (unsigned i = from; i < n_sent(x); i++)
        n += sent_at(x, i).f.id == 0x35E;
    assert_true(n >= 4);
    fx_free(x);
}

static void test_enobufs_dropped_not_blocking(void **state)
{
    (void)state;
    struct fx *x = fx_new(short_periods);
    struct bmsgw_can_health h;
    x->fake.send_rc = -ENOBUFS;
    fx_start(x);
    feed(x, 800);
    health(x, &h);
    assert_true(h.tx_dropped > 5);
    assert_true(h.tx_frames == 0);
    assert_true(service_healthy(&x->svc, clock_mono_ms()));
    assert_int_equal(svc_state(x, NULL, 0), SERVICE_RUNNING);
    fx_free(x);
}

static void test_bus_off_restarts(void **state)
{
    (void)state;
    struct fx *x = fx_new(NULL);
    struct bmsgw_can_health h;
    char why[160];
    fx_start(x);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    inject(&x->fake, (struct can_frame_io){ .id = CAN_ERR_BUSOFF, .dlc = 8, .error = true });
    WAIT_FOR((health(x, &h), h.restarts >= 1));
    assert_int_equal(h.bus_state, BMSGW_CAN_BUS_OFF);
    assert_int_equal(svc_state(x, why, sizeof(why)), SERVICE_DEGRADED);
    assert_string_equal(why, "fake0 bus-off");
    inject(&x->fake, (struct can_frame_io){ .id = CAN_ERR_RESTARTED, .dlc = 8, .error = true });
    WAIT_FOR((health(x, &h), h.bus_state == BMSGW_CAN_BUS_ERROR_ACTIVE));
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    assert_true(h.bus_errors == 2);
    fx_free(x);
}

static void test_interface_lost_reopens(void **state)
{
    (void)state;
    struct fx *x = fx_new(short_periods);
    char why[160];
    fx_start(x);
    feed(x, 500);
    pthread_mutex_lock(&x->fake.lock);
    x->fake.send_rc = -ENETDOWN;
    pthread_mutex_unlock(&x->fake.lock);
    feed(x, 300);
    WAIT_FOR(svc_state(x, why, sizeof(why)) == SERVICE_DEGRADED);
    assert_non_null(strstr(why, "interface fake0 lost"));
    pthread_mutex_lock(&x->fake.lock);
    x->fake.send_rc = 0;
    pthread_mutex_unlock(&x->fake.lock);
    int before = opens(x);
    feed(x, 600);
    assert_true(opens(x) > before);
    WAIT_FOR(svc_state(x, NULL, 0) == SERVICE_RUNNING);
    fx_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_interface_degrades_and_retries),
        cmocka_unit_test(test_every_frame_and_only_those),
        cmocka_unit_test(test_silence_on_stale_and_resume),
        cmocka_unit_test(test_block_on_stale),
        cmocka_unit_test(test_urgent_limit_drop_and_operator_block),
        cmocka_unit_test(test_inverter_detected),
        cmocka_unit_test(test_periods_follow_a_reload),
        cmocka_unit_test(test_enobufs_dropped_not_blocking),
        cmocka_unit_test(test_bus_off_restarts),
        cmocka_unit_test(test_interface_lost_reopens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
