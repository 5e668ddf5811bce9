/* SPDX-License-Identifier: MIT */
/* ctl_out.h — bmsctl's output of decoded values: text for people, JSON and CSV for scripts. */
#ifndef BMSGW_CTL_OUT_H
#define BMSGW_CTL_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bmsgw/ctl_query.h"

enum ctl_format { CTL_FMT_TEXT = 0, CTL_FMT_JSON, CTL_FMT_CSV };

/* ---- single values ------------------------------------------------------------------------- */

/* A value for people: "87.53", "3301", "yes"/"no" (bits), "--" (absent), the text of a string,
 * "0x0009" (bit fields). Returns buf. */
const char *ctl_value_text(const struct ctl_value *v, char *buf, size_t size);
/* The value rounded to what its register can carry: scaled integers to their decimals, float32
 * to the shortest decimal that reads back as the same float. */
double ctl_value_rounded(const struct ctl_value *v);
/* Decimals a scaled integer field carries (scale 0.01 -> 2, 1 -> 0). */
int ctl_value_decimals(const struct mbmap_field *f);
/* The unit for people ("°C" for degC). */
const char *ctl_unit_text(const char *unit);
/* True when the value reports an active alarm or warning (MBMAP_ALARM and not 0). */
bool ctl_value_alarm(const struct ctl_value *v);

/* ---- JSON ---------------------------------------------------------------------------------- */

/*
 * The JSON key of a field: its key with the unit appended ("soc" in % -> "soc_pct", "current" in
 * A -> "current_a", "temperature" in degC -> "temperature_c"); inside the object of a group or
 * an item the label prefix is dropped ("cell_voltage" in a cell -> "voltage_mv", "arm_status" in
 * an arm -> "status"). Returns buf.
 */
const char *ctl_json_key(const struct mbmap_field *f, const char *container_label, char *buf,
                         size_t size);

/*
 * Add values [first, end) to obj. A plain value goes in as obj.<key>; items and groups go into
 * arrays of objects named by the label's plural and numbered from 1 ("cells": [{"cell": 1,
 * "voltage_mv": 3301}], "arms": [{"arm": 1, "batteries": [{"battery": 1, "voltage_v": 3.301}]}]);
 * coils and discrete inputs into "coils" / "discrete_inputs" lists of {"address", "key",
 * "name", "value"}. Absent values are null, bit fields get "<key>_set": [names]. Returns 0 or
 * -ENOMEM.
 */
int ctl_json_add(json_t *obj, const struct ctl_values *v, size_t first, size_t end);

/* Print obj as one line (reals with 15 significant digits). Returns 0 or -ENOMEM / -EIO. */
int ctl_json_print(FILE *out, const json_t *obj);

/* ---- CSV ----------------------------------------------------------------------------------- */

/* "address,key,name,value,unit" (with a leading "time_ms" column when with_time). */
void ctl_csv_header(FILE *out, bool with_time);
/* One row per value [first, end); time_ms < 0 leaves the time column out. Fields that hold a
 * comma or a quote are quoted. */
void ctl_csv_rows(FILE *out, const struct ctl_values *v, size_t first, size_t end, int64_t time_ms);
/* One CSV field, quoted when needed. */
void ctl_csv_field(FILE *out, const char *text, bool last);

/* ---- text ---------------------------------------------------------------------------------- */

struct ctl_text_style {
    bool color;                    /* ANSI attributes: alarms red, changes in reverse video */
    const struct ctl_values *prev; /* the previous reading (watch), or NULL */
};

/*
 * A titled section of values [first, end) for people: plain values and single coils as aligned
 * lines, values of groups and items as a table (one row per group/item, one column per field),
 * a single field of many items as a grid with its minimum, maximum, average and spread (runs of
 * 0 or absent values folded into one line), many bits as rows of 0/1.
 */
void ctl_text_section(FILE *out, const char *title, const struct ctl_values *v, size_t first,
                      size_t end, const struct ctl_text_style *st);

#endif
