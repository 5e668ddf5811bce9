/* SPDX-License-Identifier: MIT */
/* status_json.h — the battery system as JSON: the one encoder of /api/status and /ws/telemetry. */
#ifndef BMSGW_STATUS_JSON_H
#define BMSGW_STATUS_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/control.h"
#include "bmsgw/model.h"

/*
 * Pure: the caller copies the system out of the snapshot and passes the clocks in. Every field
 * name carries its unit; strings, cells and sensors are numbered from 1 as people count them
 * (string null = the whole system). A value that is not known is null, never 0 or -3276.8.
 *
 * Shape (see docs/rest-api.md): generation, time_ms, age_ms (of the battery data),
 * snapshot_age_ms (of the commit that made this generation), stale, system{...}, energy{...},
 * limits{...}, alarms[...], control{...}, can{...}, strings[{..., cells_mv[], temperatures_c[],
 * link{...}}].
 */

struct status_json_opts {
    int64_t now_ms;                      /* CLOCK_MONOTONIC ms: every age is computed against it */
    int64_t now_real_ms;                 /* wall clock ms, reported as time_ms */
    int stale_after_ms;                  /* bms.stale_after_ms */
    const struct control_state *control; /* operator blocks, or NULL */
};

/* The whole status as a new JSON object, or NULL when out of memory. */
json_t *status_to_json(const struct bmsgw_system *sys, const struct status_json_opts *o);

/* status_to_json serialised compactly (malloc'd, NUL-terminated; *len without the NUL). NULL when
 * out of memory. */
char *status_json_dumps(const struct bmsgw_system *sys, const struct status_json_opts *o,
                        size_t *len);

/* One link's health (state, ages, counters, cycle times) as a JSON object. */
json_t *status_link_json(const struct bmsgw_link *l, int64_t now_ms);

/* Estimated seconds to full (charging) or empty (discharging) from SOC, capacity and current;
 * -1 when it cannot be estimated (no capacity, current within +-0.1 A, no data, > 30 days). */
int64_t status_time_to_full_s(double soc_pct, double capacity_ah, double current_a);
int64_t status_time_to_empty_s(double soc_pct, double capacity_ah, double current_a);

/* How an alarm condition's value and threshold read: a title for people, the unit and the
 * factor from sys->alarms values to that unit (temperatures are kept in 0.1 degC). */
struct status_alarm_info {
    const char *title;
    const char *unit;
    double scale;
    int decimals;
};
const struct status_alarm_info *status_alarm_info(unsigned alarm_id);

/* Helpers shared by the web encoders: a JSON number, or null when not finite. Serialise with
 * BMSGW_JSON_FLAGS so values print without binary-fraction noise (53.1, not 53.100000000000001). */
json_t *json_number_or_null(double v);
json_t *json_rounded(double v, int decimals);
/* An age in ms (now_ms - t_ms), or null when the event never happened (t_ms == 0). */
json_t *json_age_or_null(int64_t now_ms, int64_t t_ms);
#define BMSGW_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

#endif
