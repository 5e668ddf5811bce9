/* SPDX-License-Identifier: MIT */
/* config_json.c — config <-> JSON by schema, overlay merge and persistence. */
#include "bmsgw/config_json.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/persist.h"
#include "config_walk.h"

#define OVERLAY_MAX (256 * 1024)

/* ---- config -> JSON ----------------------------------------------------------------------- */

static json_t *group_to_json(const struct cfg_key *keys, const char *base);

static json_t *key_to_json(const struct cfg_key *k, const char *base)
{
    const char *p = base + k->offset;
    json_t *arr;
    int cnt;

    switch (k->type) {
    case CFG_T_INT:
        return json_integer(*(const int *)p);
    case CFG_T_ENUM:
        return json_string(k->enums[*(const int *)p]);
    case CFG_T_DOUBLE:
        return json_real(*(const double *)p);
    case CFG_T_BOOL:
        return json_boolean(*(const bool *)p);
    case CFG_T_STRING:
        return json_string(p);
    case CFG_T_GROUP:
        return group_to_json(k->sub, p);
    case CFG_T_INT_ARRAY:
    case CFG_T_DOUBLE_ARRAY:
    case CFG_T_LIST:
        arr = json_array();
        cnt = *(const int *)(base + k->count_offset);
        for (int i = 0; i < cnt; i++) {
            json_t *v = k->type == CFG_T_INT_ARRAY ? json_integer(((const int *)p)[i])
                        : k->type == CFG_T_DOUBLE_ARRAY
                            ? json_real(((const double *)p)[i])
                            : group_to_json(k->sub, p + i * k->elem_size);
            json_array_append_new(arr, v);
        }
        return arr;
    }
    return json_null();
}

static json_t *group_to_json(const struct cfg_key *keys, const char *base)
{
    json_t *obj = json_object();
    for (const struct cfg_key *k = keys; k->name; k++)
        json_object_set_new(obj, k->name, key_to_json(k, base));
    return obj;
}

json_t *config_to_json(const struct bmsgw_config *cfg)
{
    return group_to_json(cfg_schema, (const char *)cfg);
}

/* ---- JSON -> config ----------------------------------------------------------------------- */

static int apply_json_object(struct bmsgw_config *cfg, json_t *obj, bool api, struct cfg_error *err)
{
    if (!json_is_object(obj))
        return cfg_fail(err, "", 0, NULL, "the configuration must be a JSON object");
    struct cfg_walk w = {
        .ops = &cfg_json_ops, .file = "", .err = err, .cfg = cfg, .api = api, .skip_null = true
    };
    return cfg_walk_group(&w, cfg_schema, cfg, obj, "");
}

int config_apply_json(struct bmsgw_config *cfg, json_t *patch, struct cfg_error *err)
{
    memset(err, 0, sizeof(*err));
    int rc = apply_json_object(cfg, patch, true, err);
    if (rc == 0) {
        cfg_normalise(cfg);
        rc = config_validate(cfg, err);
    }
    return rc;
}

/* A null member means "the default", which the overlay says by leaving the key out: a copied
 * value (a list element, a group replacing a non-group) keeps none, at any depth. */
static json_t *without_nulls(json_t *v)
{
    const char *key;
    json_t *val;
    void *tmp;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, key, val)
        {
            if (json_is_null(val))
                json_object_del(v, key);
            else
                without_nulls(val);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, val)
        {
            without_nulls(val);
        }
    }
    return v;
}

void config_json_merge(json_t *target, json_t *patch)
{
    const char *key;
    json_t *val;
    json_object_foreach(patch, key, val)
    {
        json_t *cur = json_object_get(target, key);
        if (json_is_null(val))
            json_object_del(target, key);
        else if (json_is_object(val) && json_is_object(cur))
            config_json_merge(cur, val);
        else
            json_object_set_new(target, key, without_nulls(json_deep_copy(val)));
    }
}

/* ---- libconfig file <-> JSON -------------------------------------------------------------- */

static json_t *setting_to_json(const config_setting_t *s)
{
    json_t *out;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return json_integer(config_setting_get_int64(s));
    case CONFIG_TYPE_FLOAT:
        return json_real(config_setting_get_float(s));
    case CONFIG_TYPE_BOOL:
        return json_boolean(config_setting_get_bool(s));
    case CONFIG_TYPE_STRING:
        return json_string(config_setting_get_string(s));
    case CONFIG_TYPE_GROUP:
        out = json_object();
        for (int i = 0; i < config_setting_length(s); i++) {
            config_setting_t *c = config_setting_get_elem(s, (unsigned)i);
            json_object_set_new(out, config_setting_name(c), setting_to_json(c));
        }
        return out;
    default:
        out = json_array();
        for (int i = 0; i < config_setting_length(s); i++)
            json_array_append_new(out, setting_to_json(config_setting_get_elem(s, (unsigned)i)));
        return out;
    }
}

int config_overlay_read(const char *path, json_t **out, struct cfg_error *err)
{
    char *text;
    size_t len;
    config_t lc;
    int rc = persist_read(path, &text, &len, OVERLAY_MAX);

    *out = NULL;
    if (rc == -ENOENT) {
        *out = json_object();
        return 0;
    }
    if (rc)
        return cfg_fail(err, path, 0, NULL, "cannot read the file: %s", strerror(-rc));
    config_init(&lc);
    if (!config_read_string(&lc, text)) {
        rc = cfg_fail(err, path, config_error_line(&lc), NULL, "syntax error: %s",
                      config_error_text(&lc));
    } else {
        *out = setting_to_json(config_root_setting(&lc));
    }
    config_destroy(&lc);
    free(text);
    return rc;
}

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void write_number(FILE *f, json_t *v, bool as_float)
{
    if (json_is_integer(v) && !as_float) {
        long long i = json_integer_value(v);
        fprintf(f, "%lld%s", i, (i > 2147483647LL || i < -2147483648LL) ? "L" : "");
        return;
    }
    char buf[40];
    snprintf(buf, sizeof(buf), "%.17g", json_number_value(v));
    if (!strpbrk(buf, ".eEn"))
        strcat(buf, ".0");
    fputs(buf, f);
}

static void write_group(FILE *f, const struct cfg_key *keys, json_t *obj, int indent);

static void write_value(FILE *f, const struct cfg_key *k, json_t *v, int indent)
{
    bool as_float = k && (k->type == CFG_T_DOUBLE || k->type == CFG_T_DOUBLE_ARRAY);
    size_t i;
    json_t *e;

    if (json_is_object(v)) {
        fputs("{\n", f);
        write_group(f, k ? k->sub : NULL, v, indent + 2);
        fprintf(f, "%*s}", indent, "");
    } else if (json_is_array(v) && k && k->type == CFG_T_LIST) {
        fputs("(", f);
        json_array_foreach(v, i, e)
        {
            fprintf(f, "%s\n%*s", i ? "," : "", indent + 2, "");
            write_value(f, k, e, indent + 2);
        }
        fputs(" )", f);
    } else if (json_is_array(v)) {
        fputs("[", f);
        json_array_foreach(v, i, e)
        {
            fputs(i ? ", " : " ", f);
            write_value(f, k, e, indent);
        }
        fputs(" ]", f);
    } else if (json_is_string(v)) {
        write_string(f, json_string_value(v));
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "true" : "false", f);
    } else if (json_is_number(v)) {
        write_number(f, v, as_float);
    }
}

static void write_group(FILE *f, const struct cfg_key *keys, json_t *obj, int indent)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        const struct cfg_key *k = cfg_key_find(keys, name);
        fprintf(f, "%*s%s = ", indent, "", name);
        write_value(f, k, v, indent);
        fputs(";\n", f);
    }
}

int config_overlay_write(const char *path, json_t *overlay)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -errno;
    fputs("# Runtime changes made through the bmsgw REST API; they overlay /etc/bmsgw.conf.\n"
          "# Written by bmsgw: edit /etc/bmsgw.conf instead, or delete a key here to undo it.\n",
          f);
    write_group(f, cfg_schema, overlay, 0);
    if (fclose(f) != 0) {
        free(buf);
        return -EIO;
    }
    int rc = persist_write(path, buf, len, 0640);
    free(buf);
    return rc;
}

/* ---- the API's change --------------------------------------------------------------------- */

static int rebuild(const char *base_path, json_t *overlay, struct bmsgw_config *out,
                   struct cfg_error *err)
{
    config_defaults(out);
    int rc = cfg_apply_file(out, base_path, false, NULL, err);
    if (rc == 0)
        rc = apply_json_object(out, overlay, false, err);
    if (rc == 0) {
        cfg_normalise(out);
        rc = config_validate(out, err);
    }
    return rc;
}

int config_update(const char *base_path, const char *overlay_path,
                  const struct bmsgw_config *current, json_t *patch, struct bmsgw_config *out,
                  char *restart_keys, unsigned restart_size, struct cfg_error *err)
{
    struct bmsgw_config *tmp = malloc(sizeof(*tmp));
    json_t *overlay = NULL;
    int rc;

    if (!tmp)
        return -ENOMEM;
    *tmp = *current;
    rc = config_apply_json(tmp, patch, err); /* field errors name the patch's own paths */
    if (rc == 0)
        rc = config_overlay_read(overlay_path, &overlay, err);
    if (rc == 0) {
        config_json_merge(overlay, patch);
        rc = rebuild(base_path, overlay, tmp, err);
    }
    if (rc == 0) {
        rc = config_overlay_write(overlay_path, overlay);
        if (rc)
            cfg_fail(err, overlay_path, 0, NULL, "cannot write the runtime overlay: %s",
                     strerror(-rc));
    }
    if (rc == 0) {
        config_restart_keys(current, tmp, restart_keys, restart_size);
        *out = *tmp;
    }
    json_decref(overlay);
    free(tmp);
    return rc;
}
