/* SPDX-License-Identifier: MIT */
/* sim_pack12s.c — the simulated 12S pack of seed 004: protections, commands, 3 s register sync. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/sim_devices.h"

/* The seed's thresholds. */
#define CELL_OV_MV       4200
#define CELL_UV_MV       3000
#define CELL_LOCK_MV     4350
#define OVER_TEMP_C      55.0
#define UNDER_TEMP_C     0.0
#define OVER_CURRENT_A   30.0
#define IMBALANCE_MV     100
#define WALK_LIMIT_A     30.0
#define RELEASE_S        2.0
#define BALANCE_START_MV 4100
#define PROTECTION_ALARMS                                                                          \
    (MBMAP_PACK12S_AL_CELL_OV | MBMAP_PACK12S_AL_CELL_UV | MBMAP_PACK12S_AL_OVER_TEMP |            \
     MBMAP_PACK12S_AL_SEVERE_OV)

int sim_pack12s_init(struct sim_pack12s *s, int chemistry, double soc_pct, double sync_s,
                     uint64_t seed)
{
    struct battery_params bp;
    memset(s, 0, sizeof(*s));
    battery_params_default(&bp, chemistry);
    bp.cells = 12;
    bp.sensors = 4;
    bp.soc_pct = soc_pct;
    bp.seed = seed;
    bp.balance_start_mv = 0; /* balancing only in balance mode (cmd04) */
    int rc = battery_init(&s->bat, &bp);
    if (rc)
        return rc;
    s->nominal_ah = bp.capacity_ah;
    s->soh_pct = 98.7;
    s->sync_s = sync_s > 0 ? sync_s : 3;
    s->rng = seed ? seed : 1;
    sim_pack12s_step(s, 0); /* first registers */
    return 0;
}

void sim_pack12s_free(struct sim_pack12s *s)
{
    battery_free(&s->bat);
}

static double sensor_c(const struct sim_pack12s *s, unsigned i)
{
    return battery_sensor_dc(&s->bat, i) / 10.0;
}

static uint16_t eval_alarms(struct sim_pack12s *s)
{
    const struct battery *b = &s->bat;
    unsigned hi = battery_max_cell(b), lo = battery_min_cell(b);
    uint16_t max_mv = battery_cell_mv(b, hi), min_mv = battery_cell_mv(b, lo), a = 0;
    double t_max = -1e9, t_min = 1e9;
    for (unsigned i = 0; i < b->p.sensors; i++) {
        t_max = fmax(t_max, sensor_c(s, i));
        t_min = fmin(t_min, sensor_c(s, i));
    }
    if (max_mv > CELL_OV_MV)
        a |= MBMAP_PACK12S_AL_CELL_OV;
    if (min_mv < CELL_UV_MV)
        a |= MBMAP_PACK12S_AL_CELL_UV;
    if (t_max > OVER_TEMP_C)
        a |= MBMAP_PACK12S_AL_OVER_TEMP;
    if (t_min < UNDER_TEMP_C)
        a |= MBMAP_PACK12S_AL_UNDER_TEMP;
    if (s->current_a > OVER_CURRENT_A)
        a |= MBMAP_PACK12S_AL_CHARGE_OC;
    if (s->current_a < -OVER_CURRENT_A)
        a |= MBMAP_PACK12S_AL_DISCHARGE_OC;
    if (max_mv - min_mv > IMBALANCE_MV)
        a |= MBMAP_PACK12S_AL_IMBALANCE;
    if (max_mv > CELL_LOCK_MV)
        s->locked = true; /* latched until restart */
    if (s->locked)
        a |= MBMAP_PACK12S_AL_SEVERE_OV;
    return a;
}

/* The current the pack lets through: nothing when off or locked; protections stop the
 * direction that makes things worse unless cmd06 released them for a moment. */
static double allowed_current(const struct sim_pack12s *s, double want_a)
{
    bool released = s->t_s < s->release_until_s;
    if (s->power_off || s->locked)
        return 0;
    if (released)
        return want_a;
    if (s->alarms & MBMAP_PACK12S_AL_OVER_TEMP)
        return 0;
    if ((s->alarms & MBMAP_PACK12S_AL_CELL_OV) && want_a > 0)
        return 0;
    if ((s->alarms & MBMAP_PACK12S_AL_CELL_UV) && want_a < 0)
        return 0;
    return want_a;
}

static uint16_t eval_status(const struct sim_pack12s *s)
{
    uint16_t st = 0;
    if (s->current_a >= MBMAP_IDLE_CURRENT_A)
        st |= MBMAP_PACK12S_ST_CHARGING;
    else if (s->current_a <= -MBMAP_IDLE_CURRENT_A)
        st |= MBMAP_PACK12S_ST_DISCHARGING;
    else
        st |= MBMAP_PACK12S_ST_IDLE;
    if (s->balance_mode)
        st |= MBMAP_PACK12S_ST_BALANCING;
    if (s->t_s < s->release_until_s)
        st |= MBMAP_PACK12S_ST_PRECHARGE;
    if (s->power_off)
        st |= MBMAP_PACK12S_ST_POWER_OFF;
    if ((s->alarms & PROTECTION_ALARMS) && s->t_s >= s->release_until_s)
        st |= MBMAP_PACK12S_ST_PROTECTION;
    if (s->locked)
        st |= MBMAP_PACK12S_ST_LOCKED;
    return st;
}

/* Copy the physics into the registers (what a client sees until the next sync). */
static void sync_registers(struct sim_pack12s *s)
{
    const struct battery *b = &s->bat;
    struct mbmap_pack12s_src *r = &s->regs;
    unsigned hi = battery_max_cell(b), lo = battery_min_cell(b), t_hi = 0, t_lo = 0;
    for (unsigned i = 1; i < b->p.sensors; i++) {
        if (sensor_c(s, i) > sensor_c(s, t_hi))
            t_hi = i;
        if (sensor_c(s, i) < sensor_c(s, t_lo))
            t_lo = i;
    }
    memset(r, 0, sizeof(*r));
    r->nominal_ah = s->nominal_ah;
    r->stored_ah = s->nominal_ah * b->est_soc_pct / 100.0;
    r->current_a = s->current_a;
    r->pack_v = b->pack_v;
    r->max_cell_mv = battery_cell_mv(b, hi);
    r->min_cell_mv = battery_cell_mv(b, lo);
    r->max_cell_no = (uint16_t)(hi + 1);
    r->min_cell_no = (uint16_t)(lo + 1);
    r->has_temp = b->p.sensors > 0;
    r->max_temp_c = sensor_c(s, t_hi);
    r->min_temp_c = sensor_c(s, t_lo);
    r->max_temp_id = (uint8_t)(t_hi + 1);
    r->min_temp_id = (uint8_t)(t_lo + 1);
    r->soh_pct = s->soh_pct;
    r->status_bits = s->status;
    r->alarm_bits = s->alarms;
    s->next_sync_s = s->t_s + s->sync_s;
}

void sim_pack12s_step(struct sim_pack12s *s, double dt_s)
{
    s->walk_a = sim_walk(s->walk_a, WALK_LIMIT_A, 3, dt_s, &s->rng);
    s->current_a = allowed_current(s, s->walk_a);
    s->bat.p.balance_start_mv = s->balance_mode ? BALANCE_START_MV : 0;
    battery_step(&s->bat, s->current_a, dt_s);
    s->t_s += dt_s;
    s->alarms = eval_alarms(s);
    s->status = eval_status(s);
    if (s->t_s >= s->next_sync_s)
        sync_registers(s);
}

void sim_pack12s_source(const struct sim_pack12s *s, struct mbmap_pack12s_src *out)
{
    *out = s->regs;
    memcpy(out->cmd, s->cmd, sizeof(out->cmd)); /* written commands read back at once */
}

int sim_pack12s_write(struct sim_pack12s *s, const struct mbmap_write *w, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        int c = mbmap_pack12s_cmd_of(&w[k]);
        if (c < 0)
            return MBMAP_EX_ILLEGAL_ADDRESS;
        uint16_t v = (uint16_t)w[k].value;
        s->cmd[c] = v;
        if (c == MBMAP_PACK12S_CMD03 && v)
            s->power_off = true;
        else if (c == MBMAP_PACK12S_CMD02 && v)
            s->power_off = false;
        else if (c == MBMAP_PACK12S_CMD06 && v)
            s->release_until_s = s->t_s + RELEASE_S;
        else if (c == MBMAP_PACK12S_CMD04)
            s->balance_mode = v == 1;
    }
    /* a command acts at once: the pack re-decides and the registers show it */
    s->current_a = allowed_current(s, s->walk_a);
    s->status = eval_status(s);
    sync_registers(s);
    return MBMAP_EX_NONE;
}
