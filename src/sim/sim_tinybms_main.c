/* SPDX-License-Identifier: MIT */
/* sim_tinybms_main.c — "bmsgw-sim tinybms": options, signals, then the simulator's loop. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bmsgw/config.h"
#include "bmsgw/tinybms_sim.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bmsgw-sim tinybms --device PATH [options]\n"
            "  --device PATH        serial device; when PATH does not exist a PTY is created\n"
            "                       and PATH is made a symlink to it\n"
            "  --control SOCKET     Unix socket for control commands (one per line; 'help')\n"
            "  --cells N            cells in series, 4..16 (default 16)\n"
            "  --chemistry lfp|nmc  cell chemistry (default lfp)\n"
            "  --capacity AH        capacity of the pack (default: the chemistry's)\n"
            "  --soc PCT            initial state of charge (default 60)\n"
            "  --current A          constant load, + = charging (default 0)\n"
            "  --load random        a random-walk load instead of a constant one\n"
            "  --scenario FILE      timeline of control commands: '<seconds> <command>'\n"
            "  --sleep[=SECONDS]    emulate the BMS's sleep after SECONDS without traffic at\n"
            "                       ~0 A (default 10): the first command after it is not answered\n"
            "  --broadcast          start with the ASCII broadcast on (registers 342/343)\n"
            "  --wire-time          answer after the 115200-baud wire time of request + reply\n"
            "  --max-read N         reject reads of more than N registers (1..127; default 127)\n"
            "  --seed N             random seed (cell spread, load, faults)\n"
            "  --quiet              no status messages\n");
}

static bool parse_num(const char *arg, double lo, double hi, double *out, const char *what)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "bmsgw-sim tinybms: %s must be %g..%g (got '%s')\n", what, lo, hi, arg);
        return false;
    }
    *out = v;
    return true;
}

enum {
    OPT_DEVICE = 256,
    OPT_CONTROL,
    OPT_CELLS,
    OPT_CHEM,
    OPT_CAP,
    OPT_SOC,
    OPT_CURRENT,
    OPT_LOAD,
    OPT_SCENARIO,
    OPT_SLEEP,
    OPT_BROADCAST,
    OPT_WIRE,
    OPT_SEED,
    OPT_QUIET,
    OPT_MAX_READ,
};

static const struct option longopts[] = {
    { "device", required_argument, NULL, OPT_DEVICE },
    { "control", required_argument, NULL, OPT_CONTROL },
    { "cells", required_argument, NULL, OPT_CELLS },
    { "chemistry", required_argument, NULL, OPT_CHEM },
    { "capacity", required_argument, NULL, OPT_CAP },
    { "soc", required_argument, NULL, OPT_SOC },
    { "current", required_argument, NULL, OPT_CURRENT },
    { "load", required_argument, NULL, OPT_LOAD },
    { "scenario", required_argument, NULL, OPT_SCENARIO },
    { "sleep", optional_argument, NULL, OPT_SLEEP },
    { "broadcast", no_argument, NULL, OPT_BROADCAST },
    { "wire-time", no_argument, NULL, OPT_WIRE },
    { "seed", required_argument, NULL, OPT_SEED },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "max-read", required_argument, NULL, OPT_MAX_READ },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct parsed {
    struct tinybms_sim_opts o;
    double current_a;
    bool random_load;
};

static bool parse_opt(int c, const char *arg, struct parsed *p)
{
    struct tinybms_sim_opts *o = &p->o;
    double v;
    switch (c) {
    case OPT_DEVICE:
        o->device = arg;
        return true;
    case OPT_CONTROL:
        o->control = arg;
        return true;
    case OPT_SCENARIO:
        o->scenario = arg;
        return true;
    case OPT_BROADCAST:
        o->broadcast = true;
        return true;
    case OPT_WIRE:
        o->wire_time = true;
        return true;
    case OPT_QUIET:
        o->quiet = true;
        return true;
    case OPT_CELLS:
        if (!parse_num(arg, 4, 16, &v, "--cells") || v != floor(v))
            return false;
        o->params.cells = (unsigned)v;
        return true;
    case OPT_CHEM:
        if (strcmp(arg, "lfp") == 0 || strcmp(arg, "nmc") == 0) {
            o->params.chemistry = strcmp(arg, "nmc") == 0 ? CFG_CHEM_NMC : CFG_CHEM_LFP;
            return true;
        }
        fprintf(stderr, "bmsgw-sim tinybms: --chemistry must be lfp or nmc (got '%s')\n", arg);
        return false;
    case OPT_CAP:
        return parse_num(arg, 1, 655, &o->params.capacity_ah, "--capacity");
    case OPT_SOC:
        return parse_num(arg, 0, 100, &o->params.soc_pct, "--soc");
    case OPT_CURRENT:
        return parse_num(arg, -2000, 2000, &p->current_a, "--current");
    case OPT_MAX_READ:
        if (!parse_num(arg, 1, 127, &v, "--max-read") || v != floor(v))
            return false;
        o->max_read = (unsigned)v;
        return true;
    case OPT_SEED:
        if (!parse_num(arg, 0, 1e15, &v, "--seed"))
            return false;
        o->params.seed = (uint64_t)v;
        return true;
    case OPT_SLEEP:
        o->sleep = true;
        return !arg || parse_num(arg, 0.5, 3600, &o->sleep_after_s, "--sleep");
    case OPT_LOAD:
        if (strcmp(arg, "random") == 0) {
            p->random_load = true;
            return true;
        }
        fprintf(stderr, "bmsgw-sim tinybms: --load must be random (got '%s')\n", arg);
        return false;
    default:
        return false;
    }
}

int sim_tinybms_main(int argc, char **argv)
{
    struct parsed p;
    int c;
    memset(&p, 0, sizeof(p));
    tinybms_sim_params_default(&p.o.params);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (!parse_opt(c, optarg, &p)) {
            usage(stderr);
            return 2;
        }
    }
    if (!p.o.device || optind < argc) {
        fprintf(stderr, "bmsgw-sim tinybms: %s\n",
                optind < argc ? "unexpected argument" : "--device PATH is required");
        usage(stderr);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        perror("bmsgw-sim: signalfd");
        return 1;
    }
    p.o.initial_current_a = p.current_a;
    p.o.initial_random = p.random_load;
    int rc = tinybms_sim_run(&p.o, sfd);
    close(sfd);
    return rc == 0 ? 0 : 1;
}
