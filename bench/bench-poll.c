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

int main(int argc, char **argv)
{
    int seconds = 20, period = 250;
    bool wire = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--period") == 0 && i + 1 < argc)
            period = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-wire-time") == 0)
            wire = false;
        else {
            fprintf(stderr, "usage: bench-poll [--seconds N] [--period MS] [--no-wire-time]\n");
            return 2;
        }
    }
    if (seconds < 2 || period < 100 || period > 5000) {
        fprintf(stderr, "bench-poll: --seconds >= 2, --period 100..5000\n");
        return 2;
    }
    char dir[] = "/tmp/bmsgw-bench-XXXXXX", tty[128], conf[512];
    if (!mkdtemp(dir))
        return 1;
    snprintf(tty, sizeof(tty), "%s/ttyBMS", dir);

    static struct sim_thread sim;
    tinybms_sim_params_default(&sim.o.params);
    sim.o.device = tty;
    sim.o.quiet = true;
    sim.o.wire_time = wire;
    sim.o.initial_current_a = -25;
    sim.o.on_reply = on_reply;
    sim.stop_efd = eventfd(0, EFD_CLOEXEC);
    pthread_create(&sim.t, NULL, sim_main, &sim);
    struct stat st;
    for (int i = 0; i < 500 && stat(tty, &st) != 0; i++)
        clock_sleep_ms(10);

    static int64_t rtt[50];
    bare_loop(tty, rtt, 50);
    int64_t bare50 = pct(rtt, 50, 50), bare99 = pct(rtt, 50, 99);

    snprintf(conf, sizeof(conf),
             "state_dir = \"%s\";\nlog = { level = \"warning\"; };\n"
             "bms = { poll_interval_ms = %d; ports = ( { name = \"bench\"; device = \"%s\"; } ); "
             "};\n",
             dir, period, tty);
    static struct bmsgw_config cfg;
    struct cfg_error err;
    if (config_load_string(&cfg, conf, "bench", &err) != 0) {
        fprintf(stderr, "bench-poll: bad configuration\n");
        return 1;
    }
    static struct bmsgw_app app;
    static struct service_registry reg;
    static struct composer comp;
    static struct bmsgw_system sys;
    static const struct service_ops *const table[] = { &bms_service_ops, NULL };
    app.config = config_store_new(&cfg, "bench");
    app.snap = snapshot_new();
    app.bus = bus_new();
    app.control = control_new();
    app.services = &reg;
    app.bms_cmdq[0] = cmdq_new(4);
    composer_init(&comp, app.config, app.control);
    snapshot_set_composer(app.snap, composer_run, &comp);
    struct bus_sub *sub = bus_subscribe(app.bus, BUS_UART, 65536, NULL, NULL);
    log_open(LOG_TARGET_STDERR, LOG_ERR);
    services_init(&reg, &app, table);
    services_start(&reg, &cfg);

    static int64_t ages[MAX_SAMPLES];
    unsigned n_ages = 0;
    struct wire_count w = { 0 };
    int64_t last_sample = 0, t_start = 0, cpu0 = -1, end = clock_mono_ms() + 2000;
    uint64_t gen = 0;
    bool measuring = false;
    for (;;) {
        int64_t now = clock_mono_ms();
        if (!measuring && now >= end) { /* 2 s warm-up: connect, settings, identity */
            measuring = true;
            t_start = clock_mono_us();
            cpu0 = thread_cpu_ns("bms:bench");
            count_frames(sub, &(struct wire_count){ 0 });
            end = now + seconds * 1000;
        } else if (measuring && now >= end) {
            break;
        }
        gen = snapshot_wait(app.snap, gen, 500);
        int64_t seen_us = clock_mono_us();
        if (!gen)
            continue;
        snapshot_copy(app.snap, &sys);
        if (sys.strings[0].sample_ms != last_sample) {
            last_sample = sys.strings[0].sample_ms;
            if (measuring && n_ages < MAX_SAMPLES)
                ages[n_ages++] = seen_us - atomic_load(&last_live_reply_us);
        }
        if (measuring)
            count_frames(sub, &w);
    }
    int64_t cpu1 = thread_cpu_ns("bms:bench"), t_end = clock_mono_us();
    snapshot_copy(app.snap, &sys);
    const struct bmsgw_link *lk = &sys.strings[0].link;
    services_stop(&reg, 3000);
    services_deinit(&reg);

    double cycles = (double)w.live_tx;
    double bytes = cycles ? (double)(w.tx_bytes + w.rx_bytes) / cycles : 0;
    double floor_ms = bytes * 10.0 / 115200.0 * 1000.0;
    double gaps_ms = 2 * 3.5 * 10.0 / 115200.0 * 1000.0;
    double minutes = (double)(t_end - t_start) / 60e6;
    printf("bench-poll: one simulated TinyBMS on a PTY, %s, poll period %d ms, %d s measured\n",
           wire ? "replies paced at the 115200-baud wire time" : "no wire-time pacing", period,
           seconds);
    printf("  fast cycles          %.0f (%.2f/s), link %s, timeouts %llu, crc %llu\n", cycles,
           cycles / (minutes * 60), bmsgw_link_state_name(lk->state),
           (unsigned long long)lk->timeouts, (unsigned long long)lk->crc_errors);
    printf("  bytes per fast cycle %.0f (request %llu + reply %llu)\n", bytes,
           (unsigned long long)(cycles ? w.tx_bytes / w.live_tx : 0),
           (unsigned long long)(w.live_rx ? w.rx_bytes / w.live_rx : 0));
    printf("  wire-time floor      %.2f ms (+ %.2f ms of 3.5-character gaps)\n", floor_ms, gaps_ms);
    printf("  bare request/reply   p50 %.2f ms  p99 %.2f ms   (baseline, same line, no poller)\n",
           bare50 / 1000.0, bare99 / 1000.0);
    printf("  fast-cycle time      p50 %.2f ms  p99 %.2f ms   (poller: request, reply, decode, "
           "publish)\n",
           lk->cycle_p50_us / 1000.0, lk->cycle_p99_us / 1000.0);
    if (cpu0 >= 0 && cpu1 >= cpu0)
        printf("  poller CPU time      %.1f ms per minute (%.3f %% of one core)\n",
               (double)(cpu1 - cpu0) / 1e6 / minutes, (double)(cpu1 - cpu0) / 1e7 / (minutes * 60));
    else
        printf("  poller CPU time      unavailable (no /proc/self/task)\n");
    printf("  data age when seen   p50 %.2f ms  p99 %.2f ms   (reply sent by the simulator -> a "
           "reader's copy; the BMS samples every 100 ms on top)\n",
           pct(ages, n_ages, 50) / 1000.0, pct(ages, n_ages, 99) / 1000.0);

    uint64_t one = 1;
    if (write(sim.stop_efd, &one, sizeof(one)) < 0)
        perror("bench-poll");
    pthread_join(sim.t, NULL);
    bus_unsubscribe(app.bus, sub);
    cmdq_free(app.bms_cmdq[0]);
    control_free(app.control);
    bus_free(app.bus);
    snapshot_free(app.snap);
    config_store_free(app.config);
    char path[300];
    snprintf(path, sizeof(path), "%s/energy.json", dir);
    unlink(path);
    rmdir(dir);
    return lk->state == BMSGW_LINK_UP ? 0 : 1;
}
