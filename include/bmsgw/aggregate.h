/* SPDX-License-Identifier: MIT */
/* aggregate.h — the system aggregates (sys->agg): SOC by capacity, totals, extremes. */
#ifndef BMSGW_AGGREGATE_H
#define BMSGW_AGGREGATE_H

#include <stdint.h>

#include "bmsgw/model.h"

/* Recompute sys->agg from the strings and the flat arrays (pure). Strings whose newest sample is
 * older than stale_after_ms at now_ms are counted offline. */
void bmsgw_system_aggregate(struct bmsgw_system *sys, int64_t now_ms, int stale_after_ms);

#endif
