/* SPDX-License-Identifier: MIT */
/* oracle-gen.h — generators of the safety oracle test: configs, sequences, extreme systems. */
#ifndef BMSGW_TEST_ORACLE_GEN_H
#define BMSGW_TEST_ORACLE_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/can_out.h"
#include "bmsgw/compose.h"
#include "bmsgw/control.h"
#include "oracle.h"

/* ---- deterministic random numbers (splitmix64) -------------------------------------------- */

static inline uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline int range(uint64_t *s, int lo, int hi)
{
    return lo + (int)(next(s) % (uint64_t)(hi - lo + 1));
}

static inline bool chance(uint64_t *s, double p)
{
    return (double)(next(s) >> 11) / 9007199254740992.0 < p;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* One pipeline under test: composer, operator state, output state, oracle run. */
struct rig {
    uint64_t rng;
    struct bmsgw_config cfg;
    struct composer comp;
    struct control *ctl;
    struct can_out_state st;
    struct oracle_run run;
    struct bmsgw_system *sys;
};

/* A sequence's slowly moving state. */
struct seq {
    unsigned strings, cells, sensors;
    int base_mv, temp_dc, freeze_all;
    int64_t start;
    bool frozen[BMSGW_MAX_STRINGS];
    uint32_t lifetime0[BMSGW_MAX_STRINGS];
};

/* Random configuration (every chemistry preset; extreme: currents up to 10000 A); sets the
 * composer's copy too. */
void gen_config(struct rig *g, bool extreme);

/* Settings registers 315-320 of st on both sides of the configuration. */
void gen_settings(struct rig *g, struct bmsgw_string *st);

/* strings x cells x sensors, online, idle, nothing sampled yet. */
void gen_layout(struct bmsgw_system *s, unsigned strings, unsigned cells, unsigned sensors);

/* A sequence: 1-8 strings (sometimes up to BMSGW_MAX_STRINGS), 4-16 cells, 0-2 sensors. */
void gen_seq_init(struct rig *g, struct seq *q, int64_t now);

/* Sample string i at now (or not: frozen, offline, all stale). */
void gen_seq_string(struct rig *g, struct seq *q, unsigned i, int64_t now);

/* Move the sequence to now: levels, thresholds crossed, stale periods, operator blocks. */
void gen_seq_step(struct rig *g, struct seq *q, int64_t now);

/* String i of an extreme system: cells 0..5000 mV, -40..+85 C, +-1000 A, random registers. */
void gen_extreme_string(struct rig *g, unsigned i, int64_t now);

#endif
