/* SPDX-License-Identifier: MIT */
/* mbmap_doc.c — the register-map reference (docs/modbus-maps.md) written from the map tables. */
#include <stdio.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/mbmap.h"

static const char *const table_titles[MBMAP_TABLE_COUNT] = {
    [MBMAP_COILS] = "Coils (FC1 read, FC5/FC15 write)",
    [MBMAP_DISCRETE] = "Discrete inputs (FC2)",
    [MBMAP_REGS] = "Registers (FC3 = FC4 read, FC6/FC16 write)",
};

/* "1010 + (i-1)", "1001 + (g-1)x1000 + 4 + (i-1)x7"-style address of a field. */
static void addr_text(const struct mbmap_field *f, char *buf, size_t size)
{
    unsigned groups = mbmap_field_groups(f);
    long first = mbmap_field_addr(f, 0, 0);
    long last = mbmap_field_addr(f, groups - 1, f->count - 1) + (long)mbmap_field_width(f) - 1;
    size_t n = (size_t)snprintf(buf, size, "%ld", first);
    if (last != first)
        n += (size_t)snprintf(buf + n, size - n, "-%ld", last);
    if (groups > 1 && n < size)
        n += (size_t)snprintf(buf + n, size - n, "; %s g: +(g-1)x%u", f->group_label,
                              f->group_stride);
    if (f->count > 1 && n < size) {
        long stride = mbmap_field_addr(f, 0, 1) - first;
        snprintf(buf + n, size - n, "; %s i: +(i-1)x%ld", f->item_label ? f->item_label : "item",
                 stride);
    }
}

static void value_text(const struct mbmap_field *f, char *buf, size_t size)
{
    if (f->type == MBMAP_STRING)
        snprintf(buf, size, "%u registers, 2 ASCII characters each, NUL-padded", f->str_regs);
    else if (f->type == MBMAP_BIT)
        snprintf(buf, size, "0/1");
    else if (f->type >= MBMAP_F16)
        snprintf(buf, size, "%s%s", f->unit[0] ? f->unit : "-",
                 f->type == MBMAP_F16 ? " (the next register is 0)" : "");
    else if (mbmap_field_scale(f) != 1)
        snprintf(buf, size, "%g %s", mbmap_field_scale(f), f->unit);
    else
        snprintf(buf, size, "%s", f->unit[0] ? f->unit : "-");
}

static const char *access_text(const struct mbmap_field *f)
{
    if (f->flags & MBMAP_WRITABLE)
        return "read/write";
    if (f->flags & MBMAP_SIM_WRITE)
        return "read (simulator: write)";
    return "read";
}

static void write_fields(FILE *out, const struct mbmap *m, int table)
{
    char addr[128], value[96];
    fprintf(out,
            "\n%s:\n\n| address | key | value | type | unit | access |\n"
            "|---|---|---|---|---|---|\n",
            table_titles[table]);
    for (unsigned k = 0; k < m->n_fields; k++) {
        const struct mbmap_field *f = &m->fields[k];
        if (f->table != table)
            continue;
        addr_text(f, addr, sizeof(addr));
        value_text(f, value, sizeof(value));
        fprintf(out, "| %s | `%s` | %s%s | %s | %s | %s |\n", addr, f->key, f->label,
                (f->flags & MBMAP_ABSENT) ? " (not measured: 0x8000)" : "",
                mbmap_type_name(f->type), value, access_text(f));
    }
}

static void write_ranges(FILE *out, const struct mbmap *m)
{
    fprintf(out, "\nDeclared ranges (a request must lie inside them, else exception 0x02; "
                 "*live* ranges answer 0x04 while the data is stale):\n\n");
    for (unsigned i = 0; i < m->n_ranges; i++) {
        const struct mbmap_range *r = &m->ranges[i];
        fprintf(out, "- %s %u-%u: %s%s\n", mbmap_table_name(r->table), r->first, r->last, r->name,
                (r->flags & MBMAP_LIVE) ? " (*live*)" : "");
    }
}

void mbmap_write_markdown(FILE *out)
{
    fprintf(out, "<!-- SPDX-License-Identifier: MIT -->\n"
                 "# Modbus TCP register maps\n\n"
                 "Generated from the map tables (`src/mbtcp/map_*.c`) by `ninja -C build docs`; do"
                 " not edit.\nAddresses are 0-based PDU addresses. A value is raw x scale "
                 "in the unit given. 32/64-bit values\nare sent high word first (`word_order = "
                 "\"abcd\"`) or low word first (`\"cdab\"`).\n");
    for (int k = 0; k < MBMAP_KIND_COUNT; k++) {
        const struct mbmap *m = mbmap_get(k);
        fprintf(out, "\n## %s (`%s`, default port %d)\n", m->title, m->name,
                config_map_default_port(m->kind));
        write_ranges(out, m);
        for (int t = 0; t < MBMAP_TABLE_COUNT; t++) {
            bool any = false;
            for (unsigned i = 0; i < m->n_fields; i++)
                any = any || m->fields[i].table == t;
            if (any)
                write_fields(out, m, t);
        }
    }
}
