/* SPDX-License-Identifier: MIT */
/* ctl_out_text.c — decoded values for people: aligned lists, tables, grids, bit rows (pure). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl_out.h"
#include "bmsgw/ctl_summary.h"

#define MAX_COLS     24
#define GRID_RUN_MIN 10 /* a run of this many empty values is folded into one line */
#define BITS_PER_ROW 50

#define ATTR_CHANGED "\033[7m"
#define ATTR_ALARM   "\033[1;31m"
#define ATTR_BOTH    "\033[1;31;7m"
#define ATTR_TITLE   "\033[1m"
#define ATTR_RESET   "\033[0m"

/* Characters on the screen (UTF-8 continuation bytes take no room). */
static int text_width(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* text padded to |width| (width > 0: right-aligned), with attr around the text only. */
static void put_cell(FILE *out, const char *text, int width, const char *attr)
{
    int pad = abs(width) - text_width(text);
    if (width > 0)
        fprintf(out, "%*s", pad > 0 ? pad : 0, "");
    fprintf(out, "%s%s%s", attr ? attr : "", text, attr && *attr ? ATTR_RESET : "");
    if (width < 0)
        fprintf(out, "%*s", pad > 0 ? pad : 0, "");
}

static const char *attr_of(const struct ctl_text_style *st, const struct ctl_values *v, size_t k)
{
    if (!st->color)
        return "";
    const struct ctl_value *x = &v->v[k], *p = NULL;
    if (st->prev && k < st->prev->n) {
        p = &st->prev->v[k];
        if (p->f != x->f || p->group != x->group || p->item != x->item)
            p = NULL;
    }
    bool changed = p && !ctl_value_same(p, x), alarm = ctl_value_alarm(x);
    return changed && alarm ? ATTR_BOTH : alarm ? ATTR_ALARM : changed ? ATTR_CHANGED : "";
}

/* ---- lists --------------------------------------------------------------------------------- */

static void list_lines(FILE *out, const struct ctl_values *v, const size_t *idx, size_t n,
                       const struct ctl_text_style *st)
{
    int name_w = 20, value_w = 6;
    char name[96], value[256];
    for (size_t k = 0; k < n; k++) {
        const struct ctl_value *x = &v->v[idx[k]];
        int w = text_width(mbmap_value_name(x->f, x->group, x->item, name, sizeof(name)));
        name_w = w > name_w ? w : name_w;
        w = text_width(ctl_value_text(x, value, sizeof(value)));
        value_w = w > value_w && !x->text ? w : value_w;
    }
    for (size_t k = 0; k < n; k++) {
        const struct ctl_value *x = &v->v[idx[k]];
        fprintf(out, "  %5u  ", x->addr);
        put_cell(out, mbmap_value_name(x->f, x->group, x->item, name, sizeof(name)), -name_w, "");
        fputs("  ", out);
        ctl_value_text(x, value, sizeof(value));
        put_cell(out, value, x->text ? 0 : value_w, attr_of(st, v, idx[k]));
        if (x->f->bit_names && !x->absent) {
            char bits[256];
            mbmap_bit_list(x->f, x->raw, bits, sizeof(bits));
            fprintf(out, "  %s", bits[0] ? bits : "none");
        } else if (x->f->table == MBMAP_REGS && x->f->unit && *x->f->unit && !x->absent) {
            fprintf(out, " %s", ctl_unit_text(x->f->unit));
        }
        fputc('\n', out);
    }
}

/* ---- grids of one field -------------------------------------------------------------------- */

/* "arm 1 battery" / "cell": what a grid line's numbers count. */
static void grid_prefix(const struct ctl_value *x, char *buf, size_t size)
{
    const struct mbmap_field *f = x->f;
    if (mbmap_field_groups(f) > 1 && f->group_label)
        snprintf(buf, size, "%s %u %s", f->group_label, x->group + 1u,
                 f->item_label ? f->item_label : "");
    else
        snprintf(buf, size, "%s", f->item_label ? f->item_label : f->label);
}

/* How many values from idx[k] on continue the line (same group, consecutive items). */
static size_t run_length(const struct ctl_values *v, const size_t *idx, size_t n, size_t k,
                         bool empty_only)
{
    size_t r = 1;
    const struct ctl_value *a = &v->v[idx[k]];
    if (empty_only && !ctl_value_empty(a))
        return 0;
    while (k + r < n) {
        const struct ctl_value *b = &v->v[idx[k + r]];
        if (b->group != a->group || b->item != a->item + r || (empty_only && !ctl_value_empty(b)))
            break;
        r++;
    }
    return r;
}

static void grid_summary(FILE *out, const struct ctl_values *v, const size_t *idx, size_t n)
{
    struct ctl_stats s;
    char lo[32], hi[32];
    ctl_stats_init(&s);
    for (size_t k = 0; k < n; k++)
        if (!ctl_value_empty(&v->v[idx[k]]))
            ctl_stats_add(&s, &v->v[idx[k]], v->v[idx[k]].value);
    if (!s.n) {
        fprintf(out, "  %zu values, none measured\n", n);
        return;
    }
    struct ctl_value a = *s.min_at, b = *s.max_at;
    const char *unit = ctl_unit_text(a.f->unit);
    ctl_value_text(&a, lo, sizeof(lo));
    ctl_value_text(&b, hi, sizeof(hi));
    const char *item = a.f->item_label ? a.f->item_label : "item";
    int d = ctl_value_decimals(a.f);
    fprintf(out,
            "  min %s %s (%s %u)  max %s %s (%s %u)  avg %.*f %s  spread %.*f %s  [%u of %zu]\n",
            lo, unit, item, a.item + 1u, hi, unit, item, b.item + 1u, d + 1, ctl_stats_avg(&s),
            unit, d, ctl_stats_spread(&s), unit, s.n, n);
}

static void grid_lines(FILE *out, const struct ctl_values *v, const size_t *idx, size_t n,
                       const struct ctl_text_style *st)
{
    char prefix[64], label[96], value[64];
    int w = 4;
    for (size_t k = 0; k < n; k++) {
        int x = text_width(ctl_value_text(&v->v[idx[k]], value, sizeof(value)));
        w = x > w ? x : w;
    }
    size_t per_line = w <= 6 ? 10 : 5;
    for (size_t k = 0; k < n;) {
        const struct ctl_value *a = &v->v[idx[k]];
        size_t empty = run_length(v, idx, n, k, true);
        size_t len = empty >= GRID_RUN_MIN ? empty : run_length(v, idx, n, k, false);
        if (empty < GRID_RUN_MIN && len > per_line)
            len = per_line;
        for (size_t j = 1; empty < GRID_RUN_MIN && j < len; j++)
            if (run_length(v, idx, n, k + j, true) >= GRID_RUN_MIN)
                len = j; /* the line ends where a foldable run starts */
        grid_prefix(a, prefix, sizeof(prefix));
        snprintf(label, sizeof(label), "%s %u-%u", prefix, a->item + 1u, a->item + (unsigned)len);
        fputs("  ", out);
        put_cell(out, label, -22, "");
        if (empty >= GRID_RUN_MIN) {
            fprintf(out, " all %s\n", a->absent ? "-- (not measured)" : "0");
        } else {
            for (size_t j = 0; j < len; j++) {
                fputc(' ', out);
                put_cell(out, ctl_value_text(&v->v[idx[k + j]], value, sizeof(value)), w,
                         attr_of(st, v, idx[k + j]));
            }
            fputc('\n', out);
        }
        k += len;
    }
}

/* ---- tables: a row per group/item, a column per field -------------------------------------- */

struct table {
    size_t n_rows;
    unsigned n_cols;
    const struct mbmap_field *col[MAX_COLS];
    struct row {
        char label[48];
        size_t cell[MAX_COLS]; /* value index + 1; 0 = none */
    } * rows;
};

static void row_label(const struct ctl_value *x, char *buf, size_t size)
{
    const struct mbmap_field *f = x->f;
    size_t n = 0;
    buf[0] = 0;
    if (mbmap_field_groups(f) > 1 && f->group_label)
        n = (size_t)snprintf(buf, size, "%s %u", f->group_label, x->group + 1u);
    if (f->count > 1 && f->item_label && n < size)
        snprintf(buf + n, size - n, "%s%s %u", n ? " " : "", f->item_label, x->item + 1u);
}

static int table_col(struct table *t, const struct mbmap_field *f)
{
    for (unsigned c = 0; c < t->n_cols; c++)
        if (t->col[c] == f)
            return (int)c;
    if (t->n_cols == MAX_COLS)
        return -1;
    t->col[t->n_cols] = f;
    return (int)t->n_cols++;
}

static struct row *table_row(struct table *t, const char *label, size_t *cursor)
{
    for (size_t k = 0; k < t->n_rows; k++) {
        size_t r = (*cursor + k) % t->n_rows;
        if (strcmp(t->rows[r].label, label) == 0) {
            *cursor = r + 1;
            return &t->rows[r];
        }
    }
    struct row *r = &t->rows[t->n_rows++];
    memset(r, 0, sizeof(*r));
    snprintf(r->label, sizeof(r->label), "%s", label);
    *cursor = 0;
    return r;
}

static void table_header(FILE *out, const struct table *t, const int *w, int label_w)
{
    char head[96];
    fputs("  ", out);
    put_cell(out, "", -label_w, "");
    for (unsigned c = 0; c < t->n_cols; c++) {
        const char *unit = ctl_unit_text(t->col[c]->unit);
        snprintf(head, sizeof(head), *unit ? "%s %s" : "%s%s", t->col[c]->label, unit);
        fputs("  ", out);
        put_cell(out, head, w[c], "");
    }
    fputc('\n', out);
}

static void table_print(FILE *out, const struct ctl_values *v, const struct table *t,
                        const struct ctl_text_style *st)
{
    int w[MAX_COLS], label_w = 6;
    char text[256];
    for (unsigned c = 0; c < t->n_cols; c++) {
        const char *unit = ctl_unit_text(t->col[c]->unit);
        w[c] = text_width(t->col[c]->label) + (*unit ? 1 + text_width(unit) : 0);
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        int lw = text_width(t->rows[r].label);
        label_w = lw > label_w ? lw : label_w;
        for (unsigned c = 0; c < t->n_cols; c++)
            if (t->rows[r].cell[c]) {
                int x = text_width(ctl_value_text(&v->v[t->rows[r].cell[c] - 1], text, 256));
                w[c] = x > w[c] ? x : w[c];
            }
    }
    table_header(out, t, w, label_w);
    for (size_t r = 0; r < t->n_rows; r++) {
        fputs("  ", out);
        put_cell(out, t->rows[r].label, -label_w, "");
        for (unsigned c = 0; c < t->n_cols; c++) {
            size_t i = t->rows[r].cell[c];
            fputs("  ", out);
            put_cell(out, i ? ctl_value_text(&v->v[i - 1], text, sizeof(text)) : "", w[c],
                     i ? attr_of(st, v, i - 1) : "");
        }
        fputc('\n', out);
    }
}

/* A table of alarm flags only: the rows with active ones, the alarms named. */
static void alarm_lines(FILE *out, const struct ctl_values *v, const struct table *t,
                        const struct ctl_text_style *st)
{
    unsigned shown = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        char names[512] = "";
        size_t len = 0;
        const char *attr = "";
        for (unsigned c = 0; c < t->n_cols; c++) {
            size_t i = t->rows[r].cell[c];
            if (!i)
                continue;
            const char *a = attr_of(st, v, i - 1);
            attr = strcmp(a, ATTR_BOTH) == 0 || strcmp(a, ATTR_CHANGED) == 0 ? ATTR_CHANGED : attr;
            if (ctl_value_alarm(&v->v[i - 1]) && len < sizeof(names))
                len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
                                        t->col[c]->label);
        }
        if (!len && !*attr)
            continue;
        fputs("  ", out);
        put_cell(out, t->rows[r].label, -18, "");
        fputs("  ", out);
        put_cell(out, len ? names : "cleared", 0, !st->color ? "" : len ? ATTR_ALARM : attr);
        fputc('\n', out);
        shown++;
    }
    if (!shown)
        fprintf(out, "  none active (%zu checked)\n", t->n_rows);
}

static bool all_alarms(const struct table *t)
{
    for (unsigned c = 0; c < t->n_cols; c++)
        if (!(t->col[c]->flags & MBMAP_ALARM))
            return false;
    return true;
}

static void table_lines(FILE *out, const struct ctl_values *v, const size_t *idx, size_t n,
                        const struct ctl_text_style *st)
{
    bool one_field = true;
    for (size_t k = 1; k < n && one_field; k++)
        one_field = v->v[idx[k]].f == v->v[idx[0]].f;
    if (one_field) {
        grid_lines(out, v, idx, n, st);
        const struct mbmap_field *f = v->v[idx[0]].f;
        if (f->type != MBMAP_STRING && f->unit && *f->unit) /* measurements only */
            grid_summary(out, v, idx, n);
        return;
    }
    struct table t = { .rows = calloc(n, sizeof(struct row)) };
    size_t cursor = 0;
    char label[48];
    if (!t.rows)
        return;
    for (size_t k = 0; k < n; k++) {
        int c = table_col(&t, v->v[idx[k]].f);
        row_label(&v->v[idx[k]], label, sizeof(label));
        if (c >= 0)
            table_row(&t, label, &cursor)->cell[c] = idx[k] + 1;
    }
    if (all_alarms(&t))
        alarm_lines(out, v, &t, st);
    else
        table_print(out, v, &t, st);
    free(t.rows);
}

/* ---- bits ---------------------------------------------------------------------------------- */

static void bit_rows(FILE *out, const struct ctl_values *v, const size_t *idx, size_t n,
                     const struct ctl_text_style *st)
{
    for (size_t k = 0; k < n;) {
        unsigned first = v->v[idx[k]].addr;
        size_t len = 1;
        while (k + len < n && len < BITS_PER_ROW && v->v[idx[k + len]].addr == first + len)
            len++;
        fprintf(out, "  %5u-%-5u ", first, first + (unsigned)len - 1);
        for (size_t j = 0; j < len; j++) {
            if (j % 10 == 0)
                fputc(' ', out);
            put_cell(out, v->v[idx[k + j]].value != 0 ? "1" : "0", 1, attr_of(st, v, idx[k + j]));
        }
        fputc('\n', out);
        k += len;
    }
}

void ctl_text_section(FILE *out, const char *title, const struct ctl_values *v, size_t first,
                      size_t end, const struct ctl_text_style *st)
{
    size_t n = end > first ? end - first : 0, n_list = 0, n_tab = 0, n_bits = 0;
    size_t *idx = calloc(3 * (n ? n : 1), sizeof(size_t));
    if (!idx)
        return;
    size_t *list = idx, *tab = idx + n, *bits = idx + 2 * n;
    for (size_t k = first; k < end; k++) {
        const struct mbmap_field *f = v->v[k].f;
        if (f->count == 1 && mbmap_field_groups(f) == 1)
            list[n_list++] = k;
        else if (f->table != MBMAP_REGS)
            bits[n_bits++] = k;
        else
            tab[n_tab++] = k;
    }
    fprintf(out, "\n%s%s%s\n", st->color ? ATTR_TITLE : "", title, st->color ? ATTR_RESET : "");
    list_lines(out, v, list, n_list, st);
    if (n_tab)
        table_lines(out, v, tab, n_tab, st);
    if (n_bits)
        bit_rows(out, v, bits, n_bits, st);
    if (!n)
        fputs("  (nothing installed)\n", out);
    free(idx);
}
