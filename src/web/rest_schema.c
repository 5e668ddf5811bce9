/* SPDX-License-Identifier: MIT */
/* rest_schema.c — GET /api/config/schema: the key table, for forms that explain each setting. */
#include "rest_internal.h"

#include <stdio.h>

#include "bmsgw/config_schema.h"

static const char *const type_names[] = {
    [CFG_T_INT] = "int",
    [CFG_T_DOUBLE] = "double",
    [CFG_T_BOOL] = "bool",
    [CFG_T_STRING] = "string",
    [CFG_T_ENUM] = "enum",
    [CFG_T_INT_ARRAY] = "int_array",
    [CFG_T_DOUBLE_ARRAY] = "double_array",
    [CFG_T_GROUP] = "group",
    [CFG_T_LIST] = "list",
};

static json_t *keys_json(const struct cfg_key *keys, const char *prefix);

static void limits_json(json_t *o, const struct cfg_key *k)
{
    switch (k->type) {
    case CFG_T_INT:
        json_object_set_new(o, "min", json_integer(k->min));
        json_object_set_new(o, "max", json_integer(k->max));
        if (!(k->flags & CFG_F_PRESET))
            json_object_set_new(o, "default", json_integer(k->def_i));
        break;
    case CFG_T_DOUBLE:
        json_object_set_new(o, "min", json_real(k->dmin));
        json_object_set_new(o, "max", json_real(k->dmax));
        json_object_set_new(o, "default", json_real(k->def_d));
        break;
    case CFG_T_BOOL:
        json_object_set_new(o, "default", json_boolean(k->def_i));
        break;
    case CFG_T_STRING:
        json_object_set_new(o, "min_length", json_integer(k->min));
        json_object_set_new(o, "max_length", json_integer(k->max));
        if (k->def_s)
            json_object_set_new(o, "default", json_string(k->def_s));
        break;
    case CFG_T_ENUM: {
        json_t *vals = json_array();
        for (const char *const *e = k->enums; *e; e++)
            json_array_append_new(vals, json_string(*e));
        json_object_set_new(o, "values", vals);
        json_object_set_new(o, "default", json_string(k->enums[k->def_i]));
        break;
    }
    case CFG_T_INT_ARRAY:
    case CFG_T_DOUBLE_ARRAY:
        json_object_set_new(o, "min_items", json_integer(k->min));
        json_object_set_new(o, "max_items", json_integer(k->max));
        json_object_set_new(o, "min", json_real(k->dmin));
        json_object_set_new(o, "max", json_real(k->dmax));
        break;
    case CFG_T_LIST:
        json_object_set_new(o, "min_items", json_integer(k->min));
        json_object_set_new(o, "max_items", json_integer(k->max));
        break;
    case CFG_T_GROUP:
        break;
    }
}

static json_t *key_json(const struct cfg_key *k, const char *path)
{
    json_t *o =
        json_pack("{s:s,s:s,s:s?,s:s?,s:b,s:b}", "key", path, "type", type_names[k->type], "unit",
                  k->unit, "help", k->help, "restart", (k->flags & CFG_F_RESTART) != 0, "api",
                  (k->flags & CFG_F_FILE_ONLY) == 0);
    limits_json(o, k);
    if (k->flags & CFG_F_PRESET)
        json_object_set_new(o, "preset", json_true()); /* the default follows the chemistry */
    if (k->type == CFG_T_GROUP || k->type == CFG_T_LIST)
        json_object_set_new(o, "keys", keys_json(k->sub, path));
    return o;
}

static json_t *keys_json(const struct cfg_key *keys, const char *prefix)
{
    json_t *arr = json_array();
    char path[160];
    for (const struct cfg_key *k = keys; k && k->name; k++) {
        snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
        json_array_append_new(arr, key_json(k, path));
    }
    return arr;
}

void rest_h_config_schema(struct rest_api *api, const struct rest_request *rq, json_t *body,
                          struct rest_response *rs)
{
    rest_ok(rs, keys_json(cfg_schema, ""));
}
