/* SPDX-License-Identifier: MIT */
/* sim_scenario.c — a timeline of control commands ("<seconds> <command>" per line). */
#include "sim_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_line(struct sim_scenario *sc, char *text, int line, double prev_t)
{
    char *p = text + strspn(text, " \t");
    p[strcspn(p, "\r\n")] = '\0';
    if (*p == '\0' || *p == '#')
        return 0;
    char *end;
    double t = strtod(p, &end);
    if (end == p || !isfinite(t) || t < 0 || (*end != ' ' && *end != '\t')) {
        fprintf(stderr, "%s:%d: expected '<seconds> <command>'\n", sc->path, line);
        return -EINVAL;
    }
    if (t < prev_t) {
        fprintf(stderr, "%s:%d: time %.3f goes back (the previous step is at %.3f)\n", sc->path,
                line, t, prev_t);
        return -EINVAL;
    }
    end += strspn(end, " \t");
    if (!*end || strlen(end) >= SIM_CONTROL_LINE_MAX) {
        fprintf(stderr, "%s:%d: missing or too long command\n", sc->path, line);
        return -EINVAL;
    }
    struct sim_step *steps = realloc(sc->steps, (sc->n + 1) * sizeof(*steps));
    if (!steps)
        return -ENOMEM;
    sc->steps = steps;
    steps[sc->n].t_s = t;
    steps[sc->n].line = line;
    snprintf(steps[sc->n].cmd, sizeof(steps[sc->n].cmd), "%s", end);
    sc->n++;
    return 0;
}

int sim_scenario_load(struct sim_scenario *sc, const char *path)
{
    memset(sc, 0, sizeof(*sc));
    if (!path)
        return 0;
    sc->path = path;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -errno;
    }
    char text[512];
    int line = 0, rc = 0;
    while (rc == 0 && fgets(text, sizeof(text), f)) {
        line++;
        rc = parse_line(sc, text, line, sc->n ? sc->steps[sc->n - 1].t_s : 0);
    }
    fclose(f);
    if (rc)
        sim_scenario_free(sc);
    return rc;
}

void sim_scenario_run(struct sim_scenario *sc, double elapsed_s, sim_exec_fn exec, void *ctx)
{
    char reply[SIM_CONTROL_LINE_MAX];
    while (sc->next < sc->n && sc->steps[sc->next].t_s <= elapsed_s) {
        const struct sim_step *st = &sc->steps[sc->next++];
        if (exec(ctx, st->cmd, reply, sizeof(reply)) != 0)
            fprintf(stderr, "%s:%d: %s\n", sc->path, st->line, reply);
    }
}

void sim_scenario_free(struct sim_scenario *sc)
{
    free(sc->steps);
    sc->steps = NULL;
    sc->n = sc->next = 0;
}
