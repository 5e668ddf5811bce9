/* SPDX-License-Identifier: MIT */
/* ctl_opts.c — bmsctl's command line: options, the command, its arguments, the usage text. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw-build.h"
#include "bmsgw/config.h"
#include "bmsgw/ctl.h"
#include "bmsgw/mbmap_maps.h"

/* flag() after --help or --version: stop, successfully. */
#define OPTS_DONE 1000

enum {
    OPT_WORDS = 256,
    OPT_JSON,
    OPT_CSV,
    OPT_COLOR,
    OPT_NO_COLOR,
    OPT_CELLS,
    OPT_SENSORS,
    OPT_RAW,
    OPT_YES,
    OPT_VERSION,
};

static const struct option long_opts[] = {
    { "host", required_argument, NULL, 'H' },
    { "port", required_argument, NULL, 'p' },
    { "unit", required_argument, NULL, 'u' },
    { "map", required_argument, NULL, 'm' },
    { "timeout", required_argument, NULL, 't' },
    { "word-order", required_argument, NULL, OPT_WORDS },
    { "json", no_argument, NULL, OPT_JSON },
    { "csv", no_argument, NULL, OPT_CSV },
    { "color", no_argument, NULL, OPT_COLOR },
    { "no-color", no_argument, NULL, OPT_NO_COLOR },
    { "interval", required_argument, NULL, 'i' },
    { "count", required_argument, NULL, 'n' },
    { "cells-per-string", required_argument, NULL, OPT_CELLS },
    { "sensors-per-string", required_argument, NULL, OPT_SENSORS },
    { "raw", no_argument, NULL, OPT_RAW },
    { "yes", no_argument, NULL, OPT_YES },
    { "config", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

/* Options that only one command takes: the option, its name, the command. */
static const struct {
    int opt;
    const char *name;
    int cmd;
} cmd_opts[] = {
    { 'i', "-i/--interval", CTL_CMD_WATCH },
    { 'n', "-n/--count", CTL_CMD_WATCH },
    { OPT_CELLS, "--cells-per-string", CTL_CMD_STRINGS },
    { OPT_SENSORS, "--sensors-per-string", CTL_CMD_STRINGS },
    { OPT_RAW, "--raw", CTL_CMD_WRITE_REG },
    { OPT_YES, "--yes", CTL_CMD_WRITE_REG },
    { 'c', "-c/--config", CTL_CMD_TOKEN },
};

static void usage(FILE *out)
{
    fputs(
        "usage: bmsctl [options] [COMMAND [ARGS]]\n"
        "Modbus TCP master for the bmsgw register maps (mega, tescom, pack12s, testpattern).\n"
        "\n"
        "Commands:\n"
        "  main                  main parameters\n"
        "  all                   comprehensive read: every value of the map\n"
        "  cells [RANGE]         cell voltages; RANGE: 1-based numbers, e.g. 1-16,100,200-\n"
        "  temps [RANGE]         temperature sensors\n"
        "  strings               per-string summary: min/max/avg/spread of cells and temperatures\n"
        "  status                system status, alarms and control coils\n"
        "  coils                 coils and discrete inputs\n"
        "  watch                 continuous monitoring (Ctrl-C or q stops)\n"
        "  write-coil COIL 0|1   write one coil (address or key, e.g. 100 or charge_enable)\n"
        "  write-reg REG VALUE.. write a value in its unit (address or key[:N]); needs --yes\n"
        "  token                 print the REST API token of the local bmsgw\n"
        "Without a command, on a terminal: the interactive menu.\n"
        "\n"
        "Options:\n"
        "  -H, --host HOST           device address (default 127.0.0.1)\n"
        "  -p, --port N              TCP port (default: the map's: mega 502, tescom 1502,\n"
        "                            pack12s 7001, testpattern 5020)\n"
        "  -u, --unit N              unit id, 0..255 (default 1)\n"
        "  -m, --map NAME            mega|tescom|pack12s|testpattern (default mega)\n"
        "  -t, --timeout MS          response timeout, 10..60000 ms (default 1000)\n"
        "      --word-order ORDER    abcd|cdab: words of 32/64-bit values (default abcd)\n"
        "      --json                JSON output (watch: one object per line)\n"
        "      --csv                 CSV output\n"
        "      --color, --no-color   ANSI colours (default: on a terminal)\n"
        "  -i, --interval SECONDS    watch: refresh period, 0.1..3600 (default 2)\n"
        "  -n, --count N             watch: stop after N refreshes\n"
        "      --cells-per-string N  strings, mega map: cells per string (default 208)\n"
        "      --sensors-per-string N  strings, mega map: sensors per string (default: in\n"
        "                            proportion when that is a whole number)\n"
        "      --raw                 write-reg: the VALUEs are raw 16-bit registers\n"
        "      --yes                 write-reg: really write\n"
        "  -c, --config FILE         token: the daemon's configuration (default "
        "/etc/bmsgw.conf)\n"
        "  -h, --help                this text\n"
        "      --version             the version\n"
        "\n"
        "Exit status: 0 ok, 1 Modbus or I/O error, 2 usage error.\n",
        out);
}

static int bad(FILE *err, const char *fmt, const char *a, const char *b)
{
    fputs("bmsctl: ", err);
    fprintf(err, fmt, a, b);
    fputs(" (see bmsctl --help)\n", err);
    return CTL_EXIT_USAGE;
}

static bool parse_long(const char *text, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(text, &end, 0);
    if (errno || end == text || *end || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

/* One numeric option into *v, or a usage error naming it and its range. */
static int number(FILE *err, const char *name, const char *arg, long lo, long hi, long *v)
{
    char range[48];
    if (parse_long(arg, lo, hi, v))
        return 0;
    snprintf(range, sizeof(range), "%ld..%ld", lo, hi);
    fprintf(err, "bmsctl: %s must be %s (got '%s')\n", name, range, arg);
    return CTL_EXIT_USAGE;
}

static int parse_interval(struct ctl_opts *o, const char *arg, FILE *err)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v >= 0.1 && v <= 3600)) {
        fprintf(err, "bmsctl: -i must be 0.1..3600 seconds (got '%s')\n", arg);
        return CTL_EXIT_USAGE;
    }
    o->interval_s = v;
    return 0;
}

/* A value option. Returns 0 or an exit status. */
static int option(struct ctl_opts *o, int c, const char *arg, FILE *err)
{
    long v = 0;
    int rc = 0;
    switch (c) {
    case 'H':
        if (!*arg || strlen(arg) >= sizeof(o->link.host))
            return bad(err, "-H needs a host name or address%s%s", "", "");
        snprintf(o->link.host, sizeof(o->link.host), "%s", arg);
        return 0;
    case 'p':
        rc = number(err, "-p", arg, 1, 65535, &v);
        o->link.port = (int)v;
        return rc;
    case 'u':
        rc = number(err, "-u", arg, 0, 255, &v);
        o->link.unit = (int)v;
        return rc;
    case 't':
        rc = number(err, "-t", arg, 10, 60000, &v);
        o->link.timeout_ms = (int)v;
        return rc;
    case 'n':
        rc = number(err, "-n", arg, 1, 1000000000, &v);
        o->count = v;
        return rc;
    case OPT_CELLS:
        rc = number(err, "--cells-per-string", arg, 1, MBMAP_MEGA_CELLS, &v);
        o->layout.cells_per_string = (unsigned)v;
        return rc;
    case OPT_SENSORS:
        rc = number(err, "--sensors-per-string", arg, 0, MBMAP_MEGA_SENSORS, &v);
        o->layout.sensors_per_string = (unsigned)v;
        return rc;
    case 'i':
        return parse_interval(o, arg, err);
    }
    return 0;
}

static int flag(struct ctl_opts *o, int c, const char *arg, FILE *out, FILE *err)
{
    switch (c) {
    case 'm':
        if (!(o->map = mbmap_find(arg)))
            return bad(err, "--map must be mega, tescom, pack12s or testpattern (got '%s')%s", arg,
                       "");
        return 0;
    case OPT_WORDS:
        if (strcmp(arg, "abcd") != 0 && strcmp(arg, "cdab") != 0)
            return bad(err, "--word-order must be abcd or cdab (got '%s')%s", arg, "");
        o->word_order = strcmp(arg, "cdab") == 0 ? MBMAP_WORDS_CDAB : MBMAP_WORDS_ABCD;
        return 0;
    case OPT_JSON:
    case OPT_CSV:
        o->format = c == OPT_JSON ? CTL_FMT_JSON : CTL_FMT_CSV;
        return 0;
    case OPT_COLOR:
    case OPT_NO_COLOR:
        o->color = c == OPT_COLOR;
        return 0;
    case OPT_RAW:
        o->raw = true;
        return 0;
    case OPT_YES:
        o->yes = true;
        return 0;
    case 'c':
        o->config = arg;
        return 0;
    case 'h':
        usage(out);
        return OPTS_DONE;
    case OPT_VERSION:
        fprintf(out, "bmsctl %s\n", BMSGW_VERSION);
        return OPTS_DONE;
    }
    return option(o, c, arg, err);
}

unsigned ctl_default_sensors_per_string(unsigned cells_per_string)
{
    unsigned long x = (unsigned long)MBMAP_MEGA_SENSORS * cells_per_string;
    return x % MBMAP_MEGA_CELLS == 0 ? (unsigned)(x / MBMAP_MEGA_CELLS) : 0;
}

static void defaults(struct ctl_opts *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->link.host, sizeof(o->link.host), "%s", CTL_DEFAULT_HOST);
    o->link.unit = CTL_DEFAULT_UNIT;
    o->link.timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
    o->map = &mbmap_mega;
    o->color = -1;
    o->cmd = -1;
    o->interval_s = CTL_DEFAULT_INTERVAL_S;
    o->layout.sensors_per_string = UINT32_MAX;
}

/* The command and its arguments: how many each takes. */
static int check_args(struct ctl_opts *o, FILE *err)
{
    static const struct {
        int cmd;
        unsigned min, max;
        const char *shape;
    } arity[] = {
        { CTL_CMD_CELLS, 0, 1, "cells [RANGE]" },
        { CTL_CMD_TEMPS, 0, 1, "temps [RANGE]" },
        { CTL_CMD_WRITE_COIL, 2, 2, "write-coil COIL 0|1" },
        { CTL_CMD_WRITE_REG, 2, CTL_MAX_ARGS, "write-reg REG VALUE..." },
    };
    unsigned lo = 0, hi = 0;
    const char *shape = ctl_cmd_name(o->cmd);
    for (unsigned k = 0; k < sizeof(arity) / sizeof(arity[0]); k++)
        if (arity[k].cmd == o->cmd) {
            lo = arity[k].min;
            hi = arity[k].max;
            shape = arity[k].shape;
        }
    if (o->nargs < lo || o->nargs > hi)
        return bad(err, "wrong arguments for %s: usage: bmsctl [options] %s", ctl_cmd_name(o->cmd),
                   shape);
    return 0;
}

static int positional(struct ctl_opts *o, const char *arg, FILE *err)
{
    if (o->cmd < 0) {
        o->cmd = ctl_cmd_find(arg);
        if (o->cmd < 0)
            return bad(err, "unknown command '%s'%s", arg, "");
        return 0;
    }
    if (o->nargs >= CTL_MAX_ARGS)
        return bad(err, "too many arguments (at most %s)%s", "16", "");
    o->args[o->nargs++] = arg;
    return 0;
}

/* An option that belongs to another command than the one given. */
static int check_cmd_opts(const struct ctl_opts *o, const unsigned *seen, FILE *err)
{
    for (unsigned k = 0; k < sizeof(cmd_opts) / sizeof(cmd_opts[0]); k++)
        if (seen[k] && o->cmd >= 0 && o->cmd != cmd_opts[k].cmd)
            return bad(err, "%s applies to the %s command only", cmd_opts[k].name,
                       ctl_cmd_name(cmd_opts[k].cmd));
    return 0;
}

static void finish(struct ctl_opts *o)
{
    if (!o->link.port)
        o->link.port = config_map_default_port(o->map->kind);
    if (!o->layout.cells_per_string)
        o->layout.cells_per_string = CTL_DEFAULT_CELLS_STRING;
    if (o->layout.sensors_per_string == UINT32_MAX)
        o->layout.sensors_per_string = ctl_default_sensors_per_string(o->layout.cells_per_string);
}

int ctl_opts_parse(struct ctl_opts *o, int argc, char **argv, FILE *out, FILE *err)
{
    unsigned seen[sizeof(cmd_opts) / sizeof(cmd_opts[0])] = { 0 };
    int c, rc;
    defaults(o);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:H:p:u:m:t:i:n:c:h", long_opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *what = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            if (optopt >= '0' && optopt <= '9')
                return bad(err, "unknown option '%s' (a negative value goes after --)%s", what, "");
            return bad(err, c == ':' ? "option '%s' needs a value%s" : "unknown option '%s'%s",
                       what, "");
        }
        for (unsigned k = 0; k < sizeof(cmd_opts) / sizeof(cmd_opts[0]); k++)
            seen[k] |= cmd_opts[k].opt == c;
        rc = c == 1 ? positional(o, optarg, err) : flag(o, c, optarg, out, err);
        if (rc)
            return rc == OPTS_DONE ? CTL_EXIT_OK : rc;
    }
    for (int k = optind; k < argc; k++)
        if ((rc = positional(o, argv[k], err)) != 0)
            return rc;
    if ((rc = check_cmd_opts(o, seen, err)) != 0)
        return rc;
    if (o->cmd >= 0 && (rc = check_args(o, err)) != 0)
        return rc;
    finish(o);
    return -1;
}
