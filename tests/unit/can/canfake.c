/* SPDX-License-Identifier: MIT */
/* canfake.c — the fake CAN link and the fixture of the CAN service tests (canfake.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bmsgw/battery_stages.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/victron.h"
#include "canfake.h"
#include "sysgen.h"

static int f_open(void *ctx, const char *ifname, const uint32_t *rx_ids, unsigned n_rx, char *why,
                  size_t size)
{
    struct fake *k = ctx;
    pthread_mutex_lock(&k->lock);
    int rc = k->open_rc;
    if (k->opens < 32)
        k->open_ms[k->opens] = bmsgw_clock_ms(k->clk);
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
        k->sent[k->n_sent++] = (struct sent){ .t_ms = bmsgw_clock_ms(k->clk), .f = *f };
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

const struct can_link_ops canfake_ops = {
    .open = f_open,
    .close = f_close,
    .send = f_send,
    .recv = f_recv,
    .get_state = f_state,
    .get_bitrate = f_bitrate,
    .set_bitrate = f_set_bitrate,
    .restart = f_restart,
};

void inject(struct fake *k, struct can_frame_io f)
{
    uint64_t one = 1;
    pthread_mutex_lock(&k->lock);
    if (k->rx_pos == k->n_rx)
        k->rx_pos = k->n_rx = 0;
    k->rx[k->n_rx++] = f;
    assert_int_equal(write(k->efd, &one, sizeof(one)), sizeof(one));
    pthread_mutex_unlock(&k->lock);
}

struct fx *fx_new(void (*tune)(struct bmsgw_config *))
{
    struct fx *x = calloc(1, sizeof(*x));
    struct bmsgw_config cfg;
    config_defaults(&cfg);
    snprintf(cfg.can.interface, sizeof(cfg.can.interface), "fake0");
    cfg.bms.poll_interval_ms = 100;
    cfg.bms.stale_after_ms = 60000; /* fresh for the whole test, unless staleness is tested */
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
    battery_stages_register(&x->comp);
    snapshot_set_composer(x->app.snap, composer_run, &x->comp);
    x->tmpl = sysgen_new(1, 16, 2, 3300, 250, 1);
    service_init(&x->svc, &can_service_ops, &x->app);
    return x;
}

void fx_start(struct fx *x)
{
    x->fake.clk = app_clock(&x->app);
    assert_int_equal(can_service_start_with(&x->svc, &canfake_ops, &x->fake), 0);
    x->started = true;
}

void fx_free(struct fx *x)
{
    if (x->started)
        assert_int_equal(can_service_ops.stop(&x->svc, WAIT_MS), 0);
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
void commit(struct fx *x)
{
    int64_t now = bmsgw_clock_ms(app_clock(&x->app));
    struct bmsgw_system *w = snapshot_write_begin(x->app.snap);
    memcpy(w, x->tmpl, sizeof(*w));
    w->strings[0].sample_ms = now;
    snapshot_write_commit(x->app.snap, now);
}

unsigned n_sent(struct fx *x)
{
    pthread_mutex_lock(&x->fake.lock);
    unsigned n = x->fake.n_sent;
    pthread_mutex_unlock(&x->fake.lock);
    return n;
}

struct sent sent_at(struct fx *x, unsigned i)
{
    pthread_mutex_lock(&x->fake.lock);
    struct sent s = x->fake.sent[i];
    pthread_mutex_unlock(&x->fake.lock);
    return s;
}

/* The newest frame with id sent at or after index from; returns its index or -1. */
int last_with_id(struct fx *x, unsigned from, uint32_t id)
{
    int found = -1;
    for (unsigned i = from; i < n_sent(x); i++)
        if (sent_at(x, i).f.id == id)
            found = (int)i;
    return found;
}

int opens(struct fx *x)
{
    pthread_mutex_lock(&x->fake.lock);
    int n = x->fake.opens;
    pthread_mutex_unlock(&x->fake.lock);
    return n;
}

void health(struct fx *x, struct bmsgw_can_health *h)
{
    struct bmsgw_system *s = malloc(sizeof(*s));
    snapshot_copy(x->app.snap, s);
    *h = s->can;
    free(s);
}

enum service_state svc_state(struct fx *x, char *why, size_t size)
{
    struct service_status st;
    service_get_status(&x->svc, &st);
    if (why)
        snprintf(why, size, "%s", st.last_error);
    return st.state;
}

int64_t progress_ms(struct fx *x)
{
    struct service_status st;
    service_get_status(&x->svc, &st);
    return st.progress_ms;
}

/* Wait until the thread has finished a loop pass it began after t (service_progress() stamps the
 * start of each pass): whatever was due before t has then been decided, however late it ran. */
void wait_thread_past(struct fx *x, int64_t t)
{
    WAIT_FOR(progress_ms(x) > t);
    int64_t p = progress_ms(x);
    WAIT_FOR(progress_ms(x) > p);
}

unsigned count_id(struct fx *x, unsigned from, unsigned to, uint32_t id)
{
    unsigned n = 0;
    for (unsigned i = from; i < to; i++)
        n += sent_at(x, i).f.id == id;
    return n;
}

/* The first frame with id from index from on whose payload pred accepts, or -1. */
int first_with(struct fx *x, unsigned from, uint32_t id, bool (*pred)(const uint8_t *d))
{
    for (unsigned i = from; i < n_sent(x); i++) {
        struct sent s = sent_at(x, i);
        if (s.f.id == id && pred(s.f.data))
            return (int)i;
    }
    return -1;
}

void short_periods(struct bmsgw_config *c)
{
    for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++)
        c->can.period_ms[f] = 200;
}
