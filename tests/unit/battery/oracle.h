/* SPDX-License-Identifier: MIT */
/* oracle.h — spec/victron-can.md "Safety invariants" checked on encoded frames (tests only). */
#ifndef BMSGW_TEST_ORACLE_H
#define BMSGW_TEST_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/can_out.h"
#include "bmsgw/config.h"
#include "bmsgw/control.h"
#include "bmsgw/model.h"

/*
 * Written from the spec, not from the controller: the thresholds in force, the conditions that
 * force a limit to 0 and the frame layouts are computed here from the configuration, the
 * TinyBMS settings registers and the bytes on the bus. Every check has a name ("1-cvl-le-v")
 * that its failures print, with the seed and the step.
 */

enum oracle_check {
    OC_CVL_LE_V = 0,   /* 1: CCL 0 => CVL <= floor(V) */
    OC_CVL_POSITIVE,   /* 1: CVL > 0 */
    OC_372_CHARGE,     /* 1: CCL 0 => 0x372 strings blocking charge >= 1 */
    OC_372_DISCHARGE,  /* 1: DCL 0 => 0x372 strings blocking discharge >= 1 */
    OC_OV_CCL,         /* 2/3/5: a cell >= OV in force => CCL 0 */
    OC_UV_DCL,         /* 3/5: a cell <= UV in force => DCL 0 */
    OC_CVL_SLEW,       /* 2: CVL rises at most slew x dt (+0.1 V) */
    OC_CVL_SLEW_BLOCK, /* 2: the same on leaving a stale block */
    OC_CCL_RAMP,       /* 2: CCL rises at most ramp x dt (+0.1 A) */
    OC_DCL_RAMP,       /* 2: DCL likewise */
    OC_CCL_HOLD,       /* 2 / rule 6: CCL stays 0 recover_hold_s after a zero cause */
    OC_DCL_HOLD,       /* 2 / rule 6: DCL likewise */
    OC_HOLD_STALE,     /* 2 / rule 6: the same after a stale block */
    OC_BLOCK_CVL,      /* 2: block mode: CVL <= min(last CVL sent, last fresh V) */
    OC_BLOCK_ZERO,     /* stale block: CCL = DCL = 0 */
    OC_BLOCK_ALARM,    /* stale block: general alarm active */
    OC_STALE_MODE,     /* stale: silence sends nothing, block sends */
    OC_FRESH_SENDS,    /* fresh data: 0x351 is sent */
    OC_REFUSED,        /* 3: a register less safe than the config is recorded as refused */
    OC_REFUSED_ENTRY,  /* 3: every refused entry is one (string, what, values) */
    OC_NO_SENSOR,      /* 4: CCL <= max x sum(1, or no_sensor_charge_factor) */
    OC_NO_TEMP,        /* 4: a fresh string without any temperature => CCL 0 */
    OC_LOWTEMP_CCL,    /* 4/5: a sensor (or MOSFET without sensors) <= charge cutoff => CCL 0 */
    OC_OVERHEAT,       /* 4: a battery sensor >= over-heat => CCL = DCL = 0 */
    OC_CVL_OV,         /* 6: CVL <= N x (OV - 50 mV) after rounding */
    OC_CVL_MAX,        /* 5: CVL <= max_cvl_v */
    OC_DVL_ROUND,      /* 6: DVL >= N x cell_discharge_min_mv, rounded up by < 0.1 V */
    OC_FAULT_CCL,      /* 7: fault status or recent fault event => CCL 0 */
    OC_FAULT_DCL,      /* 7: a discharge-side fault event => DCL 0 */
    OC_FAULT_ALARM,    /* 7/8: ... with the BMS internal alarm active */
    OC_OPERATOR,       /* 1: operator block => CCL/DCL 0 */
    OC_ALARM_HV,       /* 8: cell >= OV => high voltage alarm */
    OC_ALARM_LV,       /* 8: cell <= UV => low voltage alarm */
    OC_ALARM_HT,       /* 8: sensor >= over-heat => high temperature alarm */
    OC_ALARM_LTC,      /* 8: sensor <= charge cutoff => low temperature charge alarm */
    OC_ALARM_GENERAL,  /* 0x35A: any alarm => general alarm */
    OC_ALARM_FIELDS,   /* 0x35A: monitored fields 1 or 2, never 0 or 3 */
    OC_CCL_TABLE,      /* rule 4: CCL <= max x strings x table factors (+0.1 A) */
    OC_DCL_TABLE,      /* rule 4: DCL likewise */
    OC_SATURATE_351,   /* 9: 0x351 fields equal the decided limits, saturated, never negative */
    OC_COUNTS_372,     /* 9: 0x372 counts are the real ones */
    OC_SATURATE_356,   /* 9: 0x356 current/voltage/temperature saturate, keep their sign */
    OC_PARTIAL_STALE,  /* 1/2/6 while the output blocks on stale data but strings are fresh */
    OC_COUNT
};

const char *oracle_check_name(enum oracle_check c);

/* ---- frames decoded from the bytes (spec layouts) ---------------------------------------- */

struct oracle_351 {
    unsigned cvl_raw, dvl_raw; /* u16, 0.1 V */
    int ccl_raw, dcl_raw;      /* s16, 0.1 A */
    double cvl_v, ccl_a, dcl_a, dvl_v;
};
struct oracle_35a {
    uint8_t alarm[BMSGW_ALARM_COUNT]; /* 2-bit fields, enum bmsgw_alarm_id order */
    uint8_t warning[BMSGW_ALARM_COUNT];
};
struct oracle_372 {
    unsigned online, block_charge, block_discharge, offline;
};
struct oracle_356 {
    int voltage_raw, current_raw, temp_raw; /* s16: 0.01 V, 0.1 A, 0.1 degC */
};

void oracle_decode_351(const uint8_t d[8], struct oracle_351 *o);
void oracle_decode_35a(const uint8_t d[8], struct oracle_35a *o);
void oracle_decode_372(const uint8_t d[8], struct oracle_372 *o);
void oracle_decode_356(const uint8_t d[8], struct oracle_356 *o);

/* ---- thresholds in force (invariant 3) --------------------------------------------------- */

struct oracle_thresholds {
    int ov_mv, uv_mv;
    int overheat_dc, lowchg_dc; /* 0.1 degC */
    uint8_t refused;            /* bit (1 << enum bmsgw_threshold) */
    bool stricter;              /* a register stricter than the config is in force */
    double reg[BMSGW_THRESHOLD_COUNT], cfg[BMSGW_THRESHOLD_COUNT];
};

void oracle_thresholds(const struct bmsgw_config *cfg, const struct bmsgw_string *st,
                       struct oracle_thresholds *t);

/* ---- one step: what was sent ------------------------------------------------------------- */

struct oracle_frames {
    int mode; /* enum can_out_mode */
    bool sent351, sent35a, sent372, sent356;
    uint8_t d351[8], d35a[8], d372[8], d356[8];
};

/* State of one run (a sequence of steps on one composer / output). */
struct oracle_run {
    uint64_t seed;
    unsigned step;
    bool have_prev; /* a 0x351 was sent before */
    int64_t prev_ms;
    struct oracle_351 prev;
    double last_fresh_v;  /* lowest fresh pack voltage of the newest step with one */
    unsigned last_cells;  /* N of that step */
    int last_ov_mv;       /* lowest OV in force of that step */
    int64_t ccl_cause_ms; /* newest step with a certain CCL-0 cause, INT64_MIN = none */
    int64_t dcl_cause_ms;
    int64_t stale_cause_ms; /* newest stale block step */
    bool v_partial;         /* last_fresh_v is from a step the output treated as stale */
    bool prev_block;        /* the previous 0x351 was a stale block */
    bool prev_partial;      /* the previous 0x351 was a stale block with fresh strings */
    bool stale_partial;     /* the newest stale block was one */
    bool full_fresh_seen;   /* a step had every online string fresh and was sent normally */
};

void oracle_run_init(struct oracle_run *r, uint64_t seed);

/*
 * Check the step at now_ms: sys as composed, cs the operator state given to the output (may be
 * NULL), lim the limits the encoders read (out->lim), fr what was sent. Failures are counted
 * and the first ones printed with the seed, the step and the decoded frames.
 */
void oracle_check(struct oracle_run *r, const struct bmsgw_config *cfg,
                  const struct bmsgw_system *sys, const struct control_state *cs,
                  const struct bmsgw_limits *lim, int64_t now_ms, const struct oracle_frames *fr);

/* ---- what a sample requires (computed from the spec) ------------------------------------- */

/* Over the strings fresh at the step (online, sampled within bms.stale_after_ms). */
struct oracle_expect {
    unsigned n_fresh, n_online_stale, cells;
    double v;     /* lowest fresh pack voltage, 0 = none */
    double ccl_w; /* sum of string charge shares (4) */
    double ccl_f, dcl_f, current_a, pack_sum_v;
    int ov_mv, tmin_dc, tmax_dc;
    unsigned n_block_charge, n_block_discharge;            /* strings whose own state blocks */
    unsigned n_temp, n_mosfet, refused_fresh, refused_all; /* n_mosfet: sensorless, MOSFET */
    bool ov, uv, overheat, lowchg, notemp, fault, fault_dis;
    bool reg_stricter; /* a register stricter than the config is in force */
    uint8_t refused[BMSGW_MAX_STRINGS];
    double reg[BMSGW_MAX_STRINGS][BMSGW_THRESHOLD_COUNT];
};

void oracle_expect(const struct bmsgw_config *cfg, const struct bmsgw_system *sys, int64_t now,
                   struct oracle_expect *e);

/* One check's context, for oracle_fail(). */
struct oracle_ctx {
    struct oracle_run *r;
    const struct oracle_expect *e;
    const struct oracle_frames *fr;
    const struct oracle_351 *f351;
    const struct oracle_35a *f35a;
    const struct oracle_372 *f372;
};

/* Count a failure of c and print the first ones with the decoded frames. */
__attribute__((format(printf, 3, 4))) void oracle_fail(const struct oracle_ctx *x,
                                                       enum oracle_check c, const char *fmt, ...);

#define ORACLE_CHECK(x, c, cond, ...)                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            oracle_fail(x, c, __VA_ARGS__);                                                        \
    } while (0)

/* Failures of check c so far. */
unsigned oracle_failures(enum oracle_check c);
void oracle_print_summary(void);

/* How often the steps checked so far exercised each condition (the generators must reach
 * every one, or the checks above cannot fail). */
enum oracle_coverage {
    ORACLE_COV_STEPS = 0,
    ORACLE_COV_OV,
    ORACLE_COV_UV,
    ORACLE_COV_OVERHEAT,
    ORACLE_COV_LOWCHG,
    ORACLE_COV_NOSENSOR,
    ORACLE_COV_NOTEMP,
    ORACLE_COV_FAULT,
    ORACLE_COV_FAULT_DIS,
    ORACLE_COV_OPERATOR,
    ORACLE_COV_BLOCK,
    ORACLE_COV_SILENT,
    ORACLE_COV_REFUSED,
    ORACLE_COV_REG_STRICTER,
    ORACLE_COV_CCL0,
    ORACLE_COV_CCL_POS,
    ORACLE_COV_CVL_UP,
    ORACLE_COV_SATURATED,
    ORACLE_COV_COUNT
};
unsigned oracle_coverage(enum oracle_coverage c);
void oracle_coverage_print(void);
void oracle_reset(void);

#endif
