/* SPDX-License-Identifier: MIT */
/* ctl_menu.c — bmsctl's interactive menu: the seed's eight items over the subcommands. */
#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl.h"
#include "bmsgw/mbmap_maps.h"

static const struct {
    char key;
    int cmd;
    const char *label;
} items[] = {
    { '1', CTL_CMD_MAIN, "main parameters" },    { '2', CTL_CMD_ALL, "comprehensive read" },
    { '3', CTL_CMD_CELLS, "cell voltages" },     { '4', CTL_CMD_TEMPS, "temperature sensors" },
    { '5', CTL_CMD_STRINGS, "string analysis" }, { '6', CTL_CMD_STATUS, "system status" },
    { '7', CTL_CMD_COILS, "coil data" },         { '8', CTL_CMD_WATCH, "continuous monitoring" },
};

#define N_ITEMS (sizeof(items) / sizeof(items[0]))

static void show_menu(const struct ctl_session *s)
{
    const struct ctl_opts *o = s->o;
    fprintf(s->out, "\nbmsctl: %s at %s:%d (unit %d)\n", o->map->title, o->link.host, o->link.port,
            o->link.unit);
    for (unsigned k = 0; k < N_ITEMS; k++) {
        const struct ctl_view *v = ctl_view_get(o->map->kind, items[k].cmd);
        fprintf(s->out, "  %c  %s%s\n", items[k].key, items[k].label,
                v->unavailable ? "  (not in this map)" : "");
    }
    fputs("  q  quit\n", s->out);
}

/* Ask and read one line (without its newline) into buf; false at the end of input. */
static bool ask(struct ctl_session *s, FILE *in, const char *prompt, char *buf, size_t size)
{
    fputs(prompt, s->out);
    fflush(s->out);
    if (!fgets(buf, (int)size, in))
        return false;
    buf[strcspn(buf, "\r\n")] = 0;
    char *p = buf;
    while (*p == ' ')
        p++;
    memmove(buf, p, strlen(p) + 1);
    for (size_t n = strlen(buf); n && buf[n - 1] == ' ';)
        buf[--n] = 0;
    return true;
}

/* A number answer, or def for an empty one; false (reported) when it is not in lo..hi. */
static bool ask_number(struct ctl_session *s, FILE *in, const char *what, double def, double lo,
                       double hi, double *v)
{
    char prompt[128], line[64], *end;
    snprintf(prompt, sizeof(prompt), "%s [%g]: ", what, def);
    if (!ask(s, in, prompt, line, sizeof(line)))
        return false;
    *v = line[0] ? strtod(line, &end) : def;
    if (line[0] && (*end || !(*v >= lo && *v <= hi))) {
        fprintf(s->out, "%s must be %g..%g\n", what, lo, hi);
        return false;
    }
    return true;
}

/* The layout of the mega map's strings, asked for string analysis. */
static bool ask_layout(struct ctl_session *s, FILE *in, struct ctl_opts *o)
{
    double cells, sensors;
    if (o->map->kind != MBMAP_MEGA)
        return true;
    if (!ask_number(s, in, "cells per string", o->layout.cells_per_string, 1, MBMAP_MEGA_CELLS,
                    &cells))
        return false;
    unsigned def = ctl_default_sensors_per_string((unsigned)cells);
    if (!ask_number(s, in, "sensors per string (0: system only)", def, 0, MBMAP_MEGA_SENSORS,
                    &sensors))
        return false;
    o->layout.cells_per_string = (unsigned)cells;
    o->layout.sensors_per_string = (unsigned)sensors;
    return true;
}

/* Run item k; false at the end of input. */
static bool run_item(struct ctl_session *s, FILE *in, struct ctl_opts *o, unsigned k)
{
    const struct ctl_view *v = ctl_view_get(o->map->kind, items[k].cmd);
    char line[256], prompt[160];
    const char *args[1] = { line };
    unsigned count = 0;
    double interval;
    if (v->unavailable) {
        fprintf(s->out, "%s\n", v->unavailable);
        return true;
    }
    switch (items[k].cmd) {
    case CTL_CMD_CELLS:
    case CTL_CMD_TEMPS: {
        const char *item = ctl_view_range_item(o->map, v, &count);
        char many[48];
        snprintf(prompt, sizeof(prompt), "%s (1-%u, e.g. 1-16,100; Enter: all): ",
                 ctl_plural(item ? item : "item", many, sizeof(many)), count);
        if (!ask(s, in, prompt, line, sizeof(line)))
            return false;
        ctl_run(s, items[k].cmd, line[0] ? 1 : 0, args);
        return true;
    }
    case CTL_CMD_STRINGS:
        if (ask_layout(s, in, o))
            ctl_run(s, items[k].cmd, 0, NULL);
        return !feof(in);
    case CTL_CMD_WATCH:
        if (ask_number(s, in, "refresh every (seconds)", o->interval_s, 0.1, 3600, &interval)) {
            o->interval_s = interval;
            ctl_watch(s, interval, 0);
        }
        return !feof(in);
    default:
        ctl_run(s, items[k].cmd, 0, NULL);
        return true;
    }
}

int ctl_menu(struct ctl_session *s, FILE *in)
{
    struct ctl_opts local = *s->o;
    const struct ctl_opts *saved = s->o;
    char line[64];
    s->o = &local;
    for (;;) {
        show_menu(s);
        if (!ask(s, in, "choice: ", line, sizeof(line)))
            break;
        if (strcmp(line, "q") == 0 || strcmp(line, "Q") == 0 || strcmp(line, "quit") == 0)
            break;
        unsigned k = 0;
        while (k < N_ITEMS && !(line[0] == items[k].key && line[1] == 0))
            k++;
        if (k == N_ITEMS) {
            if (line[0])
                fprintf(s->out, "'%s' is not a choice: 1-8 or q\n", line);
            continue;
        }
        if (!run_item(s, in, &local, k))
            break;
    }
    fputc('\n', s->out);
    s->o = saved;
    return CTL_EXIT_OK;
}
