/* SPDX-License-Identifier: MIT */
/* ctl.h — bmsctl: its command line, a session with one device, and the commands. */
#ifndef BMSGW_CTL_H
#define BMSGW_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bmsgw/ctl_link.h"
#include "bmsgw/ctl_out.h"
#include "bmsgw/ctl_summary.h"
#include "bmsgw/ctl_views.h"
#include "bmsgw/mbmap.h"

/* Exit statuses. */
enum { CTL_EXIT_OK = 0, CTL_EXIT_IO = 1, CTL_EXIT_USAGE = 2 };

#define CTL_MAX_ARGS             16
#define CTL_DEFAULT_HOST         "127.0.0.1"
#define CTL_DEFAULT_UNIT         1
#define CTL_DEFAULT_TIMEOUT_MS   1000
#define CTL_DEFAULT_INTERVAL_S   2.0
#define CTL_DEFAULT_CELLS_STRING 208 /* the mega simulator's 24 strings */

struct ctl_opts {
    struct ctl_link_cfg link; /* port 0 until parsed: then the map's default */
    const struct mbmap *map;
    int word_order; /* enum mbmap_word_order */
    int format;     /* enum ctl_format */
    int color;      /* -1: on a terminal, 0: never, 1: always */
    int cmd;        /* enum ctl_cmd; -1: the interactive menu */
    unsigned nargs;
    const char *args[CTL_MAX_ARGS];
    double interval_s;        /* watch */
    long count;               /* watch: refreshes, 0 = until stopped */
    struct ctl_layout layout; /* strings of the mega map */
    bool raw, yes;            /* write-reg */
    const char *config;       /* token */
};

/*
 * Parse the command line into o. Returns -1 to go on, or an exit status: 0 after --help or
 * --version (printed to out), CTL_EXIT_USAGE after a usage error (reported to err, naming the
 * option or argument and what is allowed).
 */
int ctl_opts_parse(struct ctl_opts *o, int argc, char **argv, FILE *out, FILE *err);

/* The mega layout's default sensors per string for a cells-per-string count: in proportion
 * when that is a whole number, else 0 (temperatures for the system only). */
unsigned ctl_default_sensors_per_string(unsigned cells_per_string);

/* One device: the connection (opened when first needed), the client image, the output. */
struct ctl_session {
    const struct ctl_opts *o;
    struct ctl_link *link;
    struct ctl_image *img;
    struct ctl_query *query;
    FILE *out, *err;
    bool color;
};

/* Returns 0 or -ENOMEM. */
int ctl_session_init(struct ctl_session *s, const struct ctl_opts *o, FILE *out, FILE *err);
void ctl_session_deinit(struct ctl_session *s);

/*
 * Read the view of cmd (RANGE for cells and temps; NULL = all) into r with the fewest requests
 * the limits allow; *time_ms gets the wall-clock time of the reading. Returns CTL_EXIT_OK, or
 * CTL_EXIT_IO / CTL_EXIT_USAGE after reporting why to s->err (a wrong map for the device is
 * recognised and named).
 */
int ctl_session_read(struct ctl_session *s, int cmd, const char *range, struct ctl_result *r,
                     int64_t *time_ms);

/* Report the link's last failure ("bmsctl: HOST:PORT: what (hint)") to s->err. */
void ctl_session_report(struct ctl_session *s, bool writing);

/* Print a reading of cmd in the session's format. */
void ctl_print_result(struct ctl_session *s, int cmd, const struct ctl_result *r, int64_t time_ms);

/* Run one command with its arguments (subcommands and the menu). Returns an exit status. */
int ctl_run(struct ctl_session *s, int cmd, unsigned nargs, const char *const *args);

/* watch: read and redraw every interval_s until Ctrl-C, SIGTERM, 'q' on a terminal, or count
 * refreshes (0 = no limit). JSON and CSV print one reading after another. Returns 0, or 1 when
 * the last refresh failed. */
int ctl_watch(struct ctl_session *s, double interval_s, long count);

/* The interactive menu on in/s->out (the seed's eight items and q). Returns an exit status. */
int ctl_menu(struct ctl_session *s, FILE *in);

/* write-coil COIL VALUE, write-reg REG VALUE... (see ctl_opts_parse for the arguments). */
int ctl_write_coil(struct ctl_session *s, unsigned nargs, const char *const *args);
int ctl_write_reg(struct ctl_session *s, unsigned nargs, const char *const *args);

/* token: print the REST API token that the daemon configured in config (NULL = the default
 * file) reads. Never creates the file. Returns an exit status. */
int ctl_token(const char *config, int format, FILE *out, FILE *err);

#endif
