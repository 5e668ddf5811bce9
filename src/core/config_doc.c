/* SPDX-License-Identifier: MIT */
/* config_doc.c — the shipped bmsgw.conf and the bmsgw.conf(5) key reference, from the schema. */
#include <stdio.h>
#include <string.h>

#include "config_walk.h"

/* Default value of a key as config text ("250", "\"can0\"", "[ 3375, 3400 ]", "preset"). */
static void format_value(const struct cfg_key *k, const char *base, char *buf, size_t size)
{
    const char *p = base + k->offset;
    size_t used = 0;
    int cnt;

    switch (k->type) {
    case CFG_T_INT:
        snprintf(buf, size, "%d", *(const int *)p);
        return;
    case CFG_T_ENUM:
        snprintf(buf, size, "\"%s\"", k->enums[*(const int *)p]);
        return;
    case CFG_T_DOUBLE:
        snprintf(buf, size, "%.1f", *(const double *)p);
        return;
    case CFG_T_BOOL:
        snprintf(buf, size, "%s", *(const bool *)p ? "true" : "false");
        return;
    case CFG_T_STRING:
        snprintf(buf, size, "\"%s\"", p);
        return;
    case CFG_T_INT_ARRAY:
    case CFG_T_DOUBLE_ARRAY:
        cnt = *(const int *)(base + k->count_offset);
        used = (size_t)snprintf(buf, size, "[");
        for (int i = 0; i < cnt && used < size; i++) {
            int n =
                k->type == CFG_T_INT_ARRAY
                    ? snprintf(buf + used, size - used, "%s %d", i ? "," : "", ((const int *)p)[i])
                    : snprintf(buf + used, size - used, "%s %g%s", i ? "," : "",
                               ((const double *)p)[i],
                               ((const double *)p)[i] == (int)((const double *)p)[i] ? ".0" : "");
            used += n > 0 ? (size_t)n : 0;
        }
        if (used < size)
            snprintf(buf + used, size - used, " ]");
        return;
    default:
        snprintf(buf, size, "?");
    }
}

static void write_wrapped_cont(FILE *out, const char *indent, const char *text, const char *cont)
{
    int width = 92;
    const char *lead = "";
    while (*text) {
        int len = (int)strlen(text);
        int cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = width;
        }
        fprintf(out, "%s# %s%.*s\n", indent, lead, cut, text);
        text += cut;
        while (*text == ' ')
            text++;
        lead = cont;
        width = 92 - (int)strlen(cont);
    }
}

static void write_wrapped(FILE *out, const char *indent, const char *text)
{
    write_wrapped_cont(out, indent, text, "");
}

static void meta_line(const struct cfg_key *k, char *buf, size_t size)
{
    char unit[32] = "";
    size_t n = 0;
    if (k->unit)
        snprintf(unit, sizeof(unit), " %s", k->unit);
    switch (k->type) {
    case CFG_T_INT:
        n = (size_t)snprintf(buf, size, "range %lld..%lld%s", k->min, k->max, unit);
        break;
    case CFG_T_DOUBLE:
        n = (size_t)snprintf(buf, size, "range %g..%g%s", k->dmin, k->dmax, unit);
        break;
    case CFG_T_STRING:
        n = (size_t)snprintf(buf, size, "string of %lld..%lld characters", k->min, k->max);
        break;
    case CFG_T_ENUM:
        n = (size_t)snprintf(buf, size, "one of");
        for (int i = 0; k->enums[i] && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s %s", i ? "," : "", k->enums[i]);
        break;
    case CFG_T_INT_ARRAY:
    case CFG_T_DOUBLE_ARRAY:
        n = (size_t)snprintf(buf, size, "%lld..%lld elements, each %g..%g%s", k->min, k->max,
                             k->dmin, k->dmax, unit);
        break;
    default:
        n = (size_t)snprintf(buf, size, "true or false");
        break;
    }
    if (n < size && (k->flags & CFG_F_RESTART))
        snprintf(buf + n, size - n, "; takes effect after a restart");
}

static void preset_default(const struct cfg_key *k, char *buf, size_t size)
{
    struct bmsgw_config c;
    size_t n = (size_t)snprintf(buf, size, "chemistry preset:");
    for (int chem = 0; chem < CFG_CHEM_COUNT && n < size; chem++) {
        char v[96];
        config_defaults(&c);
        c.limits.chemistry = chem;
        config_apply_presets(&c);
        format_value(k,
                     k->preset_bit >= CFG_PRESET_ALARMS_FIRST ? (const char *)&c.alarms
                                                              : (const char *)&c.limits,
                     v, sizeof(v));
        n += (size_t)snprintf(buf + n, size - n, " %s %s%s", config_chemistry_name(chem), v,
                              chem + 1 < CFG_CHEM_COUNT ? ";" : "");
    }
}

static void conf_key(FILE *out, const struct cfg_key *k, const char *base, const char *indent)
{
    char meta[200], def[200];
    write_wrapped(out, indent, k->help);
    meta_line(k, meta, sizeof(meta));
    if (k->flags & CFG_F_PRESET) {
        preset_default(k, def, sizeof(def));
        fprintf(out, "%s# %s\n", indent, meta);
        write_wrapped(out, indent, def);
    } else {
        format_value(k, base, def, sizeof(def));
        fprintf(out, "%s# %s; default %s\n", indent, meta, def);
    }
    format_value(k, base, def, sizeof(def));
    fprintf(out, "%s#%s = %s;\n", indent, k->name, def);
}

static void conf_list(FILE *out, const struct cfg_key *k, const char *base, const char *indent)
{
    char elem_def[512], v[200], dv[200];
    write_wrapped(out, indent, k->help);
    fprintf(out, "%s# A list of at most %lld entries; the members of an entry:\n", indent, k->max);
    for (const struct cfg_key *m = k->sub; m->name; m++) {
        char meta[200], line[400];
        meta_line(m, meta, sizeof(meta));
        snprintf(line, sizeof(line), "  %s: %s (%s)", m->name, m->help, meta);
        write_wrapped_cont(out, indent, line, "      ");
    }
    fprintf(out, "%s%s = (", indent, k->name);
    int cnt = *(const int *)(base + k->count_offset);
    for (int i = 0; i < cnt; i++) {
        const char *e = base + k->offset + (size_t)i * k->elem_size;
        k->elem_defaults(elem_def, (unsigned)i);
        fprintf(out, "%s\n%s  {", i ? "," : "", indent);
        for (const struct cfg_key *m = k->sub; m->name; m++) {
            format_value(m, e, v, sizeof(v));
            format_value(m, elem_def, dv, sizeof(dv));
            if (m == k->sub || strcmp(v, dv) != 0)
                fprintf(out, " %s = %s;", m->name, v);
        }
        fprintf(out, " }");
    }
    fprintf(out, "\n%s);\n", indent);
}

static void conf_group(FILE *out, const struct cfg_key *keys, const char *base, const char *indent)
{
    char sub_indent[16];
    snprintf(sub_indent, sizeof(sub_indent), "%s  ", indent);
    for (const struct cfg_key *k = keys; k->name; k++) {
        if (k != keys)
            fputs("\n", out);
        if (k->type == CFG_T_GROUP) {
            write_wrapped(out, indent, k->help);
            fprintf(out, "%s%s = {\n", indent, k->name);
            conf_group(out, k->sub, base + k->offset, sub_indent);
            fprintf(out, "%s};\n", indent);
        } else if (k->type == CFG_T_LIST) {
            conf_list(out, k, base, indent);
        } else {
            conf_key(out, k, base, indent);
        }
    }
}

void cfg_write_conf(FILE *out)
{
    struct bmsgw_config c;
    config_defaults(&c);
    fputs("# /etc/bmsgw.conf - configuration of bmsgw, the TinyBMS battery gateway daemon.\n"
          "#\n"
          "# libconfig syntax: key = value; groups in { }, lists in ( ), arrays in [ ].\n"
          "# Every key is listed with its meaning, range and default, commented out: remove\n"
          "# the '#' in front of a key to change it. Unknown keys are errors.\n"
          "# Changes made through the REST API are stored in <state_dir>/runtime.conf, which\n"
          "# overlays this file. Check the result with: bmsgw -t -c /etc/bmsgw.conf\n"
          "# Reload a running daemon with: systemctl reload bmsgw\n"
          "#\n"
          "# This file is generated from the daemon's key table, like bmsgw.conf(5).\n\n",
          out);
    conf_group(out, cfg_schema, (const char *)&c, "");
}

/* ---- man page ----------------------------------------------------------------------------- */

static void man_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

static void man_key(FILE *out, const struct cfg_key *k, const char *base, const char *prefix)
{
    char meta[200], def[200];
    fprintf(out, ".TP\n.B ");
    man_text(out, prefix);
    man_text(out, k->name);
    fputs("\n", out);
    man_text(out, k->help);
    meta_line(k, meta, sizeof(meta));
    if (k->flags & CFG_F_PRESET)
        preset_default(k, def, sizeof(def));
    else if (base)
        format_value(k, base, def, sizeof(def));
    else
        snprintf(def, sizeof(def), "%s", k->def_s ? k->def_s : "see above");
    fputs("\n.br\n", out);
    man_text(out, meta);
    fputs("; default ", out);
    man_text(out, def);
    fputs(".\n", out);
}

static void man_group(FILE *out, const struct cfg_key *keys, const char *base, const char *prefix)
{
    for (const struct cfg_key *k = keys; k->name; k++) {
        char sub[96];
        if (k->type == CFG_T_GROUP) {
            fprintf(out, ".SS \"%s\"\n", k->name);
            man_text(out, k->help);
            fputs("\n", out);
            snprintf(sub, sizeof(sub), "%s%s.", prefix, k->name);
            man_group(out, k->sub, base + k->offset, sub);
        } else if (k->type == CFG_T_LIST) {
            fprintf(out, ".TP\n.B ");
            man_text(out, prefix);
            man_text(out, k->name);
            fputs("\n", out);
            man_text(out, k->help);
            fprintf(out, " A list of at most %lld entries with these members:\n", k->max);
            snprintf(sub, sizeof(sub), "%s%s[].", prefix, k->name);
            char elem[512];
            k->elem_defaults(elem, 0);
            for (const struct cfg_key *m = k->sub; m->name; m++)
                man_key(out, m, m->type == CFG_T_STRING ? NULL : elem, sub);
        } else {
            man_key(out, k, base, prefix);
        }
    }
}

void cfg_write_man_keys(FILE *out)
{
    struct bmsgw_config c;
    config_defaults(&c);
    man_group(out, cfg_schema, (const char *)&c, "");
}
