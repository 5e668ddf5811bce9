/* SPDX-License-Identifier: MIT */
/* ctl_summary.c — per-string statistics of cells and temperatures, and their output (pure). */
#include "bmsgw/ctl_summary.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl_out.h"

void ctl_stats_init(struct ctl_stats *s)
{
    memset(s, 0, sizeof(*s));
}

void ctl_stats_add(struct ctl_stats *s, const struct ctl_value *at, double x)
{
    if (s->n == 0 || x < s->min) {
        s->min = x;
        s->min_at = at;
    }
    if (s->n == 0 || x > s->max) {
        s->max = x;
        s->max_at = at;
    }
    s->sum += x;
    s->n++;
}

double ctl_stats_avg(const struct ctl_stats *s)
{
    return s->n ? s->sum / s->n : NAN;
}

double ctl_stats_spread(const struct ctl_stats *s)
{
    return s->n ? s->max - s->min : NAN;
}

bool ctl_value_empty(const struct ctl_value *v)
{
    return v->absent || isnan(v->value) || (v->f->table == MBMAP_REGS && v->value == 0);
}

/* ---- building ------------------------------------------------------------------------------ */

enum role { R_NONE = 0, R_CELL, R_TEMP, R_SOC, R_CURRENT, R_STATUS };

/* What the values of the strings views mean, by field key. */
static const struct {
    const char *key;
    enum role role;
} roles[] = {
    { "cell_voltage", R_CELL }, { "temperature", R_TEMP },  { "battery_voltage", R_CELL },
    { "battery_rimt", R_TEMP }, { "battery_ntc1", R_TEMP }, { "battery_ntc2", R_TEMP },
    { "battery_ntc3", R_TEMP }, { "battery_soc", R_SOC },   { "arm_current", R_CURRENT },
    { "arm_status", R_STATUS },
};

static enum role role_of(const struct mbmap_field *f)
{
    for (unsigned k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
        if (strcmp(roles[k].key, f->key) == 0)
            return roles[k].role;
    return R_NONE;
}

/* 1-based string of a value; 0 when it belongs to the system only. */
static unsigned string_of(const struct ctl_value *x, enum role r, const struct ctl_layout *lay)
{
    if (mbmap_field_groups(x->f) > 1)
        return x->group + 1u;
    unsigned per = r == R_CELL ? lay->cells_per_string : lay->sensors_per_string;
    return x->f->count > 1 && per ? x->item / per + 1 : 0;
}

static void sum_init(struct ctl_string_sum *s, unsigned no)
{
    memset(s, 0, sizeof(*s));
    s->no = no;
    s->status = -1;
}

static void sum_add(struct ctl_string_sum *s, enum role r, const struct ctl_value *x)
{
    double mv = x->value * (x->f->unit && strcmp(x->f->unit, "V") == 0 ? 1000.0 : 1.0);
    switch (r) {
    case R_CELL:
        if (!ctl_value_empty(x))
            ctl_stats_add(&s->cells_mv, x, mv);
        break;
    case R_TEMP:
        if (!x->absent && !isnan(x->value))
            ctl_stats_add(&s->temps_c, x, x->value);
        break;
    case R_SOC:
        ctl_stats_add(&s->soc_pct, x, x->value);
        break;
    case R_CURRENT:
        ctl_stats_add(&s->current_a, x, x->value);
        break;
    case R_STATUS:
        s->status = x->value != 0;
        break;
    default:
        break;
    }
}

static bool sum_has_data(const struct ctl_string_sum *s)
{
    return s->cells_mv.n || s->temps_c.n || s->current_a.n || s->status >= 0;
}

int ctl_strings_build(const struct ctl_values *v, const struct ctl_layout *lay,
                      struct ctl_strings *out)
{
    unsigned n = 0;
    memset(out, 0, sizeof(*out));
    sum_init(&out->system, 0);
    for (size_t k = 0; k < v->n; k++) {
        enum role r = role_of(v->v[k].f);
        unsigned s = r ? string_of(&v->v[k], r, lay) : 0;
        n = s > n ? s : n;
    }
    out->s = calloc(n ? n : 1, sizeof(*out->s));
    if (!out->s)
        return -ENOMEM;
    for (unsigned s = 0; s < n; s++)
        sum_init(&out->s[s], s + 1);
    for (size_t k = 0; k < v->n; k++) {
        const struct ctl_value *x = &v->v[k];
        enum role r = role_of(x->f);
        unsigned s = r ? string_of(x, r, lay) : 0;
        if (r != R_STATUS)
            sum_add(&out->system, r, x);
        if (s)
            sum_add(&out->s[s - 1], r, x);
    }
    for (unsigned s = 0; s < n; s++)
        if (sum_has_data(&out->s[s]))
            out->s[out->n++] = out->s[s];
    return 0;
}

void ctl_strings_free(struct ctl_strings *s)
{
    free(s->s);
    memset(s, 0, sizeof(*s));
}

/* ---- output -------------------------------------------------------------------------------- */

static double round3(double x)
{
    return round(x * 1000) / 1000;
}

static json_t *stats_json(const struct ctl_stats *s)
{
    char a[96], b[96];
    if (!s->n)
        return json_pack("{s:i}", "count", 0);
    const struct ctl_value *lo = s->min_at, *hi = s->max_at;
    return json_pack("{s:i, s:f, s:s, s:f, s:s, s:f, s:f}", "count", s->n, "min", round3(s->min),
                     "min_at", mbmap_value_name(lo->f, lo->group, lo->item, a, sizeof(a)), "max",
                     round3(s->max), "max_at",
                     mbmap_value_name(hi->f, hi->group, hi->item, b, sizeof(b)), "avg",
                     round3(ctl_stats_avg(s)), "spread", round3(ctl_stats_spread(s)));
}

static json_t *sum_json(const struct ctl_string_sum *s)
{
    json_t *o = json_pack("{s:o, s:o}", "cells_mv", stats_json(&s->cells_mv), "temperatures_c",
                          stats_json(&s->temps_c));
    if (!o)
        return NULL;
    if (s->no)
        json_object_set_new(o, "string", json_integer(s->no));
    if (s->soc_pct.n)
        json_object_set_new(o, "soc_pct", json_real(round3(ctl_stats_avg(&s->soc_pct))));
    if (s->current_a.n)
        json_object_set_new(o, "current_a", json_real(round3(s->current_a.sum)));
    if (s->status >= 0)
        json_object_set_new(o, "status", json_integer(s->status));
    return o;
}

int ctl_strings_json(json_t *obj, const struct ctl_strings *s, const struct ctl_layout *lay)
{
    json_t *arr = json_array();
    for (unsigned k = 0; arr && k < s->n; k++)
        if (json_array_append_new(arr, sum_json(&s->s[k])))
            return -ENOMEM;
    if (json_object_set_new(obj, "strings", arr) ||
        json_object_set_new(obj, "system", sum_json(&s->system)))
        return -ENOMEM;
    if (lay && lay->cells_per_string &&
        json_object_set_new(obj, "layout",
                            json_pack("{s:i, s:i}", "cells_per_string", lay->cells_per_string,
                                      "sensors_per_string", lay->sensors_per_string)))
        return -ENOMEM;
    return 0;
}

/* "3281 (17)": a statistic and the number of the item that has it. */
static void at_text(double x, const struct ctl_value *at, int decimals, char *buf, size_t size)
{
    if (!at)
        snprintf(buf, size, "--");
    else
        snprintf(buf, size, "%.*f (%u)", decimals, x, at->item + 1u);
}

/* x with decimals, or "--" when there is none. */
static const char *num(double x, int decimals, char *buf, size_t size)
{
    if (isnan(x))
        snprintf(buf, size, "--");
    else
        snprintf(buf, size, "%.*f", decimals, x);
    return buf;
}

static void text_row(FILE *out, const char *name, const struct ctl_string_sum *s, bool extra)
{
    char lo[32], hi[32], tlo[32], thi[32], avg[16], spread[16], tavg[16], cur[16], soc[16];
    at_text(s->cells_mv.min, s->cells_mv.min_at, 0, lo, sizeof(lo));
    at_text(s->cells_mv.max, s->cells_mv.max_at, 0, hi, sizeof(hi));
    at_text(s->temps_c.min, s->temps_c.min_at, 1, tlo, sizeof(tlo));
    at_text(s->temps_c.max, s->temps_c.max_at, 1, thi, sizeof(thi));
    fprintf(out, "  %-7s %5u %13s %13s %8s %7s %7u %12s %12s %7s", name, s->cells_mv.n, lo, hi,
            num(ctl_stats_avg(&s->cells_mv), 1, avg, sizeof(avg)),
            num(ctl_stats_spread(&s->cells_mv), 0, spread, sizeof(spread)), s->temps_c.n, tlo, thi,
            num(ctl_stats_avg(&s->temps_c), 1, tavg, sizeof(tavg)));
    if (extra)
        fprintf(out, " %11s %6s  %s", num(s->current_a.n ? s->current_a.sum : NAN, 2, cur, 16),
                num(ctl_stats_avg(&s->soc_pct), 1, soc, sizeof(soc)),
                s->status < 0 ? ""
                : s->status   ? "normal"
                              : "no data");
    fputc('\n', out);
}

void ctl_strings_text(FILE *out, const struct ctl_strings *s, const char *label)
{
    bool extra = s->system.current_a.n || s->system.soc_pct.n;
    fprintf(out, "  %-7s %5s %13s %13s %8s %7s %7s %12s %12s %7s", label, "cells", "min mV",
            "max mV", "avg mV", "spread", "sensors", "min °C", "max °C", "avg °C");
    fprintf(out, "%s\n", extra ? "   current A  SOC %  status" : "");
    for (unsigned k = 0; k < s->n; k++) {
        char name[16];
        snprintf(name, sizeof(name), "%u", s->s[k].no);
        text_row(out, name, &s->s[k], extra);
    }
    text_row(out, "system", &s->system, extra);
}

static void csv_stats(FILE *out, const struct ctl_stats *s, int decimals)
{
    char a[96] = "", b[96] = "";
    if (!s->n) {
        fputs("0,,,,,,,", out); /* a count of 0 and six empty fields */
        return;
    }
    mbmap_value_name(s->min_at->f, s->min_at->group, s->min_at->item, a, sizeof(a));
    mbmap_value_name(s->max_at->f, s->max_at->group, s->max_at->item, b, sizeof(b));
    fprintf(out, "%u,%.*f,%s,%.*f,%s,%.3f,%.*f,", s->n, decimals, s->min, a, decimals, s->max, b,
            ctl_stats_avg(s), decimals, ctl_stats_spread(s));
}

static void csv_row(FILE *out, const struct ctl_string_sum *s)
{
    if (s->no)
        fprintf(out, "%u,", s->no);
    else
        fputs("system,", out);
    csv_stats(out, &s->cells_mv, 1);
    csv_stats(out, &s->temps_c, 1);
    if (s->soc_pct.n)
        fprintf(out, "%.2f", ctl_stats_avg(&s->soc_pct));
    fputc(',', out);
    if (s->current_a.n)
        fprintf(out, "%.2f", s->current_a.sum);
    fputc(',', out);
    if (s->status >= 0)
        fprintf(out, "%d", s->status);
    fputc('\n', out);
}

void ctl_strings_csv(FILE *out, const struct ctl_strings *s)
{
    fputs("string,cells,min_mv,min_at,max_mv,max_at,avg_mv,spread_mv,sensors,min_c,min_at,max_c,"
          "max_at,avg_c,spread_c,soc_pct,current_a,status\n",
          out);
    for (unsigned k = 0; k < s->n; k++)
        csv_row(out, &s->s[k]);
    csv_row(out, &s->system);
}
