/* SPDX-License-Identifier: MIT */
/* ctl_views.c — the views of each map for bmsctl's commands, and their selections (pure). */
#include "bmsgw/ctl_views.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/mbmap_maps.h"

static const char *const cmd_names[CTL_CMD_COUNT] = {
    [CTL_CMD_MAIN] = "main",
    [CTL_CMD_ALL] = "all",
    [CTL_CMD_CELLS] = "cells",
    [CTL_CMD_TEMPS] = "temps",
    [CTL_CMD_STRINGS] = "strings",
    [CTL_CMD_STATUS] = "status",
    [CTL_CMD_COILS] = "coils",
    [CTL_CMD_WATCH] = "watch",
    [CTL_CMD_WRITE_COIL] = "write-coil",
    [CTL_CMD_WRITE_REG] = "write-reg",
    [CTL_CMD_TOKEN] = "token",
};

const char *ctl_cmd_name(int cmd)
{
    return cmd >= 0 && cmd < CTL_CMD_COUNT ? cmd_names[cmd] : NULL;
}

int ctl_cmd_find(const char *name)
{
    for (int c = 0; name && c < CTL_CMD_COUNT; c++)
        if (strcmp(cmd_names[c], name) == 0)
            return c;
    return -1;
}

/* ---- the views ----------------------------------------------------------------------------- */

#define MEGA_MAIN                                                                                  \
    {                                                                                              \
        "main parameters", 0,                                                                      \
        {                                                                                          \
            "soc", "soh", "total_voltage", "max_temperature", "current", "avg_temperature",        \
                "avg_cell_voltage", "pack_voltage"                                                 \
        }                                                                                          \
    }
#define MEGA_STATUS                                                                                \
    {                                                                                              \
        "system status", 0,                                                                        \
        {                                                                                          \
            "online", "charging", "discharging", "balancing", "alarm_active", "warning_active",    \
                "charge_allowed", "discharge_allowed"                                              \
        }                                                                                          \
    }
#define MEGA_CONTROL                                                                               \
    {                                                                                              \
        "control coils", 0,                                                                        \
        {                                                                                          \
            "charge_enable", "discharge_enable", "ack_alerts"                                      \
        }                                                                                          \
    }
#define MEGA_CELLS                                                                                 \
    {                                                                                              \
        "cell voltages", CTL_S_RANGE,                                                              \
        {                                                                                          \
            "cell_voltage"                                                                         \
        }                                                                                          \
    }
#define MEGA_TEMPS                                                                                 \
    {                                                                                              \
        "temperature sensors", CTL_S_RANGE,                                                        \
        {                                                                                          \
            "temperature"                                                                          \
        }                                                                                          \
    }
#define MEGA_INPUTS                                                                                \
    {                                                                                              \
        "discrete inputs", 0,                                                                      \
        {                                                                                          \
            "input_*"                                                                              \
        }                                                                                          \
    }

static const struct ctl_view mega[CTL_VIEW_COUNT] = {
    [CTL_CMD_MAIN] = { "main parameters", NULL, 1, { MEGA_MAIN } },
    [CTL_CMD_ALL] = { "comprehensive read",
                      NULL,
                      6,
                      { MEGA_MAIN, MEGA_STATUS, MEGA_CONTROL, MEGA_INPUTS, MEGA_CELLS,
                        MEGA_TEMPS } },
    [CTL_CMD_CELLS] = { "cell voltages", NULL, 1, { MEGA_CELLS } },
    [CTL_CMD_TEMPS] = { "temperature sensors", NULL, 1, { MEGA_TEMPS } },
    [CTL_CMD_STRINGS] = { "string analysis", NULL, 2, { MEGA_CELLS, MEGA_TEMPS } },
    [CTL_CMD_STATUS] = { "system status", NULL, 2, { MEGA_STATUS, MEGA_CONTROL } },
    [CTL_CMD_COILS] = { "coil data", NULL, 3, { MEGA_STATUS, MEGA_CONTROL, MEGA_INPUTS } },
    [CTL_CMD_WATCH] = { "continuous monitoring", NULL, 2, { MEGA_MAIN, MEGA_STATUS } },
};

#define TESCOM_ARMS                                                                                \
    {                                                                                              \
        "arms", 0,                                                                                 \
        {                                                                                          \
            "battery_count", "arm_status", "arm_current", "arm_humidity",                          \
                "arm_module_temperature", "arm_ambient_temperature"                                \
        }                                                                                          \
    }
#define TESCOM_VOLTAGES                                                                            \
    {                                                                                              \
        "battery voltages", CTL_S_RANGE | CTL_S_INSTALLED,                                         \
        {                                                                                          \
            "battery_voltage"                                                                      \
        }                                                                                          \
    }
#define TESCOM_TEMPS                                                                               \
    {                                                                                              \
        "battery temperatures", CTL_S_RANGE | CTL_S_INSTALLED,                                     \
        {                                                                                          \
            "battery_rimt", "battery_ntc1", "battery_ntc2", "battery_ntc3"                         \
        }                                                                                          \
    }
#define TESCOM_BATTERIES                                                                           \
    {                                                                                              \
        "batteries", CTL_S_INSTALLED,                                                              \
        {                                                                                          \
            "battery_status", "battery_voltage", "battery_soc", "battery_rimt", "battery_soh",     \
                "battery_ntc1", "battery_ntc2", "battery_ntc3"                                     \
        }                                                                                          \
    }
#define TESCOM_ARM_STATUS                                                                          \
    {                                                                                              \
        "arm status", 0,                                                                           \
        {                                                                                          \
            "battery_count", "arm_status"                                                          \
        }                                                                                          \
    }
#define TESCOM_ARM_ALARMS                                                                          \
    {                                                                                              \
        "arm alarms", 0,                                                                           \
        {                                                                                          \
            "alarm_high_current", "alarm_high_humidity", "alarm_high_ambient",                     \
                "alarm_high_arm_temperature"                                                       \
        }                                                                                          \
    }
#define TESCOM_BATTERY_STATUS                                                                      \
    {                                                                                              \
        "battery status", CTL_S_INSTALLED,                                                         \
        {                                                                                          \
            "battery_status"                                                                       \
        }                                                                                          \
    }
#define TESCOM_BATTERY_ALARMS                                                                      \
    {                                                                                              \
        "battery alarms", CTL_S_RANGE | CTL_S_INSTALLED,                                           \
        {                                                                                          \
            "alarm_low_voltage_warning", "alarm_low_voltage", "alarm_high_voltage_warning",        \
                "alarm_high_voltage", "alarm_module_temperature",                                  \
                "alarm_positive_pole_temperature", "alarm_negative_pole_temperature"               \
        }                                                                                          \
    }
#define TESCOM_STRINGS                                                                             \
    {                                                                                              \
        "batteries", CTL_S_INSTALLED,                                                              \
        {                                                                                          \
            "battery_voltage", "battery_soc", "battery_rimt", "battery_ntc1", "battery_ntc2",      \
                "battery_ntc3"                                                                     \
        }                                                                                          \
    }

static const struct ctl_view tescom[CTL_VIEW_COUNT] = {
    [CTL_CMD_MAIN] = { "main parameters", NULL, 1, { TESCOM_ARMS } },
    [CTL_CMD_ALL] = { "comprehensive read",
                      NULL,
                      4,
                      { TESCOM_ARMS, TESCOM_BATTERIES, TESCOM_ARM_ALARMS, TESCOM_BATTERY_ALARMS } },
    [CTL_CMD_CELLS] = { "battery voltages", NULL, 1, { TESCOM_VOLTAGES } },
    [CTL_CMD_TEMPS] = { "battery temperatures", NULL, 1, { TESCOM_TEMPS } },
    [CTL_CMD_STRINGS] = { "arm analysis", NULL, 2, { TESCOM_ARMS, TESCOM_STRINGS } },
    [CTL_CMD_STATUS] = { "status and alarms",
                         NULL,
                         4,
                         { TESCOM_ARM_STATUS, TESCOM_BATTERY_STATUS, TESCOM_ARM_ALARMS,
                           TESCOM_BATTERY_ALARMS } },
    [CTL_CMD_COILS] = { "coil data", "the Tescom map has no coils (its status is in registers: "
                                     "see 'status')" },
    [CTL_CMD_WATCH] = { "continuous monitoring",
                        NULL,
                        3,
                        { TESCOM_ARMS, TESCOM_ARM_ALARMS, TESCOM_BATTERY_ALARMS } },
};

#define PACK_MAIN                                                                                  \
    {                                                                                              \
        "pack", 0,                                                                                 \
        {                                                                                          \
            "nominal_capacity", "stored_capacity", "current", "pack_voltage", "max_cell_voltage",  \
                "min_cell_voltage", "max_temperature", "min_temperature", "soh", "cell_index_low", \
                "cell_index_high", "temp_sensor_ids", "status", "alarms"                           \
        }                                                                                          \
    }
#define PACK_STATUS                                                                                \
    {                                                                                              \
        "status", 0,                                                                               \
        {                                                                                          \
            "status", "alarms"                                                                     \
        }                                                                                          \
    }
#define PACK_COMMANDS                                                                              \
    {                                                                                              \
        "command registers", 0,                                                                    \
        {                                                                                          \
            "cmd*"                                                                                 \
        }                                                                                          \
    }

static const struct ctl_view pack12s[CTL_VIEW_COUNT] = {
    [CTL_CMD_MAIN] = { "main parameters", NULL, 1, { PACK_MAIN } },
    [CTL_CMD_ALL] = { "comprehensive read", NULL, 2, { PACK_MAIN, PACK_COMMANDS } },
    [CTL_CMD_CELLS] = { "cell voltages", "the 12S pack map has no per-cell voltages ('main' shows "
                                         "the highest and the lowest cell)" },
    [CTL_CMD_TEMPS] = { "temperature sensors", "the 12S pack map has no per-sensor temperatures "
                                               "('main' shows the highest and the lowest)" },
    [CTL_CMD_STRINGS] = { "string analysis", "the 12S pack map is one pack without per-cell "
                                             "values ('main' shows its highest and lowest cell)" },
    [CTL_CMD_STATUS] = { "system status", NULL, 2, { PACK_STATUS, PACK_COMMANDS } },
    [CTL_CMD_COILS] = { "coil data", "the 12S pack map has no coils (its status bits are in "
                                     "registers: see 'status')" },
    [CTL_CMD_WATCH] = { "continuous monitoring", NULL, 1, { PACK_MAIN } },
};

#define TP_NUMBERS "int16", "uint16", "int32", "uint32", "float16", "float32", "float64", "double"
#define TP_FIRST                                                                                   \
    {                                                                                              \
        "first value of each type", CTL_S_FIRST,                                                   \
        {                                                                                          \
            TP_NUMBERS                                                                             \
        }                                                                                          \
    }
#define TP_VALUES                                                                                  \
    {                                                                                              \
        "values", 0,                                                                               \
        {                                                                                          \
            TP_NUMBERS                                                                             \
        }                                                                                          \
    }
#define TP_STRINGS                                                                                 \
    {                                                                                              \
        "strings", 0,                                                                              \
        {                                                                                          \
            "hello", "hello_epoch"                                                                 \
        }                                                                                          \
    }
#define TP_COILS                                                                                   \
    {                                                                                              \
        "coils", 0,                                                                                \
        {                                                                                          \
            "coil_*"                                                                               \
        }                                                                                          \
    }
#define TP_INPUTS                                                                                  \
    {                                                                                              \
        "discrete inputs", 0,                                                                      \
        {                                                                                          \
            "input_*"                                                                              \
        }                                                                                          \
    }

static const struct ctl_view testpattern[CTL_VIEW_COUNT] = {
    [CTL_CMD_MAIN] = { "main parameters", NULL, 2, { TP_FIRST, TP_STRINGS } },
    [CTL_CMD_ALL] = { "comprehensive read",
                      NULL,
                      4,
                      { TP_VALUES, TP_STRINGS, TP_COILS, TP_INPUTS } },
    [CTL_CMD_CELLS] = { "cell voltages", "the test-pattern map has no cells" },
    [CTL_CMD_TEMPS] = { "temperature sensors", "the test-pattern map has no temperatures" },
    [CTL_CMD_STRINGS] = { "string analysis", "the test-pattern map has no battery strings" },
    [CTL_CMD_STATUS] = { "system status", "the test-pattern map has no status ('coils' shows its "
                                          "bits)" },
    [CTL_CMD_COILS] = { "coil data", NULL, 2, { TP_COILS, TP_INPUTS } },
    [CTL_CMD_WATCH] = { "continuous monitoring", NULL, 2, { TP_FIRST, TP_STRINGS } },
};

static const struct ctl_view *const views[MBMAP_KIND_COUNT] = {
    [MBMAP_MEGA] = mega,
    [MBMAP_TESCOM] = tescom,
    [MBMAP_PACK12S] = pack12s,
    [MBMAP_TESTPATTERN] = testpattern,
};

const struct ctl_view *ctl_view_get(int kind, int cmd)
{
    if (kind < 0 || kind >= MBMAP_KIND_COUNT || cmd < 0 || cmd >= CTL_VIEW_COUNT)
        return NULL;
    return &views[kind][cmd];
}

const struct mbmap_field *ctl_view_count_field(const struct mbmap *m)
{
    return m->kind == MBMAP_TESCOM ? mbmap_field_find(m, "battery_count") : NULL;
}

static bool key_matches(const char *pattern, const char *key)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncmp(pattern, key, n - 1) == 0;
    return strcmp(pattern, key) == 0;
}

const char *ctl_view_range_item(const struct mbmap *m, const struct ctl_view *v, unsigned *count)
{
    for (unsigned s = 0; s < v->n_sections; s++) {
        if (!(v->sections[s].flags & CTL_S_RANGE))
            continue;
        for (unsigned f = 0; f < m->n_fields; f++)
            if (key_matches(v->sections[s].keys[0], m->fields[f].key)) {
                *count = m->fields[f].count;
                return m->fields[f].item_label;
            }
    }
    return NULL;
}

/* ---- selections ---------------------------------------------------------------------------- */

static int push(struct ctl_query *q, const struct ctl_sel *sel)
{
    if (q->n_sel >= CTL_MAX_SELS)
        return -E2BIG;
    q->sel[q->n_sel++] = *sel;
    return 0;
}

/* One field of a section: one selection, or one per group with installed items. */
static int add_field(struct ctl_query *q, const struct mbmap_field *f, unsigned flags,
                     const char *range, const uint16_t *counts, char *err, size_t size)
{
    struct ctl_sel sel = { .f = f, .group_first = 0 };
    sel.group_last = (uint16_t)(mbmap_field_groups(f) - 1);
    if ((flags & CTL_S_RANGE) && range && f->count > 1) {
        int rc = ctl_items_parse(range, f->count, f->item_label ? f->item_label : "item",
                                 &sel.items, err, size);
        if (rc)
            return rc;
    } else if (flags & CTL_S_FIRST) {
        sel.items.n = 1; /* r[0] = 0..0 */
    }
    if (!(flags & CTL_S_INSTALLED) || !counts || mbmap_field_groups(f) < 2 || f->count < 2)
        return push(q, &sel);
    for (unsigned g = 0; g < mbmap_field_groups(f); g++) {
        struct ctl_sel one = sel;
        one.group_first = one.group_last = (uint16_t)g;
        if (ctl_items_limit(&one.items, counts[g])) {
            int rc = push(q, &one);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int ctl_query_build(struct ctl_query *q, const struct mbmap *m, const struct ctl_view *view,
                    const char *range, const uint16_t *counts, char *err, size_t size)
{
    memset(q, 0, sizeof(*q));
    for (unsigned s = 0; s < view->n_sections; s++) {
        const struct ctl_section *sec = &view->sections[s];
        q->sec[s].title = sec->title;
        q->sec[s].sel_first = q->n_sel;
        for (unsigned k = 0; k < CTL_MAX_KEYS && sec->keys[k]; k++)
            for (unsigned f = 0; f < m->n_fields; f++) {
                if (!key_matches(sec->keys[k], m->fields[f].key))
                    continue;
                int rc = add_field(q, &m->fields[f], sec->flags, range, counts, err, size);
                if (rc == -E2BIG)
                    snprintf(err, size, "the view needs more than %d selections", CTL_MAX_SELS);
                if (rc)
                    return -EINVAL;
            }
        q->sec[s].sel_end = q->n_sel;
        q->n_sections = s + 1;
    }
    return 0;
}

/* ---- decoding ------------------------------------------------------------------------------ */

/* The numbers the 12S pack map packs into the bytes of 1448, 1449 and 1453, as values of their
 * own (addressed where their low bytes are). */
#define PACK_ID(k, l)                                                                              \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = MBMAP_REGS, .type = MBMAP_U16, .count = 1       \
    }

static const struct mbmap_field pack_ids[] = {
    PACK_ID("max_cell_no", "highest cell"),
    PACK_ID("min_cell_no", "lowest cell"),
    PACK_ID("max_temp_id", "hottest sensor"),
    PACK_ID("min_temp_id", "coldest sensor"),
};

static int add_pack_ids(struct ctl_values *v, size_t first)
{
    const struct ctl_value *lo = NULL, *ids = NULL, *hi = NULL;
    for (size_t k = first; k < v->n; k++) {
        const char *key = v->v[k].f->key;
        lo = strcmp(key, "cell_index_low") == 0 ? &v->v[k] : lo;
        ids = strcmp(key, "temp_sensor_ids") == 0 ? &v->v[k] : ids;
        hi = strcmp(key, "cell_index_high") == 0 ? &v->v[k] : hi;
    }
    if (!lo || !ids || !hi)
        return 0;
    struct mbmap_pack12s_ids d;
    mbmap_pack12s_ids_decode(lo->raw, ids->raw, hi->raw, &d);
    const double no[4] = { d.max_cell_no, d.min_cell_no, d.max_temp_id, d.min_temp_id };
    const uint16_t at[4] = { lo->addr, lo->addr, ids->addr, ids->addr };
    for (unsigned k = 0; k < 4; k++) {
        struct ctl_value x = { .f = &pack_ids[k], .addr = at[k], .value = no[k] };
        x.raw = (uint16_t)no[k];
        int rc = ctl_values_add(v, &x);
        if (rc)
            return rc;
    }
    return 0;
}

int ctl_query_decode(const struct ctl_query *q, const struct mbmap *m, const struct ctl_image *img,
                     int word_order, struct ctl_result *r)
{
    ctl_values_clear(&r->v);
    r->n_sections = q->n_sections;
    for (unsigned s = 0; s < q->n_sections; s++) {
        r->sec[s].title = q->sec[s].title;
        r->sec[s].first = r->v.n;
        int rc = ctl_decode(img, &q->sel[q->sec[s].sel_first],
                            q->sec[s].sel_end - q->sec[s].sel_first, word_order, &r->v);
        if (rc == 0 && m->kind == MBMAP_PACK12S)
            rc = add_pack_ids(&r->v, r->sec[s].first);
        if (rc)
            return rc;
        r->sec[s].end = r->v.n;
    }
    return 0;
}

void ctl_result_free(struct ctl_result *r)
{
    ctl_values_free(&r->v);
    r->n_sections = 0;
}
