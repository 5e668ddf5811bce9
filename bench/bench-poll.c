/* SPDX-License-Identifier: MIT */
/* bench-poll.c — the TinyBMS poller against one simulator on a PTY that paces replies at the
 * 115200-baud wire time: fast-cycle time (p50/p99) and bytes per cycle next to the wire-time
 * floor and a bare request/reply loop measured in the same run, the poller thread's CPU time per
 * minute at the default 250 ms period, and the age of the data when a reader sees it.
 *
 * usage: bench-poll [--seconds N] [--period MS] [--no-wire-time]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_service.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/battery_stages.h"
#include "bmsgw/compose.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/snapshot.h"
#include "bmsgw/tinybms_rtu.h"
#include "bmsgw/tinybms_sim.h"

#define MAX_SAMPLES 100000

static _Atomic int64_t last_live_reply_us;

static void on_reply(void *ctx, const uint8_t *frame, size_t len, int64_t mono_us)
{
    (void)ctx;
    if (len == 5 + 2 * TINYBMS_LIVE_COUNT && frame[1] == TINYBMS_FC_READ)
        atomic_store(&last_live_reply_us, mono_us);
}

struct sim_thread {
    pthread_t t;
    int stop_efd;
    struct tinybms_sim_opts o;
};

static void *sim_main(void *arg)
{
    struct sim_thread *s = arg;
    if (tinybms_sim_run(&s->o, s->stop_efd) != 0)
        fprintf(stderr, "bench-poll: the simulator failed\n");
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, unsigned n, unsigned p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_i64);
    unsigned k = (n * p + 99) / 100;
    return v[k ? k - 1 : 0];
}

/* A bare request/reply loop on the line: what the simulator and the PTY cost by themselves. */
static void bare_loop(const char *path, int64_t *rtt, unsigned n)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    struct termios t;
    uint8_t req[8], buf[512];
    struct tinybms_req r = { .fc = TINYBMS_FC_READ, .addr = 0, .count = TINYBMS_LIVE_COUNT };
    size_t len = tinybms_req_encode(&r, req, sizeof(req)), want = tinybms_reply_size(&r);
    tcgetattr(fd, &t);
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
    for (unsigned i = 0; i < n; i++) {
        size_t got = 0;
        tcflush(fd, TCIOFLUSH);
        int64_t t0 = clock_mono_us();
        if (write(fd, req, len) != (ssize_t)len)
            break;
        while (got < want) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            if (poll(&pfd, 1, 1000) <= 0)
                break;
            ssize_t k = read(fd, buf + got, sizeof(buf) - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        rtt[i] = clock_mono_us() - t0;
        clock_sleep_ms(20);
    }
    close(fd);
}

/* CPU time (ns) of this process's thread with the given name, from /proc. */
static int64_t thread_cpu_ns(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int64_t ns = -1;
    while (d && (e = readdir(d))) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        if (strcmp(comm, name) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
        if ((f = fopen(path, "r"))) {
            long long v;
            if (fscanf(f, "%lld", &v) == 1)
                ns = v;
            fclose(f);
        }
    }
    if (d)
        closedir(d);
    return ns;
}

struct wire_count {
    uint64_t live_tx, live_rx, tx_bytes, rx_bytes;
};

static void count_frames(struct bus_sub *sub, struct wire_count *w)
{
    struct bus_msg m;
    while (bus_pop(sub, &m)) {
        if (m.dir == BUS_DIR_TX && m.len == 8 && m.data[1] == TINYBMS_FC_READ &&
            m.data[5] == TINYBMS_LIVE_COUNT) {
            w->live_tx++;
            w->tx_bytes += m.len;
        } else if (m.dir == BUS_DIR_RX && m.len == 5 + 2 * TINYBMS_LIVE_COUNT) {
            w->live_rx++;
            w->rx_bytes += m.len;
        }
    }
}

struct bench {
    int seconds, period;
    bool wire;
    char dir[64], tty[128];
    struct sim_thread sim;
    struct bmsgw_config cfg;
    struct bmsgw_app app;
    struct service_registry reg;
    struct composer comp;
    struct bmsgw_system sys;
    struct bus_sub *sub;
    int64_t rtt[50];
    int64_t ages[MAX_SAMPLES];
    unsigned n_ages;
    struct wire_count w;
    int64_t t_start, t_end, cpu0, cpu1;
};

static int parse_args(struct bench *b, int argc, char **argv)
{
    b->seconds = 20;
    b->period = 250;
    b->wire = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            b->seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--period") == 0 && i + 1 < argc)
            b->period = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-wire-time") == 0)
            b->wire = false;
        else
            b->seconds = -1;
    }
    if (b->seconds < 2 || b->period < 100 || b->period > 5000) {
        fprintf(stderr, "usage: bench-poll [--seconds N (>= 2)] [--period MS (100..5000)] "
                        "[--no-wire-time]\n");
        return -EINVAL;
    }
    return 0;
}

static int start_sim(struct bench *b)
{
    snprintf(b->dir, sizeof(b->dir), "/tmp/bmsgw-bench-XXXXXX");
    if (!mkdtemp(b->dir))
        return -errno;
    snprintf(b->tty, sizeof(b->tty), "%s/ttyBMS", b->dir);
    tinybms_sim_params_default(&b->sim.o.params);
    b->sim.o.device = b->tty;
    b->sim.o.quiet = true;
    b->sim.o.wire_time = b->wire;
    b->sim.o.initial_current_a = -25;
    b->sim.o.on_reply = on_reply;
    b->sim.stop_efd = eventfd(0, EFD_CLOEXEC);
    pthread_create(&b->sim.t, NULL, sim_main, &b->sim);
    struct stat st;
    for (int i = 0; i < 500 && stat(b->tty, &st) != 0; i++)
        clock_sleep_ms(10);
    return stat(b->tty, &st) == 0 ? 0 : -ENOENT;
}

static const struct service_ops *const table[] = { &bms_service_ops, NULL };

static int start_service(struct bench *b)
{
    char conf[512];
    struct cfg_error err;
    snprintf(conf, sizeof(conf),
             "state_dir = \"%s\";\n"
             "bms = { poll_interval_ms = %d; ports = ( { name = \"bench\"; device = \"%s\"; } ); "
             "};\n",
             b->dir, b->period, b->tty);
    if (config_load_string(&b->cfg, conf, "bench", &err) != 0)
        return -EINVAL;
    struct bmsgw_app *a = &b->app;
    a->config = config_store_new(&b->cfg, "bench");
    a->snap = snapshot_new();
    a->bus = bus_new();
    a->control = control_new();
    a->services = &b->reg;
    a->bms_cmdq[0] = cmdq_new(4);
    composer_init(&b->comp, a->config, a->control);
    battery_stages_register(&b->comp);
    snapshot_set_composer(a->snap, composer_run, &b->comp);
    b->sub = bus_subscribe(a->bus, BUS_UART, 65536, NULL, NULL);
    log_open(LOG_TARGET_STDERR, LOG_ERR);
    services_init(&b->reg, a, table);
    return services_start(&b->reg, &b->cfg) == 1 ? 0 : -EIO;
}

/* After a 2 s warm-up (connect, identity, settings): every publication a reader sees. */
static void measure(struct bench *b)
{
    int64_t last_sample = 0, end = clock_mono_ms() + 2000;
    uint64_t gen = 0;
    bool measuring = false;
    for (;;) {
        int64_t now = clock_mono_ms();
        if (!measuring && now >= end) {
            measuring = true;
            b->t_start = clock_mono_us();
            b->cpu0 = thread_cpu_ns("bms:bench");
            count_frames(b->sub, &(struct wire_count){ 0 });
            end = now + b->seconds * 1000;
        } else if (measuring && now >= end) {
            break;
        }
        gen = snapshot_wait(b->app.snap, gen, 500);
        int64_t seen_us = clock_mono_us();
        if (!gen)
            continue;
        snapshot_copy(b->app.snap, &b->sys);
        if (b->sys.strings[0].sample_ms != last_sample) {
            last_sample = b->sys.strings[0].sample_ms;
            if (measuring && b->n_ages < MAX_SAMPLES)
                b->ages[b->n_ages++] = seen_us - atomic_load(&last_live_reply_us);
        }
        if (measuring)
            count_frames(b->sub, &b->w);
    }
    b->cpu1 = thread_cpu_ns("bms:bench");
    b->t_end = clock_mono_us();
    snapshot_copy(b->app.snap, &b->sys);
}

static void report(struct bench *b)
{
    const struct bmsgw_link *lk = &b->sys.strings[0].link;
    const struct wire_count *w = &b->w;
    double cycles = (double)w->live_tx, minutes = (double)(b->t_end - b->t_start) / 60e6;
    double bytes = cycles ? (double)(w->tx_bytes + w->rx_bytes) / cycles : 0;
    printf("bench-poll: one simulated TinyBMS on a PTY, %s, poll period %d ms, %d s measured\n",
           b->wire ? "replies paced at the 115200-baud wire time" : "no wire-time pacing",
           b->period, b->seconds);
    printf("  fast cycles          %.0f (%.2f/s), link %s, timeouts %llu, crc %llu\n", cycles,
           cycles / (minutes * 60), bmsgw_link_state_name(lk->state),
           (unsigned long long)lk->timeouts, (unsigned long long)lk->crc_errors);
    printf("  bytes per fast cycle %.0f (request %llu + reply %llu)\n", bytes,
           (unsigned long long)(w->live_tx ? w->tx_bytes / w->live_tx : 0),
           (unsigned long long)(w->live_rx ? w->rx_bytes / w->live_rx : 0));
    printf("  wire-time floor      %.2f ms (+ %.2f ms of 3.5-character gaps)\n",
           bytes * 10.0 / 115.2, 2 * 3.5 * 10.0 / 115.2);
    printf("  bare request/reply   p50 %.2f ms  p99 %.2f ms   (baseline: same line, no poller)\n",
           pct(b->rtt, 50, 50) / 1000.0, pct(b->rtt, 50, 99) / 1000.0);
    printf("  fast-cycle time      p50 %.2f ms  p99 %.2f ms   (poller: request, reply, decode, "
           "publish)\n",
           lk->cycle_p50_us / 1000.0, lk->cycle_p99_us / 1000.0);
    if (b->cpu0 >= 0 && b->cpu1 >= b->cpu0)
        printf("  poller CPU time      %.1f ms per minute (%.3f %% of one core)\n",
               (double)(b->cpu1 - b->cpu0) / 1e6 / minutes,
               (double)(b->cpu1 - b->cpu0) / 1e7 / (minutes * 60));
    else
        printf("  poller CPU time      unavailable (no /proc/self/task)\n");
    printf("  data age when seen   p50 %.2f ms  p99 %.2f ms   (reply sent by the simulator -> a "
           "reader's copy; the BMS samples every 100 ms on top)\n",
           pct(b->ages, b->n_ages, 50) / 1000.0, pct(b->ages, b->n_ages, 99) / 1000.0);
    fflush(stdout);
}

static void cleanup(struct bench *b)
{
    uint64_t one = 1;
    char path[300];
    services_stop(&b->reg, 3000);
    services_deinit(&b->reg);
    if (write(b->sim.stop_efd, &one, sizeof(one)) < 0)
        perror("bench-poll");
    pthread_join(b->sim.t, NULL);
    bus_unsubscribe(b->app.bus, b->sub);
    cmdq_free(b->app.bms_cmdq[0]);
    control_free(b->app.control);
    bus_free(b->app.bus);
    snapshot_free(b->app.snap);
    config_store_free(b->app.config);
    snprintf(path, sizeof(path), "%s/energy.json", b->dir);
    unlink(path);
    rmdir(b->dir);
}

int main(int argc, char **argv)
{
    static struct bench b;
    if (parse_args(&b, argc, argv) != 0)
        return 2;
    if (start_sim(&b) != 0) {
        fprintf(stderr, "bench-poll: the simulator did not start\n");
        return 1;
    }
    bare_loop(b.tty, b.rtt, 50);
    if (start_service(&b) != 0) {
        fprintf(stderr, "bench-poll: the bms service did not start\n");
        return 1;
    }
    measure(&b);
    report(&b);
    bool up = b.sys.strings[0].link.state == BMSGW_LINK_UP;
    cleanup(&b);
    return up ? 0 : 1;
}
