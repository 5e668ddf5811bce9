/* SPDX-License-Identifier: MIT */
/* tinybms.h — the TinyBMS register table, value conversions, event names and the decoder. */
#ifndef BMSGW_TINYBMS_H
#define BMSGW_TINYBMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/bms_driver.h"
#include "bmsgw/model.h"

/*
 * One table (tinybms_regs[], spec/tinybms.md) describes every register the gateway knows: the
 * decoder, the JSON names, the register listing of the API, the settings writes and the
 * simulator all read it. An entry describes one value: a register, a pair of registers (32-bit,
 * word order CDAB: low word in the lower register), one byte of a register (2xU8 / 2xI8: two
 * entries with the same address), or an array (the cell voltages, the event log, the serial).
 *
 * value = raw * scale, in unit. min/max are in value units and bound what may be written.
 * Everything here is pure.
 */

/* Where the raw pages the model keeps for this driver start (bmsgw_string.stats_reg,
 * settings_reg, ident_reg hold BMSGW_STATS_COUNT / _SETTINGS_COUNT / _IDENT_COUNT registers from
 * there: 100..117, 300..343, 500..509); the event log is 200..297, two registers an entry. */
#define BMSGW_STATS_FIRST    100
#define BMSGW_SETTINGS_FIRST 300
#define BMSGW_IDENT_FIRST    500

enum tinybms_type {
    TINYBMS_U16 = 0,
    TINYBMS_I16,
    TINYBMS_U32,     /* two registers, CDAB */
    TINYBMS_FLOAT32, /* two registers, CDAB, IEEE 754 */
    TINYBMS_U8X2,    /* one byte of a register (see half) */
    TINYBMS_I8X2,    /* one signed byte of a register (see half) */
    TINYBMS_SERIAL,  /* registers shown as hex (serial number) */
    TINYBMS_EVENTS,  /* the event log: pairs of registers (timestamp, id) */
};

enum tinybms_half { TINYBMS_WHOLE = 0, TINYBMS_LOW_BYTE, TINYBMS_HIGH_BYTE };
enum tinybms_word_order { TINYBMS_WORDS_NONE = 0, TINYBMS_WORDS_CDAB };
enum tinybms_access { TINYBMS_READ = 0, TINYBMS_READ_WRITE };

/* How a value is meant: a quantity, a code with names, or a bit field. */
enum tinybms_kind { TINYBMS_QUANTITY = 0, TINYBMS_CODE, TINYBMS_BITS };

/* The blocks the poller reads (spec/tinybms.md, poll plan). */
enum tinybms_block {
    TINYBMS_BLOCK_LIVE = 0, /* 0..55, every poll_interval_ms */
    TINYBMS_BLOCK_STATS,    /* 100..117, every slow_interval_ms */
    TINYBMS_BLOCK_EVENTS,   /* 200..297, every slow_interval_ms */
    TINYBMS_BLOCK_SETTINGS, /* 300..343, at connect, every settings_interval_ms, after writes */
    TINYBMS_BLOCK_IDENTITY, /* 500..509, at connect */
    TINYBMS_BLOCK_COUNT
};

struct tinybms_block_def {
    const char *name; /* "live", "stats", "events", "settings", "identity" */
    uint16_t first;
    uint16_t count;
};

extern const struct tinybms_block_def tinybms_blocks[TINYBMS_BLOCK_COUNT];

#define TINYBMS_LIVE_COUNT   56
#define TINYBMS_EVENTS_FIRST 200
#define TINYBMS_EVENTS_REGS  98 /* 49 entries of two registers */
#define TINYBMS_MAX_CELLS    16
#define TINYBMS_SENSORS      2 /* external battery sensors; the MOSFET sensor is separate */
#define TINYBMS_WRITE_FIRST  300
#define TINYBMS_WRITE_LAST   399

struct tinybms_reg {
    uint16_t addr;
    uint8_t words; /* registers spanned: 1, 2, or the array length */
    uint8_t type;  /* enum tinybms_type */
    uint8_t half;  /* enum tinybms_half, for U8X2/I8X2 */
    uint8_t word_order;
    uint8_t access;   /* enum tinybms_access */
    uint8_t block;    /* enum tinybms_block */
    uint8_t kind;     /* enum tinybms_kind */
    bool absent_min;  /* I16: INT16_MIN means "sensor not connected" */
    const char *key;  /* snake_case with unit: "over_voltage_cutoff_mv" */
    const char *name; /* for people: "Over-voltage cutoff" */
    const char *unit; /* "mV", "A", "degC", "%", "s", ... or "" */
    double scale;     /* value = raw * scale */
    double min;       /* writable entries: allowed values (value units) */
    double max;
    const struct bms_choice *choices; /* TINYBMS_CODE: names of the values, or NULL */
};

extern const struct tinybms_reg tinybms_regs[];
extern const unsigned tinybms_reg_count;

/* NULL when unknown. */
const struct tinybms_reg *tinybms_reg_find_key(const char *key);
/* The first entry that covers addr (for 2xU8 registers: the low byte's entry), or NULL for a
 * reserved address. */
const struct tinybms_reg *tinybms_reg_find_addr(unsigned addr);

/*
 * Value of an entry from its registers: words[0] is register r->addr (words[1] the next one
 * for 32-bit values; words[index] for an array element). Returns 0, -ENODATA for an unplugged
 * sensor (-32768), -EDOM for a NaN or infinite float, -EINVAL for an index outside the entry
 * or a type that has no single value (serial, event log).
 */
int tinybms_reg_value(const struct tinybms_reg *r, const uint16_t *words, unsigned index,
                      double *value);

/*
 * Encode a value into the entry's registers. words holds the registers' current contents on
 * entry (the other byte of a 2xU8 register is kept) and the new contents on return. Returns 0,
 * -EINVAL (not writable; why says so) or -ERANGE (why names the allowed range and unit).
 */
int tinybms_reg_encode(const struct tinybms_reg *r, double value, uint16_t *words, char *why,
                       size_t why_size);

/*
 * Check a raw value written to one settings register (300..343), as bms_cmd.h writes them:
 * every entry covering addr must stay in range once raw replaces settings[addr - 300] (the
 * other word of a 32-bit value and the other byte of a 2xU8 register come from settings).
 * Returns 0, -EINVAL (reserved or read-only address) or -ERANGE, with why filled.
 */
int tinybms_setting_check(const uint16_t settings[BMSGW_SETTINGS_COUNT], unsigned addr,
                          uint16_t raw, char *why, size_t why_size);

/* Name of a code value of an entry, or NULL. */
const char *tinybms_reg_choice_name(const struct tinybms_reg *r, int value);

/* Event names ("Over-voltage cutoff") and severities ("fault", "warning", "info"); unknown ids
 * get "Unknown event" and the severity of their id range. Never NULL. */
/* What the model calls this BMS (bmsgw_string.bms_name). */
#define TINYBMS_NAME "TinyBMS"

/* The online status codes of register 50. */
enum tinybms_status {
    TINYBMS_STATUS_CHARGING = 0x91,
    TINYBMS_STATUS_FULL = 0x92,
    TINYBMS_STATUS_DISCHARGING = 0x93,
    TINYBMS_STATUS_REGENERATION = 0x96,
    TINYBMS_STATUS_IDLE = 0x97,
    TINYBMS_STATUS_FAULT = 0x9B,
};

/* The model's state for a register 50 code (BMSGW_BMS_UNKNOWN for any other). */
enum bmsgw_bms_state tinybms_state(uint16_t status);

/* Fill severity, flags and name of e from its id (the decode does it for every event read). */
void tinybms_event_describe(struct bmsgw_bms_event *e);

const char *tinybms_event_name(unsigned id);
const char *tinybms_event_severity(unsigned id);

/* ---- decoder ------------------------------------------------------------------------------ */

/* Plausibility limits: a sample outside them is rejected, never published. */
#define TINYBMS_CELL_MIN_MV   500
#define TINYBMS_CELL_MAX_MV   5000
#define TINYBMS_PACK_MAX_V    100.0
#define TINYBMS_CURRENT_MAX_A 1000.0
#define TINYBMS_TEMP_MIN_DC   (-400)
#define TINYBMS_TEMP_MAX_DC   1500

/* The live block decoded: what one fast poll says about a string. */
struct tinybms_live {
    uint16_t cell_count;                 /* detected cells, 1..16 */
    uint16_t cell_mv[TINYBMS_MAX_CELLS]; /* cell 1..cell_count, rounded to mV */
    uint16_t balance_needed;             /* bit i = cell i+1 (reg 51) */
    uint16_t balancing;                  /* bit i = cell i+1 (reg 52) */
    int16_t sensor_dc[TINYBMS_SENSORS];  /* BMSGW_TEMP_ABSENT when unplugged */
    int16_t mosfet_temp_dc;              /* reg 48 */
    double pack_v;
    double current_a; /* + = charging */
    double soc_pct;
    double soh_pct;
    double speed_kmh;
    uint16_t bms_min_cell_mv; /* regs 40/41 as the BMS reports them */
    uint16_t bms_max_cell_mv;
    uint16_t status; /* reg 50, raw code (enum tinybms_status) */
    uint16_t distance_left_km;
    uint32_t lifetime_s;
    uint32_t time_left_s;
};

/*
 * Decode registers 0..55 (regs[addr]). With N cells the top N of registers 0..15 hold them.
 * Returns 0, or -EDOM when the sample is implausible (why says what: 0 or > 16 detected cells,
 * a cell outside TINYBMS_CELL_MIN_MV..MAX_MV, a NaN/infinite or out-of-range float, SOC above
 * 100 %, a temperature out of range, a pack voltage more than half a cell from the cells' sum).
 */
int tinybms_decode_live(const uint16_t regs[TINYBMS_LIVE_COUNT], struct tinybms_live *out,
                        char *why, size_t why_size);

/* The sample in the model's terms (the driver's decode_live). */
void tinybms_sample(const struct tinybms_live *l, struct bms_sample *out);

/* bms_sample_apply() with the ranges of string i when every string is a TinyBMS: 16 cells and
 * 2 sensors each (the tests' and the fuzzer's layout; the poller uses the configured one). */
void tinybms_live_apply(const struct tinybms_live *l, struct bmsgw_system *sys,
                        unsigned string_index, int64_t sample_ms);

/* Settings registers read: copies them into the string and derives capacity_ah (reg 306) and
 * the cut-offs (tinybms_cutoffs). */
void tinybms_settings_apply(const uint16_t regs[BMSGW_SETTINGS_COUNT], struct bmsgw_string *st,
                            int64_t now_ms);

/* The model's cut-offs from settings registers 315-320 (over/under-voltage mV, discharge/charge
 * over-current A, over-heat and charge low-temperature degC): each one in its documented range
 * is valid, one outside it is left out; none while st->settings_valid is false. */
void tinybms_cutoffs(const uint16_t regs[BMSGW_SETTINGS_COUNT], struct bmsgw_string *st);

/*
 * Decode the event log (registers 200..297): entries with an id of 0x00 or 0xFF are empty.
 * Fills out[] newest first (by timestamp) and returns the number of entries.
 */
unsigned tinybms_decode_events(const uint16_t regs[TINYBMS_EVENTS_REGS],
                               struct bmsgw_bms_event out[BMSGW_EVENTS_MAX]);

#endif
