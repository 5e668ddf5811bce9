/* SPDX-License-Identifier: MIT */
/* tinybms_sim.h — a simulated TinyBMS: battery physics behind the real register map, protocol
 * answers exactly like the spec, cutoffs and events, fault injection, a control language. */
#ifndef BMSGW_TINYBMS_SIM_H
#define BMSGW_TINYBMS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/battery.h"
#include "bmsgw/model.h"
#include "bmsgw/tinybms.h"

/*
 * The model (struct tinybms_sim) is pure: time is passed in, randomness is seeded. It keeps the
 * register image 0..599 the BMS would answer from, refreshed by every physics step (the BMS
 * samples every 100 ms), and answers request frames with reply frames. Faults on the wire (no
 * reply, bad CRC, garbage, delay, vanish) are recorded here by the control commands and carried
 * out by the I/O runner (tinybms_sim_run).
 */

#define TINYBMS_SIM_REGS 600

enum tinybms_sim_load { SIM_LOAD_CONSTANT = 0, SIM_LOAD_RANDOM };

/* Protection states the simulated BMS can be in (bits of tinybms_sim.cutoffs). */
enum {
    SIM_CUT_OVER_VOLTAGE = 1u << 0,
    SIM_CUT_UNDER_VOLTAGE = 1u << 1,
    SIM_CUT_OVER_TEMP = 1u << 2,
    SIM_CUT_DISCHARGE_OC = 1u << 3,
    SIM_CUT_CHARGE_OC = 1u << 4,
    SIM_CUT_LOW_TEMP_CHARGE = 1u << 5,  /* a warning: charging stops, no fault status */
    SIM_CUT_FULLY_DISCHARGED = 1u << 6, /* a warning */
};

struct tinybms_sim_io_faults {
    bool noreply;       /* answer nothing */
    double crc_prob;    /* share of replies sent with a corrupted CRC, 0..1 */
    bool garbage;       /* junk bytes and ASCII lines around replies */
    int delay_ms;       /* answer this late */
    double vanish_s;    /* > 0: close the device now and come back after this long (one shot) */
    bool ignore_writes; /* acknowledge settings writes without storing them */
};

struct tinybms_sim_stats {
    uint64_t requests; /* complete frames received */
    uint64_t replies;  /* frames sent */
    uint64_t rx_crc_errors;
    uint64_t rx_garbage_bytes;
    uint64_t swallowed; /* requests that only woke the BMS up */
    uint64_t rejected;  /* error replies sent */
    uint64_t writes;    /* settings registers written */
};

struct tinybms_sim {
    struct battery bat;
    int chemistry;
    uint16_t regs[TINYBMS_SIM_REGS];
    double t_s;      /* simulated time since start (the lifetime counter) */
    double mosfet_c; /* BMS internal temperature */
    double soh_pct;

    /* load */
    int load;             /* enum tinybms_sim_load */
    double set_current_a; /* constant load, + = charging */
    double walk_a;        /* random walk state */
    double current_a;     /* after the BMS's own cutoffs */

    /* protections and status */
    uint32_t cutoffs;
    double cutoff_since_s[8];
    bool forced_fault;
    uint16_t status;
    bool charging; /* for the charging count */

    /* statistics (registers 100..117) */
    double max_discharge_a, max_charge_a, max_diff_mv;
    uint16_t count_uv, count_ov, count_doc, count_coc, count_oh, count_charging, count_full;
    int8_t temp_min_c, temp_max_c;
    uint8_t reset_reason, wakeup_reason;
    uint32_t stats_cleared_s;

    /* event log, newest first */
    struct bmsgw_bms_event events[BMSGW_EVENTS_MAX];
    unsigned event_count;

    /* protocol behaviour */
    unsigned max_read;  /* longest FC3 read answered (firmware that refuses long reads) */
    bool sleep_enabled; /* emulate sleep after sleep_after_s without traffic at ~0 A */
    double sleep_after_s;
    bool asleep;
    double last_rx_s;
    double boot_until_s; /* after a reset the BMS answers nothing until then */

    struct tinybms_sim_io_faults io;
    struct tinybms_sim_stats stats;
};

struct tinybms_sim_params {
    unsigned cells;     /* 4..16 */
    int chemistry;      /* enum cfg_chemistry: lfp or nmc */
    double capacity_ah; /* 0 = the chemistry's default */
    double soc_pct;
    uint64_t seed;
};

void tinybms_sim_params_default(struct tinybms_sim_params *p);

/* Returns 0, -EINVAL (cells outside 4..16, unknown chemistry) or -ENOMEM. */
int tinybms_sim_init(struct tinybms_sim *s, const struct tinybms_sim_params *p);
void tinybms_sim_free(struct tinybms_sim *s);

/* Advance the physics by dt_s and refresh the register image. */
void tinybms_sim_step(struct tinybms_sim *s, double dt_s);

/* Answer one complete request frame received at now_s (simulated seconds). Returns the reply's
 * length in out (0 = no answer: asleep, booting, or a frame that is no request). */
size_t tinybms_sim_handle(struct tinybms_sim *s, const uint8_t *frame, size_t len, uint8_t *out,
                          size_t size);

/* The BMS's own event log: append an event now (newest first, 49 kept). */
void tinybms_sim_event(struct tinybms_sim *s, uint8_t id);

/* Write settings registers as FC16 would. Returns 0, or -EFAULT outside 300..399. */
int tinybms_sim_write(struct tinybms_sim *s, uint16_t addr, const uint16_t *vals, unsigned n);

/*
 * Execute one control command (ARCHITECTURE.md, "Simulator control"): get, set current|soc|
 * cell|temp|status, release cell, unplug/plug temp, load random|off, event, fault ..., sleep,
 * help. reply receives one line without newline: "ok", "error: <why>", or the JSON of get.
 * Returns 0 or -EINVAL (reply then starts with "error:").
 */
int tinybms_sim_control(struct tinybms_sim *s, const char *line, char *reply, size_t size);

/* ---- the I/O runner (bmsgw-sim tinybms) --------------------------------------------------- */

struct tinybms_sim_opts {
    const char *device;   /* serial device, or a path for a new PTY's symlink */
    const char *control;  /* Unix socket path, or NULL */
    const char *scenario; /* timeline file ("<seconds> <control command>" per line), or NULL */
    struct tinybms_sim_params params;
    bool sleep; /* emulate the BMS's sleep */
    double sleep_after_s;
    bool wire_time;    /* deliver replies after the 115200-baud wire time of request + reply */
    bool broadcast;    /* start with the ASCII broadcast on (registers 342/343) */
    unsigned max_read; /* 0 = 127; less emulates a BMS that rejects longer reads */
    double initial_current_a; /* constant load at start, + = charging */
    bool initial_random;      /* start with the random-walk load */
    bool quiet;
    /* Optional, for benchmarks: called after each reply is written. */
    void (*on_reply)(void *ctx, const uint8_t *frame, size_t len, int64_t mono_us);
    void *ctx;
};

/* Run until stop_fd becomes readable (an eventfd or a signalfd). Returns 0, or -errno when the
 * device, the control socket or the scenario cannot be set up (a message is printed). */
int tinybms_sim_run(const struct tinybms_sim_opts *o, int stop_fd);

/* bmsgw-sim tinybms [options]: parses argv (argv[0] = "tinybms"), returns the exit status. */
int sim_tinybms_main(int argc, char **argv);

#endif
