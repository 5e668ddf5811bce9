/* SPDX-License-Identifier: MIT */
/* tinybms_decode.c — raw register blocks to a string's values, with the TinyBMS quirks. */
#include "bmsgw/tinybms.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int reject(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(char *why, size_t size, const char *fmt, ...)
{
    if (why && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return -EDOM;
}

static const struct tinybms_reg *live_reg(const char *key)
{
    /* the keys below exist in the table (a unit test checks each) */
    return tinybms_reg_find_key(key);
}

static int live_float(const uint16_t *regs, const char *key, double limit, double *out, char *why,
                      size_t size)
{
    const struct tinybms_reg *r = live_reg(key);
    if (tinybms_reg_value(r, regs + r->addr, 0, out) != 0)
        return reject(why, size, "%s is not a number (NaN or infinite)", key);
    if (fabs(*out) > limit)
        return reject(why, size, "%s %.3g is out of range (|x| <= %g)", key, *out, limit);
    return 0;
}

static int live_temp(const uint16_t *regs, unsigned addr, const char *what, int16_t *out, char *why,
                     size_t size)
{
    int16_t dc = (int16_t)regs[addr];
    *out = dc;
    if (dc == BMSGW_TEMP_ABSENT)
        return 0;
    if (dc < TINYBMS_TEMP_MIN_DC || dc > TINYBMS_TEMP_MAX_DC)
        return reject(why, size, "%s %.1f degC is out of range (%d..%d)", what, dc / 10.0,
                      TINYBMS_TEMP_MIN_DC / 10, TINYBMS_TEMP_MAX_DC / 10);
    return 0;
}

static int decode_cells(const uint16_t *regs, struct tinybms_live *out, char *why, size_t size)
{
    unsigned n = regs[53];
    if (n == 0)
        return reject(why, size, "the BMS reports 0 detected cells");
    if (n > TINYBMS_MAX_CELLS)
        return reject(why, size, "the BMS reports %u detected cells (at most %u)", n,
                      TINYBMS_MAX_CELLS);
    out->cell_count = (uint16_t)n;
    /* with N cells, the top N of registers 0..15 hold cells 1..N */
    unsigned first = TINYBMS_MAX_CELLS - n;
    for (unsigned i = 0; i < n; i++) {
        unsigned tenth_mv = regs[first + i];
        unsigned mv = (tenth_mv + 5) / 10;
        if (mv < TINYBMS_CELL_MIN_MV || mv > TINYBMS_CELL_MAX_MV)
            return reject(why, size, "cell %u at %u mV is implausible (%u..%u mV)", i + 1, mv,
                          TINYBMS_CELL_MIN_MV, TINYBMS_CELL_MAX_MV);
        out->cell_mv[i] = (uint16_t)mv;
    }
    uint16_t mask = (uint16_t)((1u << n) - 1u);
    out->balance_needed = regs[51] & mask;
    out->balancing = regs[52] & mask;
    return 0;
}

static int decode_soc_soh(const uint16_t *regs, struct tinybms_live *out, char *why, size_t size)
{
    const struct tinybms_reg *soc = live_reg("soc_pct"), *soh = live_reg("soh_pct");
    tinybms_reg_value(soc, regs + soc->addr, 0, &out->soc_pct);
    tinybms_reg_value(soh, regs + soh->addr, 0, &out->soh_pct);
    if (out->soc_pct > 100.0 + 1e-9)
        return reject(why, size, "SOC %.2f %% is above 100 %%", out->soc_pct);
    if (out->soh_pct > 100.0 + 1e-9)
        return reject(why, size, "SOH %.2f %% is above 100 %%", out->soh_pct);
    return 0;
}

static int check_pack_voltage(const struct tinybms_live *l, char *why, size_t size)
{
    double sum_v = 0;
    for (unsigned i = 0; i < l->cell_count; i++)
        sum_v += l->cell_mv[i] / 1000.0;
    if (l->pack_v <= 0)
        return reject(why, size, "pack voltage %.3f V is not positive", l->pack_v);
    /* the BMS measures both: more than half a cell apart means a decoding fault (word order,
     * wrong block) or a cell the BMS does not see (a wrong cell count) */
    double half_cell_v = 0.5 * sum_v / l->cell_count;
    if (fabs(l->pack_v - sum_v) > half_cell_v)
        return reject(why, size,
                      "pack voltage %.2f V differs from the sum of the %u cells %.2f V by more "
                      "than half a cell (%.2f V)",
                      l->pack_v, l->cell_count, sum_v, half_cell_v);
    return 0;
}

static void decode_counters(const uint16_t *regs, struct tinybms_live *out)
{
    const struct tinybms_reg *lt = live_reg("lifetime_s"), *tl = live_reg("time_left_s");
    double v;
    tinybms_reg_value(lt, regs + lt->addr, 0, &v);
    out->lifetime_s = (uint32_t)v;
    tinybms_reg_value(tl, regs + tl->addr, 0, &v);
    out->time_left_s = (uint32_t)v;
    out->bms_min_cell_mv = regs[40];
    out->bms_max_cell_mv = regs[41];
    out->distance_left_km = regs[44];
    out->status = regs[50];
}

int tinybms_decode_live(const uint16_t regs[TINYBMS_LIVE_COUNT], struct tinybms_live *out,
                        char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (why && why_size)
        why[0] = '\0';
    int rc = decode_cells(regs, out, why, why_size);
    if (!rc)
        rc = live_float(regs, "pack_voltage_v", TINYBMS_PACK_MAX_V, &out->pack_v, why, why_size);
    if (!rc)
        rc = live_float(regs, "pack_current_a", TINYBMS_CURRENT_MAX_A, &out->current_a, why,
                        why_size);
    if (!rc)
        rc = live_float(regs, "speed_kmh", 1000.0, &out->speed_kmh, why, why_size);
    if (!rc)
        rc = check_pack_voltage(out, why, why_size);
    if (!rc)
        rc = decode_soc_soh(regs, out, why, why_size);
    if (!rc)
        rc = live_temp(regs, 42, "external temperature 1", &out->sensor_dc[0], why, why_size);
    if (!rc)
        rc = live_temp(regs, 43, "external temperature 2", &out->sensor_dc[1], why, why_size);
    if (!rc)
        rc = live_temp(regs, 48, "internal temperature", &out->mosfet_temp_dc, why, why_size);
    if (rc)
        return rc;
    decode_counters(regs, out);
    return 0;
}

void tinybms_sample(const struct tinybms_live *l, struct bms_sample *out)
{
    memset(out, 0, sizeof(*out));
    out->cell_count = l->cell_count <= TINYBMS_MAX_CELLS ? l->cell_count : TINYBMS_MAX_CELLS;
    for (unsigned i = 0; i < out->cell_count; i++) {
        out->cell_mv[i] = l->cell_mv[i];
        out->cell_flags[i] =
            (uint8_t)((l->balance_needed >> i & 1u ? BMSGW_CELL_BALANCE_NEEDED : 0) |
                      (l->balancing >> i & 1u ? BMSGW_CELL_BALANCING : 0));
    }
    out->sensor_count = TINYBMS_SENSORS;
    for (unsigned i = 0; i < TINYBMS_SENSORS; i++)
        out->sensor_dc[i] = l->sensor_dc[i];
    out->mosfet_temp_dc = l->mosfet_temp_dc;
    out->pack_v = l->pack_v;
    out->current_a = l->current_a;
    out->soc_pct = l->soc_pct;
    out->soh_pct = l->soh_pct;
    out->state = (uint8_t)tinybms_state(l->status);
    out->status_code = l->status;
    out->lifetime_s = l->lifetime_s;
    out->time_left_s = l->time_left_s;
}

void tinybms_live_apply(const struct tinybms_live *l, struct bmsgw_system *sys,
                        unsigned string_index, int64_t sample_ms)
{
    struct bms_sample s;
    struct bms_range r = { .cell_first = (uint16_t)(string_index * TINYBMS_MAX_CELLS),
                           .cell_count = TINYBMS_MAX_CELLS,
                           .sensor_first = (uint16_t)(string_index * TINYBMS_SENSORS),
                           .sensor_count = TINYBMS_SENSORS };
    if (string_index >= BMSGW_MAX_STRINGS)
        return;
    tinybms_sample(l, &s);
    bms_sample_apply(&s, sys, string_index, &r, TINYBMS_NAME, sample_ms);
}

/* The settings registers that are cut-offs of the model, with their documented ranges. */
static const struct {
    unsigned reg;
    bool is_signed;
    int lo, hi;
} cutoff_regs[BMSGW_THRESHOLD_COUNT] = {
    [BMSGW_THRESHOLD_OVER_VOLTAGE] = { 315, false, 1200, 4500 },
    [BMSGW_THRESHOLD_UNDER_VOLTAGE] = { 316, false, 800, 3500 },
    [BMSGW_THRESHOLD_DISCHARGE_CURRENT] = { 317, false, 1, 750 },
    [BMSGW_THRESHOLD_CHARGE_CURRENT] = { 318, false, 1, 750 },
    [BMSGW_THRESHOLD_OVER_HEAT] = { 319, true, 20, 90 },
    [BMSGW_THRESHOLD_CHARGE_LOW_TEMP] = { 320, true, -40, 10 },
};

void tinybms_cutoffs(const uint16_t regs[BMSGW_SETTINGS_COUNT], struct bmsgw_string *st)
{
    st->cutoff_valid = 0;
    for (unsigned i = 0; i < BMSGW_THRESHOLD_COUNT && st->settings_valid; i++) {
        uint16_t raw = regs[cutoff_regs[i].reg - BMSGW_SETTINGS_FIRST];
        int v = cutoff_regs[i].is_signed ? (int)(int16_t)raw : (int)raw;
        st->cutoff[i] = v;
        if (v >= cutoff_regs[i].lo && v <= cutoff_regs[i].hi)
            st->cutoff_valid |= (uint8_t)(1u << i);
    }
}

void tinybms_settings_apply(const uint16_t regs[BMSGW_SETTINGS_COUNT], struct bmsgw_string *st,
                            int64_t now_ms)
{
    if (regs != st->settings_reg)
        memcpy(st->settings_reg, regs, sizeof(st->settings_reg));
    st->bms_name = TINYBMS_NAME;
    st->settings_valid = true;
    st->settings_ms = now_ms;
    tinybms_cutoffs(regs, st);
    const struct tinybms_reg *cap = tinybms_reg_find_key("battery_capacity_ah");
    double ah = 0;
    tinybms_reg_value(cap, regs + (cap->addr - BMSGW_SETTINGS_FIRST), 0, &ah);
    st->capacity_ah = ah;
}

/* Newest first by timestamp; entries with the same timestamp keep the BMS's order. */
static void sort_newest_first(struct bmsgw_bms_event *e, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        struct bmsgw_bms_event v = e[i];
        unsigned j = i;
        for (; j > 0 && e[j - 1].timestamp_s < v.timestamp_s; j--)
            e[j] = e[j - 1];
        e[j] = v;
    }
}

unsigned tinybms_decode_events(const uint16_t regs[TINYBMS_EVENTS_REGS],
                               struct bmsgw_bms_event out[BMSGW_EVENTS_MAX])
{
    unsigned n = 0;
    for (unsigned k = 0; k < BMSGW_EVENTS_MAX; k++) {
        uint16_t lo = regs[2 * k], hi = regs[2 * k + 1];
        uint8_t id = (uint8_t)(hi >> 8);
        if (id == 0x00 || id == 0xFF)
            continue;
        out[n].timestamp_s = (uint32_t)lo | (uint32_t)(hi & 0xFF) << 16;
        out[n].id = id;
        tinybms_event_describe(&out[n]);
        n++;
    }
    sort_newest_first(out, n);
    return n;
}
