/* SPDX-License-Identifier: MIT */
/* ctl_out_data.c — single values for people, and the JSON and CSV of decoded values (pure). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl_out.h"

/* ---- single values ------------------------------------------------------------------------- */

static bool is_integer_type(int type)
{
    return type == MBMAP_U16 || type == MBMAP_S16 || type == MBMAP_U32 || type == MBMAP_S32;
}

int ctl_value_decimals(const struct mbmap_field *f)
{
    double s = mbmap_field_scale(f);
    int d = 0;
    while (d < 9 && fabs(s * pow(10, d) - round(s * pow(10, d))) > 1e-9)
        d++;
    return d;
}

/* The shortest decimal text that reads back as the same float. */
static void float_text(float x, char *buf, size_t size)
{
    for (int p = 6; p <= 9; p++) {
        snprintf(buf, size, "%.*g", p, (double)x);
        if (strtof(buf, NULL) == x)
            return;
    }
}

double ctl_value_rounded(const struct ctl_value *v)
{
    const struct mbmap_field *f = v->f;
    if (isnan(v->value) || isinf(v->value))
        return v->value;
    if (is_integer_type(f->type)) {
        double p = pow(10, ctl_value_decimals(f));
        return round(v->value * p) / p;
    }
    if (f->type == MBMAP_F32) {
        char buf[32];
        float_text((float)v->value, buf, sizeof(buf));
        return strtod(buf, NULL);
    }
    return v->value;
}

const char *ctl_value_text(const struct ctl_value *v, char *buf, size_t size)
{
    const struct mbmap_field *f = v->f;
    if (f->table != MBMAP_REGS)
        snprintf(buf, size, "%s", v->value != 0 ? "yes" : "no");
    else if (v->text)
        snprintf(buf, size, "%s", v->text);
    else if (v->absent || isnan(v->value))
        snprintf(buf, size, "--");
    else if (f->bit_names)
        snprintf(buf, size, "0x%04x", v->raw);
    else if (is_integer_type(f->type))
        snprintf(buf, size, "%.*f", ctl_value_decimals(f), v->value);
    else if (f->type == MBMAP_F32)
        float_text((float)v->value, buf, size);
    else
        snprintf(buf, size, "%.10g", v->value);
    return buf;
}

const char *ctl_unit_text(const char *unit)
{
    return unit && strcmp(unit, "degC") == 0 ? "°C" : unit ? unit : "";
}

bool ctl_value_alarm(const struct ctl_value *v)
{
    return (v->f->flags & MBMAP_ALARM) && !v->absent && v->value != 0 && !isnan(v->value);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static const struct {
    const char *unit, *suffix;
} unit_suffixes[] = {
    { "%", "_pct" }, { "V", "_v" },    { "mV", "_mv" },
    { "A", "_a" },   { "degC", "_c" }, { "Ah", "_ah" },
};

const char *ctl_json_key(const struct mbmap_field *f, const char *container_label, char *buf,
                         size_t size)
{
    const char *key = f->key, *suffix = "";
    size_t n = container_label ? strlen(container_label) : 0;
    if (n && strncmp(key, container_label, n) == 0 && key[n] == '_' && key[n + 1])
        key += n + 1;
    for (unsigned k = 0; k < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); k++)
        if (f->unit && strcmp(f->unit, unit_suffixes[k].unit) == 0)
            suffix = unit_suffixes[k].suffix;
    size_t kl = strlen(key), sl = strlen(suffix);
    if (kl >= sl && strcmp(key + kl - sl, suffix) == 0)
        suffix = "";
    snprintf(buf, size, "%s%s", key, suffix);
    return buf;
}

static json_t *json_value(const struct ctl_value *v)
{
    const struct mbmap_field *f = v->f;
    if (f->table != MBMAP_REGS)
        return json_boolean(v->value != 0);
    if (v->text)
        return json_string(v->text);
    if (v->absent || isnan(v->value) || isinf(v->value))
        return json_null();
    if (is_integer_type(f->type) && mbmap_field_scale(f) == 1)
        return json_integer((json_int_t)v->value);
    return json_real(ctl_value_rounded(v));
}

/* The object numbered no in parent.<plural of label>, made when missing (items come in
 * ascending order, so a number above the last one's is new). */
static json_t *numbered(json_t *parent, const char *label, unsigned no)
{
    char name[64];
    ctl_plural(label, name, sizeof(name));
    json_t *arr = json_object_get(parent, name);
    if (!arr) {
        arr = json_array();
        if (json_object_set_new(parent, name, arr))
            return NULL;
    }
    size_t n = json_array_size(arr);
    json_int_t last =
        n ? json_integer_value(json_object_get(json_array_get(arr, n - 1), label)) : 0;
    for (size_t k = 0; n && last >= (json_int_t)no && k < n; k++) {
        json_t *o = json_array_get(arr, k);
        if (json_integer_value(json_object_get(o, label)) == (json_int_t)no)
            return o;
    }
    json_t *o = json_object();
    if (json_array_append_new(arr, o) || json_object_set_new(o, label, json_integer(no)))
        return NULL;
    return o;
}

/* Coils and discrete inputs: {"address", "key", "name", "value"} in obj.coils or
 * obj.discrete_inputs. */
static int add_bit(json_t *obj, const struct ctl_value *v)
{
    const char *list = v->f->table == MBMAP_COILS ? "coils" : "discrete_inputs";
    char name[96];
    json_t *arr = json_object_get(obj, list);
    if (!arr && json_object_set_new(obj, list, arr = json_array()))
        return -ENOMEM;
    json_t *o = json_pack("{s:i, s:s, s:s, s:b}", "address", v->addr, "key", v->f->key, "name",
                          mbmap_value_name(v->f, v->group, v->item, name, sizeof(name)), "value",
                          v->value != 0);
    return json_array_append_new(arr, o) ? -ENOMEM : 0;
}

static int add_one(json_t *obj, const struct ctl_value *v)
{
    const struct mbmap_field *f = v->f;
    const char *label = NULL;
    char key[96];
    json_t *c = obj;
    if (mbmap_field_groups(f) > 1 && f->group_label) {
        c = numbered(c, f->group_label, v->group + 1u);
        label = f->group_label;
    }
    if (c && f->count > 1 && f->item_label) {
        c = numbered(c, f->item_label, v->item + 1u);
        label = f->item_label;
    }
    if (!c)
        return -ENOMEM;
    ctl_json_key(f, label, key, sizeof(key));
    if (json_object_set_new(c, key, json_value(v)))
        return -ENOMEM;
    if (f->bit_names && !v->absent) {
        json_t *set = json_array();
        char name[40], *save = NULL;
        char list[256];
        mbmap_bit_list(f, v->raw, list, sizeof(list));
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(set, json_string(t[0] == ' ' ? t + 1 : t));
        snprintf(name, sizeof(name), "%s_set", key);
        if (json_object_set_new(c, name, set))
            return -ENOMEM;
    }
    return 0;
}

int ctl_json_add(json_t *obj, const struct ctl_values *v, size_t first, size_t end)
{
    for (size_t k = first; k < end; k++) {
        const struct ctl_value *x = &v->v[k];
        int rc = x->f->table == MBMAP_REGS ? add_one(obj, x) : add_bit(obj, x);
        if (rc)
            return rc;
    }
    return 0;
}

int ctl_json_print(FILE *out, const json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!s)
        return -ENOMEM;
    int rc = fputs(s, out) < 0 || fputc('\n', out) == EOF ? -EIO : 0;
    free(s);
    return rc;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

void ctl_csv_field(FILE *out, const char *text, bool last)
{
    if (strpbrk(text, ",\"\n\r")) {
        fputc('"', out);
        for (const char *p = text; *p; p++) {
            if (*p == '"')
                fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    } else {
        fputs(text, out);
    }
    fputc(last ? '\n' : ',', out);
}

void ctl_csv_header(FILE *out, bool with_time)
{
    fprintf(out, "%saddress,key,name,value,unit\n", with_time ? "time_ms," : "");
}

void ctl_csv_rows(FILE *out, const struct ctl_values *v, size_t first, size_t end, int64_t time_ms)
{
    for (size_t k = first; k < end; k++) {
        const struct ctl_value *x = &v->v[k];
        char name[96], value[256];
        if (time_ms >= 0)
            fprintf(out, "%lld,", (long long)time_ms);
        fprintf(out, "%u,", x->addr);
        ctl_csv_field(out, x->f->key, false);
        ctl_csv_field(out, mbmap_value_name(x->f, x->group, x->item, name, sizeof(name)), false);
        if (x->f->table != MBMAP_REGS)
            snprintf(value, sizeof(value), "%d", x->value != 0);
        else if (x->absent)
            value[0] = 0;
        else if (x->text || x->f->bit_names)
            ctl_value_text(x, value, sizeof(value));
        else
            snprintf(value, sizeof(value), "%.15g", ctl_value_rounded(x));
        ctl_csv_field(out, value, false);
        ctl_csv_field(out, x->f->unit ? x->f->unit : "", true);
    }
}
