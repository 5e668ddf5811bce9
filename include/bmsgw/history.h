/* SPDX-License-Identifier: MIT */
/* history.h — recent samples of the system for the dashboard's charts (a RAM ring). */
#ifndef BMSGW_HISTORY_H
#define BMSGW_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/model.h"

/* One sample every 10 s, 24 hours deep. Nothing is persisted: a restart starts empty. */
#define HISTORY_INTERVAL_MS 10000
#define HISTORY_CAPACITY    8640

/* Values are NAN (null in JSON) when the system had no fresh data at that moment. */
struct history_sample {
    int64_t t_ms; /* wall clock */
    float soc_pct;
    float pack_v;
    float current_a;
    float power_w;
    float min_cell_mv;
    float max_cell_mv;
    float min_temp_c;
    float max_temp_c;
    float cvl_v;
    float ccl_a;
    float dcl_a;
};

struct history;

/* capacity >= 1. NULL when out of memory. Thread-safe: one writer, any number of readers. */
struct history *history_new(unsigned capacity);
void history_free(struct history *h);

/* Fill *out from a system copy (pure); fresh = the data is not stale. */
void history_sample_from_system(const struct bmsgw_system *sys, bool fresh, int64_t now_real_ms,
                                struct history_sample *out);

/* Append, overwriting the oldest sample when full. */
void history_add(struct history *h, const struct history_sample *s);

/* Samples taken at or after since_real_ms, oldest first, as columns:
 * {"interval_s":10,"t_ms":[...],"soc_pct":[...],...}. NULL when out of memory. */
json_t *history_to_json(struct history *h, int64_t since_real_ms);

/* Samples held now. */
unsigned history_count(struct history *h);

#endif
