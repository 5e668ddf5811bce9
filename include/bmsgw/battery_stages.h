/* SPDX-License-Identifier: MIT */
/* battery_stages.h — the battery's composer stages: aggregation, alarms, charge limits. */
#ifndef BMSGW_BATTERY_STAGES_H
#define BMSGW_BATTERY_STAGES_H

#include "bmsgw/compose.h"

/*
 * Register, in this order, on a composer fresh from composer_init(): system aggregation
 * (sys->agg, aggregate.h), alarm evaluation (sys->alarms, alarms.h) and the charge-limit
 * controller (sys->limits, limits.h) with the operator blocks of the compose input. Every creator
 * of a composer (the daemon, the simulators, the tests) calls it. Returns 0 or -ENOSPC.
 */
int battery_stages_register(struct composer *c);

#endif
