/* SPDX-License-Identifier: MIT */
/* battery.h — simulated battery physics shared by every simulator (TinyBMS, mega, tescom, 12S). */
#ifndef BMSGW_BATTERY_H
#define BMSGW_BATTERY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A string of cells in series: per-cell open-circuit-voltage curve by chemistry, internal
 * resistance, coulomb counting, per-cell capacity/resistance/SOC spread, temperature rising with
 * I^2 R and relaxing to ambient, passive balancing above a threshold, and the state of charge a
 * BMS would estimate (coulomb counting corrected at full and empty). Pure: time and current are
 * passed in; randomness comes from a seeded generator, so a run is reproducible.
 * Current sign: + = charging.
 */

struct battery_params {
    int chemistry;            /* enum cfg_chemistry: lfp, nmc, lto */
    unsigned cells;           /* in series, >= 1 */
    unsigned sensors;         /* temperature sensors, each over an equal group of cells */
    double capacity_ah;       /* nominal capacity of each cell */
    double capacity_spread;   /* relative standard deviation of cell capacity (0.02 = 2 %) */
    double r_cell_mohm;       /* internal resistance of each cell */
    double r_spread;          /* relative standard deviation of the resistance */
    double soc_pct;           /* initial state of charge */
    double soc_spread_pct;    /* standard deviation of the initial cell SOC */
    double ambient_c;         /* ambient temperature */
    double thermal_j_per_c;   /* heat capacity of one cell */
    double thermal_c_per_w;   /* thermal resistance of one cell to ambient */
    int balance_start_mv;     /* cells at or above this (and above the lowest + 10 mV) bleed */
    double balance_current_a; /* bleed current of a balancing cell */
    uint64_t seed;
};

struct battery_cell {
    double soc; /* true state of charge, 0..1 (slightly beyond when abused) */
    double capacity_ah;
    double r_ohm;
    double temp_c;
    double v;      /* terminal voltage after the last step */
    int forced_mv; /* > 0: the cell reads this voltage (fault injection) */
    bool balancing;
};

struct battery_sensor {
    double temp_c;
    double offset_c; /* per-sensor calibration offset */
    double forced_c; /* used when forced */
    bool forced;
    bool absent; /* unplugged */
};

struct battery {
    struct battery_params p;
    struct battery_cell *cells;
    struct battery_sensor *sensors;
    double current_a;   /* of the last step, + = charging */
    double pack_v;      /* sum of the cell voltages */
    double est_soc_pct; /* what a BMS would report */
    double charged_ah;  /* coulomb counters since start */
    double discharged_ah;
    double charged_wh;
    double discharged_wh;
    uint64_t rng;
};

/* Defaults for a chemistry: 16S LFP 100 Ah, 12S NMC 50 Ah or 10S LTO 40 Ah with realistic
 * spreads and thermal constants (callers change what they need). */
void battery_params_default(struct battery_params *p, int chemistry);

/* Allocate and set up the cells. Returns 0 or -ENOMEM / -EINVAL (0 cells). */
int battery_init(struct battery *b, const struct battery_params *p);
void battery_free(struct battery *b);

/* Advance the physics by dt_s seconds with current_a flowing (+ = charging). */
void battery_step(struct battery *b, double current_a, double dt_s);

/* Open-circuit voltage of one cell at soc (0..1, clamped to the curve's ends), in volts. */
double battery_ocv_v(int chemistry, double soc);

/* Set every cell's true SOC (keeping the spread) and the estimate. */
void battery_set_soc(struct battery *b, double pct);

/* Read-outs in the units the register maps use. */
uint16_t battery_cell_mv(const struct battery *b, unsigned i);
int16_t battery_sensor_dc(const struct battery *b, unsigned i); /* INT16_MIN when absent */
unsigned battery_min_cell(const struct battery *b);             /* index of the lowest cell */
unsigned battery_max_cell(const struct battery *b);
double battery_mean_soc_pct(const struct battery *b);

/* A seeded generator: uniform in [0, 1) and standard normal. */
double battery_rand_uniform(uint64_t *state);
double battery_rand_normal(uint64_t *state);

#endif
