/* SPDX-License-Identifier: MIT */
/* sysgen.h — battery systems for the battery and CAN tests: uniform, from the physics, random. */
#ifndef BMSGW_TEST_SYSGEN_H
#define BMSGW_TEST_SYSGEN_H

#include <stdint.h>

#include "bmsgw/battery.h"
#include "bmsgw/model.h"

/* strings x cells at mv, sensors per string at dc, 50 % SOC, idle, online, sampled at now_ms,
 * aggregated. Free with free(). */
struct bmsgw_system *sysgen_new(unsigned strings, unsigned cells, unsigned sensors, uint16_t mv,
                                int16_t dc, int64_t now_ms);

/* Mark every online string sampled at now_ms and re-aggregate (stale after 3000 ms). */
void sysgen_touch(struct bmsgw_system *s, int64_t now_ms);
/* What the TinyBMS driver derives from the raw settings registers and event codes a test set:
 * the model's cut-offs and each event's severity, effect and name (sysgen_touch does it). */
void sysgen_driver(struct bmsgw_system *s);

/* Set cell no (1-based) of string si. */
void sysgen_cell(struct bmsgw_system *s, unsigned si, unsigned no, uint16_t mv);

/* Copy the physics' cells, sensors, current, voltage and SOC into string si (sampled now). */
void sysgen_from_battery(struct bmsgw_system *s, unsigned si, const struct battery *b,
                         int64_t now_ms);

/* Random values everywhere (strings 1..4 of 4..16 cells, some offline, absent sensors, faults,
 * settings registers sometimes valid), sampled at now_ms. */
void sysgen_random(struct bmsgw_system *s, uint64_t *rng, int64_t now_ms);

#endif
