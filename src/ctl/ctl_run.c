/* SPDX-License-Identifier: MIT */
/* ctl_run.c — a bmsctl session: read a view in batches, name failures, print, run commands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/clock.h"
#include "bmsgw/ctl.h"

#define CTL_MAX_GROUPS 64 /* groups a count field can describe */

int ctl_session_init(struct ctl_session *s, const struct ctl_opts *o, FILE *out, FILE *err)
{
    memset(s, 0, sizeof(*s));
    s->o = o;
    s->out = out;
    s->err = err;
    s->img = calloc(1, sizeof(*s->img));
    s->query = calloc(1, sizeof(*s->query));
    s->link = ctl_link_new(&o->link);
    if (!s->img || !s->query || !s->link) {
        ctl_session_deinit(s);
        return -ENOMEM;
    }
    const char *term = getenv("TERM");
    bool tty = isatty(fileno(out)) && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
    s->color = o->format == CTL_FMT_TEXT && (o->color < 0 ? tty : o->color > 0);
    return 0;
}

void ctl_session_deinit(struct ctl_session *s)
{
    ctl_link_free(s->link);
    free(s->img);
    free(s->query);
    s->link = NULL;
    s->img = NULL;
    s->query = NULL;
}

/* ---- failures ------------------------------------------------------------------------------ */

static const char *hint(const struct ctl_session *s, const struct ctl_failure *f, bool writing,
                        char *buf, size_t size)
{
    buf[0] = 0;
    if (!f->fc && f->err == ECONNREFUSED)
        snprintf(buf, size, " (is bmsgw or bmsgw-sim serving the %s map on port %d?)",
                 s->o->map->name, s->o->link.port);
    else if (f->exception == MBMAP_EX_DEVICE_FAILURE && !writing)
        snprintf(buf, size, " (a gateway answers this while its battery data is stale)");
    else if (f->exception == MBMAP_EX_GATEWAY_TARGET)
        snprintf(buf, size, " (unit id %d is not served here: check -u)", s->o->link.unit);
    else if (f->exception == MBMAP_EX_ILLEGAL_FUNCTION && writing)
        snprintf(buf, size, " (the device refuses writes: modbus_tcp.allow_writes on a gateway)");
    else if (f->exception == MBMAP_EX_ILLEGAL_ADDRESS && writing)
        snprintf(buf, size, " (not writable on this device)");
    else if (f->exception == MBMAP_EX_ILLEGAL_VALUE && writing)
        snprintf(buf, size, " (the device does not accept this value)");
    return buf;
}

void ctl_session_report(struct ctl_session *s, bool writing)
{
    const struct ctl_failure *f = ctl_link_failure(s->link);
    char text[256], more[160];
    fprintf(s->err, "bmsctl: %s:%d: %s%s\n", s->o->link.host, s->o->link.port,
            ctl_failure_text(f, s->o->link.timeout_ms, text, sizeof(text)),
            hint(s, f, writing, more, sizeof(more)));
}

/* Does the device answer a register that only map m declares? */
static bool answers_like(struct ctl_session *s, const struct mbmap *m)
{
    long a = ctl_probe_addr(m, MBMAP_REGS);
    struct mbmap_span span = { .addr = (uint16_t)a, .qty = 1 };
    return a >= 0 && ctl_link_read(s->link, MBMAP_REGS, &span, 1, s->img) == 0;
}

/* After "illegal data address": tell a device that serves another map from a smaller one. */
static void report_address(struct ctl_session *s)
{
    struct ctl_failure f = *ctl_link_failure(s->link);
    char text[256];
    const struct mbmap *m = s->o->map, *like = NULL;
    ctl_failure_text(&f, s->o->link.timeout_ms, text, sizeof(text));
    if (answers_like(s, m)) {
        fprintf(s->err, "bmsctl: %s:%d: %s\n", s->o->link.host, s->o->link.port, text);
        return;
    }
    for (int k = 0; k < MBMAP_KIND_COUNT && !like; k++)
        if (mbmap_get(k) != m && answers_like(s, mbmap_get(k)))
            like = mbmap_get(k);
    if (like)
        fprintf(s->err,
                "bmsctl: %s:%d: wrong map: the device does not serve the %s map, it answers like "
                "the %s map (try --map %s): %s\n",
                s->o->link.host, s->o->link.port, m->name, like->name, like->name, text);
    else
        fprintf(s->err,
                "bmsctl: %s:%d: the device does not serve the %s map (check --map and -p): %s\n",
                s->o->link.host, s->o->link.port, m->name, text);
}

/* ---- reading ------------------------------------------------------------------------------- */

/* Read what the image needs, table by table. Returns 0 or an exit status (reported). */
static int read_needed(struct ctl_session *s)
{
    for (int t = 0; t < MBMAP_TABLE_COUNT; t++) {
        unsigned n = ctl_plan(s->o->map, s->img, t, NULL, 0);
        struct mbmap_span *spans = n ? calloc(n, sizeof(*spans)) : NULL;
        if (n && !spans) {
            fprintf(s->err, "bmsctl: out of memory\n");
            return CTL_EXIT_IO;
        }
        ctl_plan(s->o->map, s->img, t, spans, n);
        int rc = ctl_link_read(s->link, t, spans, n, s->img);
        free(spans);
        if (rc == CTL_LINK_EXCEPTION && ctl_link_failure(s->link)->exception == 2)
            report_address(s);
        else if (rc)
            ctl_session_report(s, false);
        if (rc)
            return CTL_EXIT_IO;
    }
    return 0;
}

/* The installed items per group (Tescom: batteries per arm), read first. */
static int read_counts(struct ctl_session *s, const struct mbmap_field *f, uint16_t *counts)
{
    struct ctl_sel sel = { .f = f, .group_first = 0, .group_last = 0 };
    struct ctl_values v = { 0 };
    ctl_need_clear(s->img);
    ctl_need_mark(s->img, &sel, 1);
    int rc = read_needed(s);
    if (rc == 0 && ctl_decode(s->img, &sel, 1, s->o->word_order, &v) != 0)
        rc = CTL_EXIT_IO;
    for (size_t k = 0; rc == 0 && k < v.n && k < CTL_MAX_GROUPS; k++)
        counts[k] = v.v[k].value > 0 && v.v[k].value < 65536 ? (uint16_t)v.v[k].value : 0;
    ctl_values_free(&v);
    return rc;
}

int ctl_session_read(struct ctl_session *s, int cmd, const char *range, struct ctl_result *r,
                     int64_t *time_ms)
{
    struct ctl_query *q = s->query;
    const struct ctl_view *view = ctl_view_get(s->o->map->kind, cmd);
    const struct mbmap_field *count_f = ctl_view_count_field(s->o->map);
    uint16_t counts[CTL_MAX_GROUPS] = { 0 };
    char why[160];
    if (!view)
        return CTL_EXIT_USAGE;
    if (view->unavailable) {
        fprintf(s->err, "bmsctl: %s: %s\n", ctl_cmd_name(cmd), view->unavailable);
        return CTL_EXIT_USAGE;
    }
    if (count_f && count_f->count <= CTL_MAX_GROUPS && read_counts(s, count_f, counts) != 0)
        return CTL_EXIT_IO;
    if (ctl_query_build(q, s->o->map, view, range, count_f ? counts : NULL, why, sizeof(why))) {
        fprintf(s->err, "bmsctl: %s\n", why);
        return CTL_EXIT_USAGE;
    }
    ctl_need_clear(s->img);
    ctl_need_mark(s->img, q->sel, q->n_sel);
    int rc = read_needed(s);
    if (rc)
        return rc;
    *time_ms = clock_real_ms();
    if (ctl_query_decode(q, s->o->map, s->img, s->o->word_order, r) != 0) {
        fprintf(s->err, "bmsctl: out of memory\n");
        return CTL_EXIT_IO;
    }
    return CTL_EXIT_OK;
}

/* ---- printing ------------------------------------------------------------------------------ */

static json_t *json_head(const struct ctl_session *s, int64_t time_ms)
{
    const struct ctl_opts *o = s->o;
    return json_pack("{s:{s:s, s:i, s:i, s:s, s:s}, s:I}", "device", "host", o->link.host, "port",
                     o->link.port, "unit", o->link.unit, "map", o->map->name, "word_order",
                     o->word_order == MBMAP_WORDS_CDAB ? "cdab" : "abcd", "timestamp_ms",
                     (json_int_t)time_ms);
}

static void print_strings(struct ctl_session *s, const struct ctl_result *r, int64_t time_ms)
{
    struct ctl_strings st;
    const struct ctl_layout *lay = s->o->map->kind == MBMAP_MEGA ? &s->o->layout : NULL;
    static const struct ctl_layout none = { 0 };
    if (ctl_strings_build(&r->v, lay ? lay : &none, &st) != 0)
        return;
    if (s->o->format == CTL_FMT_JSON) {
        json_t *obj = json_head(s, time_ms);
        if (obj && ctl_strings_json(obj, &st, lay) == 0)
            ctl_json_print(s->out, obj);
        json_decref(obj);
    } else if (s->o->format == CTL_FMT_CSV) {
        ctl_strings_csv(s->out, &st);
    } else {
        ctl_strings_text(s->out, &st, s->o->map->kind == MBMAP_TESCOM ? "arm" : "string");
        if (lay && !lay->sensors_per_string)
            fprintf(s->out, "  (temperatures for the system only: give --sensors-per-string "
                            "to split them by string)\n");
    }
    ctl_strings_free(&st);
}

void ctl_print_result(struct ctl_session *s, int cmd, const struct ctl_result *r, int64_t time_ms)
{
    const struct ctl_opts *o = s->o;
    const struct ctl_view *view = ctl_view_get(o->map->kind, cmd);
    if (o->format == CTL_FMT_TEXT)
        fprintf(s->out, "%s at %s:%d (unit %d): %s\n", o->map->title, o->link.host, o->link.port,
                o->link.unit, view->title);
    if (cmd == CTL_CMD_STRINGS) {
        print_strings(s, r, time_ms);
    } else if (o->format == CTL_FMT_JSON) {
        json_t *obj = json_head(s, time_ms);
        for (unsigned k = 0; obj && k < r->n_sections; k++)
            ctl_json_add(obj, &r->v, r->sec[k].first, r->sec[k].end);
        if (obj)
            ctl_json_print(s->out, obj);
        json_decref(obj);
    } else if (o->format == CTL_FMT_CSV) {
        ctl_csv_header(s->out, false);
        for (unsigned k = 0; k < r->n_sections; k++)
            ctl_csv_rows(s->out, &r->v, r->sec[k].first, r->sec[k].end, -1);
    } else {
        struct ctl_text_style st = { .color = s->color };
        for (unsigned k = 0; k < r->n_sections; k++)
            ctl_text_section(s->out, r->sec[k].title, &r->v, r->sec[k].first, r->sec[k].end, &st);
    }
    fflush(s->out);
}

/* ---- commands ------------------------------------------------------------------------------ */

static int run_view(struct ctl_session *s, int cmd, unsigned nargs, const char *const *args)
{
    struct ctl_result r = { 0 };
    int64_t time_ms = 0;
    int rc = ctl_session_read(s, cmd, nargs ? args[0] : NULL, &r, &time_ms);
    if (rc == CTL_EXIT_OK)
        ctl_print_result(s, cmd, &r, time_ms);
    ctl_result_free(&r);
    return rc;
}

int ctl_run(struct ctl_session *s, int cmd, unsigned nargs, const char *const *args)
{
    switch (cmd) {
    case CTL_CMD_WATCH:
        return ctl_watch(s, s->o->interval_s, s->o->count);
    case CTL_CMD_WRITE_COIL:
        return ctl_write_coil(s, nargs, args);
    case CTL_CMD_WRITE_REG:
        return ctl_write_reg(s, nargs, args);
    case CTL_CMD_TOKEN:
        return ctl_token(s->o->config, s->o->format, s->out, s->err);
    default:
        return cmd >= 0 && cmd < CTL_VIEW_COUNT ? run_view(s, cmd, nargs, args) : CTL_EXIT_USAGE;
    }
}
