/* SPDX-License-Identifier: MIT */
/* sim_devices.h — simulated Modbus TCP devices: mega BMS, Tescom, 12S pack, test pattern. */
#ifndef BMSGW_SIM_DEVICES_H
#define BMSGW_SIM_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/battery.h"
#include "bmsgw/compose.h"
#include "bmsgw/control.h"
#include "bmsgw/mbmap_maps.h"
#include "bmsgw/model.h"

/*
 * Each device is a pure model over the shared battery physics (battery.h): time is passed in and
 * randomness is seeded, so a run is reproducible. It fills the source struct of its map
 * (mbmap_maps.h) and takes the writes the map allows. bmsgw-sim serves them with the daemon's
 * Modbus TCP server (mbtcp.h); the mega device publishes a whole battery system and runs the
 * daemon's composer (aggregation, alarms, charge limits) over it, so its values reach the map
 * through the very code the gateway uses.
 */

/* Mode entry points of bmsgw-sim (argv[0] is the mode's name). Return the exit status. */
int sim_mega_main(int argc, char **argv);
int sim_tescom_main(int argc, char **argv);
int sim_pack12s_main(int argc, char **argv);
int sim_testpattern_main(int argc, char **argv);

/* A simulated BMS does not let a cell be pushed beyond its chemistry's limits: charging stops
 * above the cell's charge limit, discharging below its discharge limit. Returns the current
 * the BMS lets flow for a wanted current. */
double sim_bms_allowed_current(const struct battery *b, double want_a);

/* A bounded random walk (mean-reverting to 0), one step of dt_s seconds. */
double sim_walk(double x, double limit, double step, double dt_s, uint64_t *rng);

/* ---- mega BMS ------------------------------------------------------------------------------ */

struct sim_mega_params {
    unsigned strings;     /* 1..BMSGW_MAX_STRINGS, in parallel */
    unsigned cells;       /* in total, 1..4992, spread evenly over the strings */
    unsigned sensors;     /* in total, 0..2304 */
    int chemistry;        /* enum cfg_chemistry */
    double soc_pct;       /* initial (each string varies around it) */
    double max_current_a; /* per string, both directions */
    uint64_t seed;
};

struct sim_mega {
    struct sim_mega_params p;
    struct battery *bat; /* one per string */
    double *soh_pct;
    double walk_a; /* system current wanted by the load */
    uint64_t rng;
    struct control *control; /* coils 100/101 block, as operator blocks in the daemon */
    struct composer composer;
    struct bmsgw_system *sys; /* published after every step and write */
};

/* 24 strings of 208 cells and 96 sensors (4992 / 2304), LFP, SOC 60 %, 100 A. */
void sim_mega_params_default(struct sim_mega_params *p);
/* Returns 0 or -EINVAL (sizes out of range) / -ENOMEM. */
int sim_mega_init(struct sim_mega *m, const struct sim_mega_params *p, int64_t now_ms);
void sim_mega_free(struct sim_mega *m);
void sim_mega_step(struct sim_mega *m, double dt_s, int64_t now_ms);
void sim_mega_source(const struct sim_mega *m, struct mbmap_mega_src *out);
/* Fault injection and control: cells (0 releases a forced cell), temperatures (0x8000 unplugs,
 * 0x7FFF releases), SOC, coils 100-102. Returns MBMAP_EX_NONE or an exception code. */
int sim_mega_write(struct sim_mega *m, const struct mbmap_write *w, unsigned n, int64_t now_ms);

/* ---- Tescom -------------------------------------------------------------------------------- */

struct sim_tescom_arm {
    unsigned count; /* batteries (cells of the arm's string) */
    struct battery bat;
    double walk_a;
    double humidity_pct;
    double ambient_c;
    double soh_pct[MBMAP_TESCOM_BATTERIES];
    double ntc_off_c[MBMAP_TESCOM_BATTERIES][3];
};

struct sim_tescom {
    struct sim_tescom_arm arm[MBMAP_TESCOM_ARMS];
    struct mbmap_tescom_limits limits;
    uint64_t rng;
};

/* counts: batteries of arms 1..4 (0..120 each). Returns 0 or -EINVAL / -ENOMEM. */
int sim_tescom_init(struct sim_tescom *t, const unsigned *counts, int chemistry, uint64_t seed);
void sim_tescom_free(struct sim_tescom *t);
void sim_tescom_step(struct sim_tescom *t, double dt_s);
void sim_tescom_source(const struct sim_tescom *t, struct mbmap_tescom_src *out);

/* ---- 12S pack ------------------------------------------------------------------------------ */

struct sim_pack12s {
    struct battery bat;
    double nominal_ah;
    double soh_pct;
    double t_s;
    double walk_a;
    double current_a; /* flowing after the pack's own decisions */
    double sync_s;    /* registers refreshed this often */
    double next_sync_s;
    double release_until_s; /* cmd06: protection released (and precharge) until then */
    bool power_off;         /* cmd03 until cmd02 */
    bool balance_mode;      /* cmd04 = 1 */
    bool locked;            /* a cell went above 4.35 V: until restart */
    uint16_t alarms;
    uint16_t status;
    uint16_t cmd[MBMAP_PACK12S_CMD_COUNT];
    struct mbmap_pack12s_src regs; /* what the registers show (refreshed every sync_s) */
    uint64_t rng;
};

/* 12 cells in series (chemistry: NMC in the seed), registers refreshed every sync_s. */
int sim_pack12s_init(struct sim_pack12s *s, int chemistry, double soc_pct, double sync_s,
                     uint64_t seed);
void sim_pack12s_free(struct sim_pack12s *s);
void sim_pack12s_step(struct sim_pack12s *s, double dt_s);
void sim_pack12s_source(const struct sim_pack12s *s, struct mbmap_pack12s_src *out);
/* Command registers: stored, and acted on at once (registers refreshed). */
int sim_pack12s_write(struct sim_pack12s *s, const struct mbmap_write *w, unsigned n);

#endif
