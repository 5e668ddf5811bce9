/* SPDX-License-Identifier: MIT */
/* tinybms_sim.c — the simulated TinyBMS: physics behind the register map, protections, events,
 * statistics and the protocol answers (FC3/FC16 limits, error replies, sleep, reset). */
#include "bmsgw/tinybms_sim.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/tinybms_rtu.h"

#define SET(s, addr) ((s)->regs[(addr)])

void tinybms_sim_params_default(struct tinybms_sim_params *p)
{
    memset(p, 0, sizeof(*p));
    p->cells = 16;
    p->chemistry = CFG_CHEM_LFP;
    p->soc_pct = 60;
    p->seed = 1;
}

struct sim_setting {
    uint16_t addr;
    uint16_t lfp;
    uint16_t nmc;
};

/* Factory settings the simulator starts with (per chemistry where they differ). */
static const struct sim_setting factory[] = {
    { 300, 3650, 4150 },     { 301, 2900, 3200 }, { 303, 3400, 4000 }, { 304, 1000, 1000 },
    { 305, 300, 300 },       { 307, 16, 12 },     { 308, 15, 15 },     { 310, 20, 20 },
    { 311, 5, 5 },           { 312, 1000, 1000 }, { 314, 2, 2 },       { 315, 3650, 4200 },
    { 316, 2500, 3000 },     { 317, 200, 200 },   { 318, 100, 100 },   { 319, 60, 60 },
    { 320, 0, 0 },           { 321, 90, 90 },     { 322, 3000, 1000 }, { 323, 50000, 50000 },
    { 330, 0x0501, 0x0501 }, { 332, 5, 5 },       { 333, 1, 1 },       { 335, 1, 1 },
    { 338, 3, 3 },           { 343, 1, 1 },
};

static void factory_settings(struct tinybms_sim *s, const struct tinybms_sim_params *p)
{
    bool nmc = p->chemistry == CFG_CHEM_NMC;
    for (unsigned i = 0; i < sizeof(factory) / sizeof(factory[0]); i++)
        SET(s, factory[i].addr) = nmc ? factory[i].nmc : factory[i].lfp;
    SET(s, 307) = (uint16_t)p->cells;
    SET(s, 306) = (uint16_t)lround(s->bat.p.capacity_ah * 100.0);
}

static void identity(struct tinybms_sim *s, uint64_t seed)
{
    SET(s, 500) = 0x0002;            /* hardware 2, changes 0 */
    SET(s, 501) = 0x0200 | 0x0A;     /* firmware 10; internal hall sensor */
    SET(s, 502) = 0x0123;            /* internal firmware */
    SET(s, 503) = 0x0301;            /* bootloader 1, profile 3 */
    for (unsigned i = 0; i < 6; i++) /* serial number from the seed */
        SET(s, 504 + i) = (uint16_t)(((seed + 1) * 0x9E3779B97F4A7C15ull) >> (i * 8));
}

static int battery_setup(struct tinybms_sim *s, unsigned cells, double capacity_ah, double soc)
{
    struct battery_params bp;
    battery_params_default(&bp, s->chemistry);
    bp.cells = cells;
    bp.sensors = TINYBMS_SENSORS;
    if (capacity_ah > 0)
        bp.capacity_ah = capacity_ah;
    bp.soc_pct = soc;
    bp.seed = s->bat.rng ? s->bat.rng : bp.seed;
    if (SET(s, 303))
        bp.balance_start_mv = SET(s, 303);
    battery_free(&s->bat);
    return battery_init(&s->bat, &bp);
}

int tinybms_sim_init(struct tinybms_sim *s, const struct tinybms_sim_params *p)
{
    memset(s, 0, sizeof(*s));
    if (p->cells < 4 || p->cells > TINYBMS_MAX_CELLS ||
        (p->chemistry != CFG_CHEM_LFP && p->chemistry != CFG_CHEM_NMC))
        return -EINVAL;
    s->chemistry = p->chemistry;
    s->bat.rng = p->seed ? p->seed : 1;
    int rc = battery_setup(s, p->cells, p->capacity_ah, p->soc_pct);
    if (rc)
        return rc;
    factory_settings(s, p);
    s->bat.p.balance_start_mv = SET(s, 303);
    identity(s, p->seed);
    s->soh_pct = 100.0;
    s->mosfet_c = s->bat.p.ambient_c;
    s->sleep_after_s = 10.0;
    s->max_read = TINYBMS_READ_MAX;
    s->reset_reason = 5; /* power on */
    s->wakeup_reason = 3;
    s->temp_min_c = s->temp_max_c = (int8_t)lround(s->bat.p.ambient_c);
    tinybms_sim_event(s, 0x61); /* system started */
    tinybms_sim_step(s, 0);
    return 0;
}

void tinybms_sim_free(struct tinybms_sim *s)
{
    battery_free(&s->bat);
}

void tinybms_sim_event(struct tinybms_sim *s, uint8_t id)
{
    unsigned n = s->event_count < BMSGW_EVENTS_MAX ? s->event_count : BMSGW_EVENTS_MAX - 1;
    memmove(&s->events[1], &s->events[0], n * sizeof(s->events[0]));
    s->events[0].timestamp_s = (uint32_t)s->t_s & 0xFFFFFF;
    s->events[0].id = id;
    s->event_count = n + 1;
}

/* ---- physics step ------------------------------------------------------------------------- */

static double load_current(struct tinybms_sim *s, double dt_s)
{
    if (s->load != SIM_LOAD_RANDOM)
        return s->set_current_a;
    /* a mean-reverting random walk around the set current, within -0.5C..+0.3C */
    double c = s->bat.p.capacity_ah;
    s->walk_a +=
        -0.02 * s->walk_a * dt_s * 10 + 0.01 * c * sqrt(dt_s) * battery_rand_normal(&s->bat.rng);
    double i = s->set_current_a + s->walk_a;
    if (i > 0.3 * c)
        i = 0.3 * c;
    if (i < -0.5 * c)
        i = -0.5 * c;
    return i;
}

struct temps {
    bool any;
    double min_c, max_c;
};

static struct temps sensor_temps(const struct tinybms_sim *s)
{
    struct temps t = { false, 0, 0 };
    for (unsigned i = 0; i < s->bat.p.sensors; i++) {
        int16_t dc = battery_sensor_dc(&s->bat, i);
        if (dc == BMSGW_TEMP_ABSENT)
            continue;
        double c = dc / 10.0;
        if (!t.any || c < t.min_c)
            t.min_c = c;
        if (!t.any || c > t.max_c)
            t.max_c = c;
        t.any = true;
    }
    return t;
}

struct cutoff_def {
    uint32_t bit;
    uint8_t event_on, event_off;
    bool fault;
    size_t counter; /* offset of a uint16_t statistic, 0 = none */
};

static const struct cutoff_def cutoff_defs[] = {
    { SIM_CUT_OVER_VOLTAGE, 0x03, 0x79, true, offsetof(struct tinybms_sim, count_ov) },
    { SIM_CUT_UNDER_VOLTAGE, 0x02, 0x7B, true, offsetof(struct tinybms_sim, count_uv) },
    { SIM_CUT_OVER_TEMP, 0x04, 0x73, true, offsetof(struct tinybms_sim, count_oh) },
    { SIM_CUT_DISCHARGE_OC, 0x05, 0x77, true, offsetof(struct tinybms_sim, count_doc) },
    { SIM_CUT_CHARGE_OC, 0x06, 0x76, true, offsetof(struct tinybms_sim, count_coc) },
    { SIM_CUT_LOW_TEMP_CHARGE, 0x37, 0x74, false, 0 },
    { SIM_CUT_FULLY_DISCHARGED, 0x31, 0x7A, false, 0 },
};

#define FAULT_CUTS                                                                                 \
    (SIM_CUT_OVER_VOLTAGE | SIM_CUT_UNDER_VOLTAGE | SIM_CUT_OVER_TEMP | SIM_CUT_DISCHARGE_OC |     \
     SIM_CUT_CHARGE_OC)

/* Should cutoff k be active given the state (with hysteresis on leaving)? */
static bool cutoff_wanted(const struct tinybms_sim *s, unsigned k, double load_a)
{
    const struct cutoff_def *d = &cutoff_defs[k];
    bool on = s->cutoffs & d->bit;
    int max_mv = battery_cell_mv(&s->bat, battery_max_cell(&s->bat));
    int min_mv = battery_cell_mv(&s->bat, battery_min_cell(&s->bat));
    struct temps t = sensor_temps(s);
    double held_s = s->t_s - s->cutoff_since_s[k];
    switch (d->bit) {
    case SIM_CUT_OVER_VOLTAGE:
        return on ? max_mv >= SET(s, 315) - 150 : max_mv >= SET(s, 315);
    case SIM_CUT_UNDER_VOLTAGE:
        return on ? min_mv <= SET(s, 316) + 150 : min_mv <= SET(s, 316);
    case SIM_CUT_FULLY_DISCHARGED:
        return on ? min_mv <= SET(s, 301) + 100 : min_mv <= SET(s, 301);
    case SIM_CUT_OVER_TEMP:
        return t.any && (on ? t.max_c > (int16_t)SET(s, 319) - 5 : t.max_c >= (int16_t)SET(s, 319));
    case SIM_CUT_LOW_TEMP_CHARGE:
        return t.any && (on ? t.min_c < (int16_t)SET(s, 320) + 3 : t.min_c <= (int16_t)SET(s, 320));
    case SIM_CUT_DISCHARGE_OC: /* recovers after the automatic recovery time */
        return on ? held_s < (SET(s, 332) & 0xFF) : load_a < -(double)SET(s, 317);
    case SIM_CUT_CHARGE_OC:
        return on ? held_s < (SET(s, 332) & 0xFF) : load_a > (double)SET(s, 318);
    }
    return false;
}

static void update_cutoffs(struct tinybms_sim *s, double load_a)
{
    for (unsigned k = 0; k < sizeof(cutoff_defs) / sizeof(cutoff_defs[0]); k++) {
        const struct cutoff_def *d = &cutoff_defs[k];
        bool on = s->cutoffs & d->bit, want = cutoff_wanted(s, k, load_a);
        if (want == on)
            continue;
        if (want) {
            s->cutoffs |= d->bit;
            s->cutoff_since_s[k] = s->t_s;
            if (d->counter)
                (*(uint16_t *)((char *)s + d->counter))++;
        } else {
            s->cutoffs &= ~d->bit;
        }
        tinybms_sim_event(s, want ? d->event_on : d->event_off);
    }
}

static double allowed_current(const struct tinybms_sim *s, double load_a)
{
    uint32_t no_charge =
        SIM_CUT_OVER_VOLTAGE | SIM_CUT_OVER_TEMP | SIM_CUT_CHARGE_OC | SIM_CUT_LOW_TEMP_CHARGE;
    uint32_t no_discharge = SIM_CUT_UNDER_VOLTAGE | SIM_CUT_OVER_TEMP | SIM_CUT_DISCHARGE_OC;
    if (load_a > 0 && (s->cutoffs & no_charge))
        return 0;
    if (load_a < 0 && (s->cutoffs & no_discharge))
        return 0;
    return load_a;
}

static void update_status(struct tinybms_sim *s)
{
    double i = s->current_a;
    uint16_t st;
    if (s->forced_fault || (s->cutoffs & FAULT_CUTS))
        st = TINYBMS_STATUS_FAULT;
    else if (i >= 0 && i * 1000.0 < SET(s, 304) && s->bat.est_soc_pct >= 99.95)
        st = TINYBMS_STATUS_FULL;
    else if (i > 0.05)
        st = TINYBMS_STATUS_CHARGING;
    else if (i < -0.05)
        st = TINYBMS_STATUS_DISCHARGING;
    else
        st = TINYBMS_STATUS_IDLE;
    if (st == TINYBMS_STATUS_CHARGING && !s->charging) {
        s->count_charging++;
        tinybms_sim_event(s, 0x62);
    }
    if (st == TINYBMS_STATUS_FULL && s->status != TINYBMS_STATUS_FULL) {
        s->count_full++;
        tinybms_sim_event(s, 0x63);
    }
    s->charging = st == TINYBMS_STATUS_CHARGING;
    s->status = st;
}

static void update_stats(struct tinybms_sim *s)
{
    double i = s->current_a;
    if (i < 0 && -i > s->max_discharge_a)
        s->max_discharge_a = -i;
    if (i > 0 && i > s->max_charge_a)
        s->max_charge_a = i;
    double diff = battery_cell_mv(&s->bat, battery_max_cell(&s->bat)) -
                  battery_cell_mv(&s->bat, battery_min_cell(&s->bat));
    if (diff > s->max_diff_mv)
        s->max_diff_mv = diff;
    struct temps t = sensor_temps(s);
    if (t.any && t.min_c < s->temp_min_c)
        s->temp_min_c = (int8_t)lround(fmax(t.min_c, -128));
    if (t.any && t.max_c > s->temp_max_c)
        s->temp_max_c = (int8_t)lround(fmin(t.max_c, 127));
}

static void put_u32(uint16_t *r, uint32_t v)
{
    r[0] = (uint16_t)(v & 0xFFFF); /* CDAB */
    r[1] = (uint16_t)(v >> 16);
}

static void put_float(uint16_t *r, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    put_u32(r, bits);
}

static uint16_t cell_tenth_mv(const struct battery *b, unsigned i)
{
    if (b->cells[i].forced_mv > 0)
        return (uint16_t)fmin(b->cells[i].forced_mv * 10.0, 65535);
    return (uint16_t)fmax(0, fmin(lround(b->cells[i].v * 10000.0), 65535));
}

static void refresh_live(struct tinybms_sim *s)
{
    uint16_t *r = s->regs;
    unsigned n = s->bat.p.cells, first = TINYBMS_MAX_CELLS - n;
    uint16_t need = 0, active = 0;
    unsigned lo = battery_min_cell(&s->bat);
    memset(r, 0, TINYBMS_LIVE_COUNT * sizeof(uint16_t));
    for (unsigned i = 0; i < n; i++) {
        r[first + i] = cell_tenth_mv(&s->bat, i);
        int mv = battery_cell_mv(&s->bat, i);
        if (mv >= SET(s, 303) && mv > battery_cell_mv(&s->bat, lo) + (SET(s, 308) & 0xFF))
            need |= (uint16_t)(1u << i);
        if (s->bat.cells[i].balancing)
            active |= (uint16_t)(1u << i);
    }
    put_u32(r + 32, (uint32_t)s->t_s);
    double rest_ah = s->bat.est_soc_pct / 100.0 * s->bat.p.capacity_ah;
    put_u32(r + 34, s->current_a < -0.05 ? (uint32_t)(rest_ah / -s->current_a * 3600.0) : 0);
    put_float(r + 36, (float)s->bat.pack_v);
    put_float(r + 38, (float)s->current_a);
    r[40] = battery_cell_mv(&s->bat, lo);
    r[41] = battery_cell_mv(&s->bat, battery_max_cell(&s->bat));
    r[42] = (uint16_t)battery_sensor_dc(&s->bat, 0);
    r[43] = (uint16_t)battery_sensor_dc(&s->bat, 1);
    r[45] = (uint16_t)lround(s->soh_pct / 0.002);
    put_u32(r + 46, (uint32_t)llround(s->bat.est_soc_pct * 1e6));
    r[48] = (uint16_t)(int16_t)lround(s->mosfet_c * 10.0);
    r[50] = s->status;
    r[51] = need;
    r[52] = active;
    r[53] = (uint16_t)n;
    put_float(r + 54, 0.0f);
}

static void refresh_stats_events(struct tinybms_sim *s)
{
    uint16_t *r = s->regs;
    memset(r + 100, 0, 18 * sizeof(uint16_t));
    r[102] = (uint16_t)fmin(lround(s->max_discharge_a * 10), 65535);
    r[103] = (uint16_t)fmin(lround(s->max_charge_a * 10), 65535);
    r[104] = (uint16_t)fmin(lround(s->max_diff_mv * 10), 65535);
    r[105] = s->count_uv;
    r[106] = s->count_ov;
    r[107] = s->count_doc;
    r[108] = s->count_coc;
    r[109] = s->count_oh;
    r[111] = s->count_charging;
    r[112] = s->count_full;
    r[113] = (uint16_t)((uint8_t)s->temp_max_c << 8 | (uint8_t)s->temp_min_c);
    r[114] = (uint16_t)(s->wakeup_reason << 8 | s->reset_reason);
    put_u32(r + 116, s->stats_cleared_s);
    memset(r + 200, 0, TINYBMS_EVENTS_REGS * sizeof(uint16_t));
    for (unsigned k = 0; k < s->event_count; k++) {
        r[200 + 2 * k] = (uint16_t)(s->events[k].timestamp_s & 0xFFFF);
        r[201 + 2 * k] = (uint16_t)(s->events[k].id << 8 | (s->events[k].timestamp_s >> 16 & 0xFF));
    }
}

void tinybms_sim_step(struct tinybms_sim *s, double dt_s)
{
    double load = load_current(s, dt_s);
    update_cutoffs(s, load);
    s->current_a = allowed_current(s, load);
    battery_step(&s->bat, s->current_a, dt_s);
    /* the MOSFETs warm with the current and relax to ambient (time constant 60 s) */
    double target = s->bat.p.ambient_c + 0.04 * fabs(s->current_a);
    s->mosfet_c += (target - s->mosfet_c) * fmin(1.0, dt_s / 60.0);
    s->t_s += dt_s;
    update_cutoffs(s, load);
    update_status(s);
    update_stats(s);
    if (s->sleep_enabled && !s->asleep && fabs(s->current_a) < 0.5 &&
        s->t_s - s->last_rx_s >= s->sleep_after_s)
        s->asleep = true;
    refresh_live(s);
    refresh_stats_events(s);
}

/* ---- settings writes ---------------------------------------------------------------------- */

static void apply_setting(struct tinybms_sim *s, uint16_t addr)
{
    switch (addr) {
    case 303:
        s->bat.p.balance_start_mv = SET(s, 303);
        break;
    case 306:
    case 307:
        if (SET(s, 307) >= 4 && SET(s, 307) <= TINYBMS_MAX_CELLS &&
            battery_setup(s, SET(s, 307), SET(s, 306) / 100.0, s->bat.est_soc_pct) == 0)
            battery_step(&s->bat, s->current_a, 0);
        break;
    case 323:
        s->soh_pct = SET(s, 323) * 0.002;
        break;
    case 328:
        battery_set_soc(&s->bat, SET(s, 328) * 0.002);
        break;
    default:
        break;
    }
}

int tinybms_sim_write(struct tinybms_sim *s, uint16_t addr, const uint16_t *vals, unsigned n)
{
    if (addr < TINYBMS_WRITE_FIRST || addr + n - 1 > TINYBMS_WRITE_LAST)
        return -EFAULT;
    for (unsigned i = 0; i < n; i++) {
        unsigned a = addr + i;
        s->stats.writes++;
        if (s->io.ignore_writes || a >= BMSGW_SETTINGS_FIRST + BMSGW_SETTINGS_COUNT)
            continue;
        /* like the BMS, a value outside the setting's range is not taken */
        if (tinybms_setting_check(&s->regs[BMSGW_SETTINGS_FIRST], a, vals[i], NULL, 0) != 0)
            continue;
        s->regs[a] = vals[i];
        apply_setting(s, (uint16_t)a);
    }
    refresh_live(s);
    return 0;
}

/* ---- protocol ----------------------------------------------------------------------------- */

static size_t control_command(struct tinybms_sim *s, uint8_t option, uint8_t *out, size_t size)
{
    switch (option) {
    case TINYBMS_CLEAR_EVENTS:
        s->event_count = 0;
        break;
    case TINYBMS_CLEAR_STATS:
        s->max_discharge_a = s->max_charge_a = s->max_diff_mv = 0;
        s->count_uv = s->count_ov = s->count_doc = s->count_coc = s->count_oh = 0;
        s->count_charging = s->count_full = 0;
        s->stats_cleared_s = (uint32_t)s->t_s;
        break;
    case TINYBMS_RESET:
        s->reset_reason = 4; /* software */
        s->boot_until_s = s->t_s + 1.0;
        tinybms_sim_event(s, 0x61);
        break;
    default:
        s->stats.rejected++;
        return tinybms_error_reply(TINYBMS_CMD_CONTROL, TINYBMS_ERR_COMMAND, out, size);
    }
    refresh_stats_events(s);
    return tinybms_ack_reply(TINYBMS_CMD_CONTROL, out, size);
}

static size_t reject(struct tinybms_sim *s, uint8_t cmd, uint8_t err, uint8_t *out, size_t size)
{
    s->stats.rejected++;
    return tinybms_error_reply(cmd, err, out, size);
}

size_t tinybms_sim_handle(struct tinybms_sim *s, const uint8_t *frame, size_t len, uint8_t *out,
                          size_t size)
{
    struct tinybms_req req;
    uint16_t vals[TINYBMS_WRITE_MAX];
    s->stats.requests++;
    if (s->t_s < s->boot_until_s)
        return 0;
    s->last_rx_s = s->t_s;
    if (s->asleep) { /* the first command after sleep only wakes the BMS */
        s->asleep = false;
        s->stats.swallowed++;
        return 0;
    }
    int rc = tinybms_request_decode(frame, len, &req, vals);
    if (rc == -EILSEQ) {
        s->stats.rx_crc_errors++;
        return reject(s, frame[1], TINYBMS_ERR_CRC, out, size);
    }
    if (rc)
        return reject(s, len > 1 ? frame[1] : 0, TINYBMS_ERR_COMMAND, out, size);
    switch (req.fc) {
    case TINYBMS_FC_READ:
        if (req.count < 1 || req.count > s->max_read || req.addr + req.count > TINYBMS_SIM_REGS)
            return reject(s, req.fc, TINYBMS_ERR_COMMAND, out, size);
        return tinybms_read_reply(s->regs + req.addr, req.count, out, size);
    case TINYBMS_FC_WRITE:
        if (req.count < 1 || req.count > TINYBMS_WRITE_MAX ||
            tinybms_sim_write(s, req.addr, req.values, req.count) != 0)
            return reject(s, req.fc, TINYBMS_ERR_COMMAND, out, size);
        return tinybms_write_reply(req.addr, req.count, out, size);
    case TINYBMS_CMD_CONTROL:
        return control_command(s, req.option, out, size);
    default: /* the proprietary reads are not simulated */
        return reject(s, req.fc, TINYBMS_ERR_COMMAND, out, size);
    }
}
