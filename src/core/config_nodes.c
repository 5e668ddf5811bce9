/* SPDX-License-Identifier: MIT */
/* config_nodes.c — libconfig and jansson trees seen through one node interface. */
#include <jansson.h>
#include <libconfig.h>

#include "config_walk.h"

/* ---- libconfig ---------------------------------------------------------------------------- */

static enum cfg_node_kind lc_kind(const void *n)
{
    switch (config_setting_type((const config_setting_t *)n)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return CFG_N_INT;
    case CONFIG_TYPE_FLOAT:
        return CFG_N_FLOAT;
    case CONFIG_TYPE_BOOL:
        return CFG_N_BOOL;
    case CONFIG_TYPE_STRING:
        return CFG_N_STRING;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
        return CFG_N_ARRAY;
    case CONFIG_TYPE_GROUP:
        return CFG_N_GROUP;
    default:
        return CFG_N_OTHER;
    }
}

static long long lc_int(const void *n)
{
    return config_setting_get_int64((const config_setting_t *)n);
}

static double lc_float(const void *n)
{
    return config_setting_get_float((const config_setting_t *)n);
}

static bool lc_bool(const void *n)
{
    return config_setting_get_bool((const config_setting_t *)n) != 0;
}

static const char *lc_string(const void *n)
{
    const char *s = config_setting_get_string((const config_setting_t *)n);
    return s ? s : "";
}

static unsigned lc_count(const void *n)
{
    int c = config_setting_length((const config_setting_t *)n);
    return c > 0 ? (unsigned)c : 0;
}

static const void *lc_child(const void *n, unsigned i, const char **name)
{
    config_setting_t *c = config_setting_get_elem((const config_setting_t *)n, i);
    if (name)
        *name = c ? config_setting_name(c) : NULL;
    return c;
}

static int lc_line(const void *n)
{
    return (int)config_setting_source_line((const config_setting_t *)n);
}

const struct cfg_node_ops cfg_libconfig_ops = {
    .kind = lc_kind,
    .get_int = lc_int,
    .get_float = lc_float,
    .get_bool = lc_bool,
    .get_string = lc_string,
    .count = lc_count,
    .child = lc_child,
    .line = lc_line,
};

/* ---- jansson ------------------------------------------------------------------------------ */

static enum cfg_node_kind js_kind(const void *n)
{
    switch (json_typeof((const json_t *)n)) {
    case JSON_INTEGER:
        return CFG_N_INT;
    case JSON_REAL:
        return CFG_N_FLOAT;
    case JSON_TRUE:
    case JSON_FALSE:
        return CFG_N_BOOL;
    case JSON_STRING:
        return CFG_N_STRING;
    case JSON_ARRAY:
        return CFG_N_ARRAY;
    case JSON_OBJECT:
        return CFG_N_GROUP;
    case JSON_NULL:
        return CFG_N_NULL;
    }
    return CFG_N_OTHER;
}

static long long js_int(const void *n)
{
    return json_integer_value((const json_t *)n);
}

static double js_float(const void *n)
{
    return json_real_value((const json_t *)n);
}

static bool js_bool(const void *n)
{
    return json_is_true((const json_t *)n);
}

static const char *js_string(const void *n)
{
    const char *s = json_string_value((const json_t *)n);
    return s ? s : "";
}

static unsigned js_count(const void *n)
{
    const json_t *j = n;
    if (json_is_array(j))
        return (unsigned)json_array_size(j);
    if (json_is_object(j))
        return (unsigned)json_object_size(j);
    return 0;
}

static const void *js_child(const void *n, unsigned i, const char **name)
{
    json_t *j = (json_t *)n;
    if (json_is_array(j)) {
        if (name)
            *name = NULL;
        return json_array_get(j, i);
    }
    void *it = json_object_iter(j);
    for (unsigned k = 0; it && k < i; k++)
        it = json_object_iter_next(j, it);
    if (!it)
        return NULL;
    if (name)
        *name = json_object_iter_key(it);
    return json_object_iter_value(it);
}

static int js_line(const void *n)
{
    (void)n;
    return 0;
}

const struct cfg_node_ops cfg_json_ops = {
    .kind = js_kind,
    .get_int = js_int,
    .get_float = js_float,
    .get_bool = js_bool,
    .get_string = js_string,
    .count = js_count,
    .child = js_child,
    .line = js_line,
};
