/* SPDX-License-Identifier: MIT */
/* sim_devices.c — bmsgw-sim's Modbus TCP devices: options, the daemon's server, the physics
 * clock and signals. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bmsgw/clock.h"
#include "bmsgw/config.h"
#include "bmsgw/log.h"
#include "bmsgw/mbtcp.h"
#include "sim_devices_int.h"

/* ---- physics helpers ----------------------------------------------------------------------- */

double sim_walk(double x, double limit, double step, double dt_s, uint64_t *rng)
{
    x += step * sqrt(dt_s) * battery_rand_normal(rng) - 0.02 * x * dt_s;
    return x > limit ? limit : x < -limit ? -limit : x;
}

/* Per chemistry: the cell voltage above which a BMS stops charging, below which discharging. */
double sim_bms_allowed_current(const struct battery *b, double want_a)
{
    static const int stop_charge_mv[CFG_CHEM_COUNT] = { 3600, 4150, 2750 };
    static const int stop_discharge_mv[CFG_CHEM_COUNT] = { 2800, 3100, 1900 };
    int chem = b->p.chemistry >= 0 && b->p.chemistry < CFG_CHEM_COUNT ? b->p.chemistry : 0;
    if (want_a > 0 && battery_cell_mv(b, battery_max_cell(b)) >= stop_charge_mv[chem])
        return 0;
    if (want_a < 0 && battery_cell_mv(b, battery_min_cell(b)) <= stop_discharge_mv[chem])
        return 0;
    return want_a;
}

/* ---- options ------------------------------------------------------------------------------- */

static const struct option longopts[] = {
    { "bind", required_argument, NULL, OPT_BIND },
    { "port", required_argument, NULL, OPT_PORT },
    { "unit-id", required_argument, NULL, OPT_UNIT },
    { "word-order", required_argument, NULL, OPT_WORDS },
    { "read-only", no_argument, NULL, OPT_READ_ONLY },
    { "max-connections", required_argument, NULL, OPT_MAX_CONN },
    { "interval-ms", required_argument, NULL, OPT_INTERVAL },
    { "seed", required_argument, NULL, OPT_SEED },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "chemistry", required_argument, NULL, OPT_CHEM },
    { "soc", required_argument, NULL, OPT_SOC },
    { "strings", required_argument, NULL, OPT_STRINGS },
    { "cells", required_argument, NULL, OPT_CELLS },
    { "sensors", required_argument, NULL, OPT_SENSORS },
    { "arms", required_argument, NULL, OPT_ARMS },
    { "sync-ms", required_argument, NULL, OPT_SYNC },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static void usage(const struct sim_dev_mode *m, FILE *out)
{
    fprintf(out,
            "usage: bmsgw-sim %s [options]\n"
            "Serves the %s map over Modbus TCP from a simulated device.\n"
            "  --bind ADDR            address to listen on (default 0.0.0.0)\n"
            "  --port N               TCP port (default %d)\n"
            "  --unit-id N            answer only this unit id, 1..247 (default: any)\n"
            "  --word-order abcd|cdab order of the words of 32/64-bit values (default abcd)\n"
            "  --read-only            refuse writes (exception 0x01)\n"
            "  --max-connections N    simultaneous clients, 1..1000 (default 64)\n"
            "  --interval-ms N        physics step, 100..10000 ms (default 1000)\n"
            "  --seed N               random seed (default 1)\n"
            "  --quiet                no status messages\n"
            "%s",
            m->name, mbmap_get(m->kind)->title, config_map_default_port(m->kind), m->help);
}

static bool parse_long(const char *arg, long lo, long hi, long *out, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "bmsgw-sim: %s must be %ld..%ld (got '%s')\n", what, lo, hi, arg);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_arms(const char *arg, struct sim_dev_opts *o)
{
    char buf[64], *save = NULL;
    long v;
    unsigned n = 0;
    snprintf(buf, sizeof(buf), "%s", arg);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n >= MBMAP_TESCOM_ARMS || !parse_long(tok, 0, MBMAP_TESCOM_BATTERIES, &v, "--arms"))
            goto bad;
        o->arms[n++] = (unsigned)v;
    }
    if (n == MBMAP_TESCOM_ARMS)
        return true;
bad:
    fprintf(stderr, "bmsgw-sim: --arms takes four battery counts 0..120, e.g. 7,0,5,0\n");
    return false;
}

/* Options every mode has. Returns 1 when handled, 0 when not one of them, -1 on error. */
static int parse_common(int c, const char *arg, struct sim_dev_opts *o)
{
    long v;
    switch (c) {
    case OPT_BIND:
        snprintf(o->bind, sizeof(o->bind), "%s", arg);
        return 1;
    case OPT_PORT:
        return parse_long(arg, 1, 65535, &v, "--port") ? (o->port = (int)v, 1) : -1;
    case OPT_UNIT:
        return parse_long(arg, 1, 247, &v, "--unit-id") ? (o->unit_id = (int)v, 1) : -1;
    case OPT_WORDS:
        if (strcmp(arg, "abcd") && strcmp(arg, "cdab")) {
            fprintf(stderr, "bmsgw-sim: --word-order must be abcd or cdab (got '%s')\n", arg);
            return -1;
        }
        o->word_order = strcmp(arg, "cdab") == 0 ? MBMAP_WORDS_CDAB : MBMAP_WORDS_ABCD;
        return 1;
    case OPT_READ_ONLY:
        o->read_only = true;
        return 1;
    case OPT_MAX_CONN:
        return parse_long(arg, 1, 1000, &v, "--max-connections") ? (o->max_conn = (int)v, 1) : -1;
    case OPT_INTERVAL:
        return parse_long(arg, 100, 10000, &v, "--interval-ms") ? (o->interval_ms = (int)v, 1) : -1;
    case OPT_SEED:
        return parse_long(arg, 0, LONG_MAX, &v, "--seed") ? (o->seed = (uint64_t)v, 1) : -1;
    case OPT_QUIET:
        o->quiet = true;
        return 1;
    }
    return 0;
}

/* Options of some modes only. Returns 1 when handled, -1 on error. */
static int parse_device(int c, const char *arg, struct sim_dev_opts *o)
{
    long v;
    switch (c) {
    case OPT_CHEM:
        if (strcmp(arg, "lfp") == 0 || strcmp(arg, "nmc") == 0) {
            o->chemistry = strcmp(arg, "nmc") == 0 ? CFG_CHEM_NMC : CFG_CHEM_LFP;
            return 1;
        }
        fprintf(stderr, "bmsgw-sim: --chemistry must be lfp or nmc (got '%s')\n", arg);
        return -1;
    case OPT_SOC:
        return parse_long(arg, 0, 100, &v, "--soc") ? (o->soc_pct = (double)v, 1) : -1;
    case OPT_STRINGS:
        return parse_long(arg, 1, BMSGW_MAX_STRINGS, &v, "--strings")
                   ? (o->strings = (unsigned)v, 1)
                   : -1;
    case OPT_CELLS:
        return parse_long(arg, 1, MBMAP_MEGA_CELLS, &v, "--cells") ? (o->cells = (unsigned)v, 1)
                                                                   : -1;
    case OPT_SENSORS:
        return parse_long(arg, 0, MBMAP_MEGA_SENSORS, &v, "--sensors")
                   ? (o->sensors = (unsigned)v, 1)
                   : -1;
    case OPT_ARMS:
        return parse_arms(arg, o) ? 1 : -1;
    case OPT_SYNC:
        return parse_long(arg, 100, 60000, &v, "--sync-ms") ? (o->sync_ms = (int)v, 1) : -1;
    }
    return -1;
}

/* Returns -1 to go on, or an exit status. */
int sim_dev_parse(const struct sim_dev_mode *m, int argc, char **argv, struct sim_dev_opts *o)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(m, stdout);
            return 0;
        }
        int rc = parse_common(c, optarg, o);
        if (rc == 0 && c >= OPT_CHEM && !(m->options & SIM_OPT(c))) {
            const struct option *op = longopts;
            while (op->name && op->val != c)
                op++;
            fprintf(stderr, "bmsgw-sim %s: --%s is not an option of this mode\n", m->name,
                    op->name);
            rc = -1;
        } else if (rc == 0 && c >= OPT_CHEM) {
            rc = parse_device(c, optarg, o);
        }
        if (rc <= 0) {
            usage(m, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bmsgw-sim %s: unexpected argument '%s'\n", m->name, argv[optind]);
        usage(m, stderr);
        return 2;
    }
    return -1;
}

/* ---- running ------------------------------------------------------------------------------- */

static void dev_load(void *ctx, int kind, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    (void)kind;
    struct sim_dev *d = ctx;
    pthread_mutex_lock(&d->lock);
    d->mode->load(d, src, now_ms, info);
    pthread_mutex_unlock(&d->lock);
}

static int dev_write(void *ctx, int kind, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    (void)kind;
    struct sim_dev *d = ctx;
    pthread_mutex_lock(&d->lock);
    int ex = d->mode->write(d, w, n, now_ms);
    pthread_mutex_unlock(&d->lock);
    return ex;
}

static struct mbtcp_server *serve(struct sim_dev *d, const struct sim_dev_opts *o)
{
    struct mbtcp_server_cfg sc = {
        .max_connections = o->max_conn,
        .simulator = true,
        .policy = { .allow_writes = !o->read_only,
                    .idle_timeout_ms = 300000,
                    .frame_timeout_ms = 2000 },
        .n_listeners = 1,
        .listeners = { { .kind = d->mode->kind,
                         .port = o->port,
                         .unit_id = o->unit_id,
                         .word_order = o->word_order } },
    };
    struct mbtcp_provider pv = { .load = dev_load, .write = dev_write, .ctx = d };
    snprintf(sc.bind, sizeof(sc.bind), "%s", o->bind);
    struct mbtcp_server *srv = mbtcp_server_new(&sc, &pv);
    if (!srv || mbtcp_server_listen(srv) != 1) {
        fprintf(stderr, "bmsgw-sim %s: cannot listen: %s\n", d->mode->name,
                srv ? mbtcp_server_listener_error(srv, 0) : "out of memory");
        mbtcp_server_free(srv);
        return NULL;
    }
    if (!o->quiet) {
        char unit[16] = "any";
        if (o->unit_id)
            snprintf(unit, sizeof(unit), "%d", o->unit_id);
        printf("bmsgw-sim %s: serving the %s map on %s port %d (unit id %s, word order %s, "
               "writes %s)\n",
               d->mode->name, mbmap_get(d->mode->kind)->title, o->bind, mbtcp_server_port(srv, 0),
               unit, o->word_order == MBMAP_WORDS_CDAB ? "cdab" : "abcd",
               o->read_only ? "refused" : "allowed");
        fflush(stdout);
    }
    return srv;
}

/* Step the physics on a timer until SIGINT/SIGTERM. */
static int clock_loop(struct sim_dev *d, struct mbtcp_server *srv, int sfd, int interval_ms)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {
        .it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
        .it_value = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
    };
    if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
        perror("bmsgw-sim: timerfd");
        return 1;
    }
    struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };
    for (;;) {
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN)
            break;
        uint64_t ticks;
        if ((pfd[1].revents & POLLIN) && read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
            pthread_mutex_lock(&d->lock);
            if (d->mode->step)
                d->mode->step(d, (double)ticks * interval_ms / 1000.0, clock_mono_ms());
            pthread_mutex_unlock(&d->lock);
            mbtcp_server_data_changed(srv);
        }
    }
    close(tfd);
    return 0;
}

int sim_dev_run(struct sim_dev *d, const struct sim_dev_opts *o)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server thread starts */
    signal(SIGPIPE, SIG_IGN);
    log_open(LOG_TARGET_STDERR, o->quiet ? LOG_WARNING : LOG_NOTICE);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    struct mbtcp_server *srv = sfd >= 0 ? serve(d, o) : NULL;
    int rc = 1;
    if (srv && mbtcp_server_start(srv, NULL, NULL) == 0) {
        rc = clock_loop(d, srv, sfd, o->interval_ms);
        mbtcp_server_stop(srv);
    }
    mbtcp_server_free(srv);
    if (sfd >= 0)
        close(sfd);
    if (!o->quiet && rc == 0)
        printf("bmsgw-sim %s: stopped\n", d->mode->name);
    return rc;
}
