/* SPDX-License-Identifier: MIT */
/* battery.c — cell physics: OCV curves, resistance, coulomb counting, heat, balancing. */
#include "bmsgw/battery.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/config.h"
#include "bmsgw/model.h"

struct ocv_point {
    double soc;
    double v;
};

/* Rest voltage of one cell against SOC; the ends continue steeply so abuse shows. */
static const struct ocv_point ocv_lfp[] = {
    { -0.05, 2.000 }, { 0.00, 2.500 }, { 0.02, 2.900 }, { 0.05, 3.100 }, { 0.10, 3.200 },
    { 0.20, 3.250 },  { 0.30, 3.275 }, { 0.40, 3.290 }, { 0.50, 3.300 }, { 0.60, 3.310 },
    { 0.70, 3.325 },  { 0.80, 3.335 }, { 0.90, 3.345 }, { 0.95, 3.360 }, { 0.98, 3.400 },
    { 1.00, 3.450 },  { 1.02, 3.650 }, { 1.05, 4.000 },
};
static const struct ocv_point ocv_nmc[] = {
    { -0.05, 2.700 }, { 0.00, 3.000 }, { 0.05, 3.300 }, { 0.10, 3.450 }, { 0.20, 3.550 },
    { 0.30, 3.620 },  { 0.40, 3.680 }, { 0.50, 3.740 }, { 0.60, 3.820 }, { 0.70, 3.900 },
    { 0.80, 3.980 },  { 0.90, 4.080 }, { 1.00, 4.180 }, { 1.02, 4.300 }, { 1.05, 4.500 },
};
static const struct ocv_point ocv_lto[] = {
    { -0.05, 1.500 }, { 0.00, 1.800 }, { 0.05, 2.050 }, { 0.10, 2.150 },
    { 0.20, 2.200 },  { 0.50, 2.300 }, { 0.80, 2.400 }, { 0.90, 2.480 },
    { 1.00, 2.700 },  { 1.02, 2.850 }, { 1.05, 3.000 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

double battery_ocv_v(int chemistry, double soc)
{
    const struct ocv_point *t = ocv_lfp;
    unsigned n = N(ocv_lfp);
    if (chemistry == CFG_CHEM_NMC) {
        t = ocv_nmc;
        n = N(ocv_nmc);
    } else if (chemistry == CFG_CHEM_LTO) {
        t = ocv_lto;
        n = N(ocv_lto);
    }
    if (soc <= t[0].soc)
        return t[0].v;
    for (unsigned i = 1; i < n; i++) {
        if (soc <= t[i].soc) {
            double f = (soc - t[i - 1].soc) / (t[i].soc - t[i - 1].soc);
            return t[i - 1].v + f * (t[i].v - t[i - 1].v);
        }
    }
    return t[n - 1].v;
}

double battery_rand_uniform(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

double battery_rand_normal(uint64_t *s)
{
    double u1 = battery_rand_uniform(s), u2 = battery_rand_uniform(s);
    if (u1 < 1e-12)
        u1 = 1e-12;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void battery_params_default(struct battery_params *p, int chemistry)
{
    memset(p, 0, sizeof(*p));
    p->chemistry = chemistry;
    p->capacity_spread = 0.02;
    p->r_spread = 0.08;
    p->soc_pct = 60;
    p->soc_spread_pct = 0.8;
    p->ambient_c = 22;
    p->thermal_c_per_w = 2.5;
    p->balance_current_a = 0.15;
    p->seed = 1;
    switch (chemistry) {
    case CFG_CHEM_NMC:
        p->cells = 12;
        p->sensors = 4;
        p->capacity_ah = 50;
        p->r_cell_mohm = 1.2;
        p->thermal_j_per_c = 900;
        p->balance_start_mv = 4100;
        break;
    case CFG_CHEM_LTO:
        p->cells = 10;
        p->sensors = 2;
        p->capacity_ah = 40;
        p->r_cell_mohm = 0.8;
        p->thermal_j_per_c = 1000;
        p->balance_start_mv = 2600;
        break;
    default:
        p->cells = 16;
        p->sensors = 2;
        p->capacity_ah = 100;
        p->r_cell_mohm = 0.5;
        p->thermal_j_per_c = 2000;
        p->balance_start_mv = 3400;
        break;
    }
}

int battery_init(struct battery *b, const struct battery_params *p)
{
    memset(b, 0, sizeof(*b));
    if (p->cells == 0 || p->capacity_ah <= 0)
        return -EINVAL;
    b->cells = calloc(p->cells, sizeof(*b->cells));
    b->sensors = calloc(p->sensors ? p->sensors : 1, sizeof(*b->sensors));
    if (!b->cells || !b->sensors) {
        battery_free(b);
        return -ENOMEM;
    }
    b->p = *p;
    b->rng = p->seed ? p->seed : 1;
    for (unsigned i = 0; i < p->cells; i++) {
        struct battery_cell *c = &b->cells[i];
        c->capacity_ah = p->capacity_ah * (1.0 + p->capacity_spread * battery_rand_normal(&b->rng));
        c->r_ohm = p->r_cell_mohm / 1000.0 * (1.0 + p->r_spread * battery_rand_normal(&b->rng));
        if (c->r_ohm < 0.00005)
            c->r_ohm = 0.00005;
        c->soc = (p->soc_pct + p->soc_spread_pct * battery_rand_normal(&b->rng)) / 100.0;
        c->temp_c = p->ambient_c;
    }
    for (unsigned i = 0; i < p->sensors; i++)
        b->sensors[i].offset_c = 0.3 * battery_rand_normal(&b->rng);
    b->est_soc_pct = p->soc_pct;
    battery_step(b, 0, 0);
    return 0;
}

void battery_free(struct battery *b)
{
    free(b->cells);
    free(b->sensors);
    b->cells = NULL;
    b->sensors = NULL;
}

static double cell_bleed_a(const struct battery *b, const struct battery_cell *c)
{
    return c->balancing ? b->p.balance_current_a : 0.0;
}

static void step_cells(struct battery *b, double current_a, double dt_s)
{
    for (unsigned i = 0; i < b->p.cells; i++) {
        struct battery_cell *c = &b->cells[i];
        double i_cell = current_a - cell_bleed_a(b, c);
        c->soc += i_cell * dt_s / 3600.0 / c->capacity_ah;
        if (c->soc < -0.05)
            c->soc = -0.05;
        if (c->soc > 1.05)
            c->soc = 1.05;
        /* resistance grows in the cold: x2 at 0 degC relative to 25 degC */
        double r = c->r_ohm * (1.0 + fmax(0.0, 25.0 - c->temp_c) / 25.0);
        c->v = battery_ocv_v(b->p.chemistry, c->soc) + current_a * r;
        double heat_w = current_a * current_a * r; /* bleed heat stays in the BMS */
        double loss_w = (c->temp_c - b->p.ambient_c) / b->p.thermal_c_per_w;
        if (b->p.thermal_j_per_c > 0)
            c->temp_c += (heat_w - loss_w) * dt_s / b->p.thermal_j_per_c;
    }
}

static void step_balancing(struct battery *b)
{
    unsigned lo = battery_min_cell(b);
    int min_mv = battery_cell_mv(b, lo);
    for (unsigned i = 0; i < b->p.cells; i++) {
        int mv = battery_cell_mv(b, i);
        b->cells[i].balancing =
            b->p.balance_start_mv > 0 && mv >= b->p.balance_start_mv && mv > min_mv + 10;
    }
}

static void step_sensors(struct battery *b)
{
    unsigned n = b->p.sensors;
    for (unsigned s = 0; s < n; s++) {
        unsigned first = s * b->p.cells / n, last = (s + 1) * b->p.cells / n;
        double sum = 0;
        unsigned cnt = 0;
        for (unsigned i = first; i < last; i++, cnt++)
            sum += b->cells[i].temp_c;
        b->sensors[s].temp_c = (cnt ? sum / cnt : b->p.ambient_c) + b->sensors[s].offset_c;
    }
}

static void step_estimate(struct battery *b, double current_a, double dt_s)
{
    double total_ah = 0;
    for (unsigned i = 0; i < b->p.cells; i++)
        total_ah += b->cells[i].capacity_ah;
    total_ah /= b->p.cells;
    b->est_soc_pct += current_a * dt_s / 3600.0 / total_ah * 100.0;
    /* a BMS corrects its estimate at the ends of the curve */
    double full_v = battery_ocv_v(b->p.chemistry, 1.0) - 0.001;
    double empty_v = battery_ocv_v(b->p.chemistry, 0.0) + 0.001;
    if (b->cells[battery_max_cell(b)].v >= full_v && current_a >= 0)
        b->est_soc_pct = 100;
    if (b->cells[battery_min_cell(b)].v <= empty_v && current_a <= 0)
        b->est_soc_pct = 0;
    if (b->est_soc_pct > 100)
        b->est_soc_pct = 100;
    if (b->est_soc_pct < 0)
        b->est_soc_pct = 0;
}

void battery_step(struct battery *b, double current_a, double dt_s)
{
    b->current_a = current_a;
    step_cells(b, current_a, dt_s);
    b->pack_v = 0;
    for (unsigned i = 0; i < b->p.cells; i++)
        b->pack_v += battery_cell_mv(b, i) / 1000.0;
    step_balancing(b);
    step_sensors(b);
    step_estimate(b, current_a, dt_s);
    double ah = fabs(current_a) * dt_s / 3600.0;
    if (current_a > 0) {
        b->charged_ah += ah;
        b->charged_wh += ah * b->pack_v;
    } else {
        b->discharged_ah += ah;
        b->discharged_wh += ah * b->pack_v;
    }
}

void battery_set_soc(struct battery *b, double pct)
{
    double mean = battery_mean_soc_pct(b);
    for (unsigned i = 0; i < b->p.cells; i++)
        b->cells[i].soc += (pct - mean) / 100.0;
    b->est_soc_pct = pct;
    battery_step(b, b->current_a, 0);
}

uint16_t battery_cell_mv(const struct battery *b, unsigned i)
{
    const struct battery_cell *c = &b->cells[i];
    if (c->forced_mv > 0)
        return (uint16_t)c->forced_mv;
    double mv = c->v * 1000.0;
    if (mv < 0)
        mv = 0;
    if (mv > 65535)
        mv = 65535;
    return (uint16_t)lround(mv);
}

int16_t battery_sensor_dc(const struct battery *b, unsigned i)
{
    const struct battery_sensor *s = &b->sensors[i];
    if (s->absent)
        return BMSGW_TEMP_ABSENT;
    double c = s->forced ? s->forced_c : s->temp_c;
    return (int16_t)lround(c * 10.0);
}

unsigned battery_min_cell(const struct battery *b)
{
    unsigned best = 0;
    for (unsigned i = 1; i < b->p.cells; i++)
        if (battery_cell_mv(b, i) < battery_cell_mv(b, best))
            best = i;
    return best;
}

unsigned battery_max_cell(const struct battery *b)
{
    unsigned best = 0;
    for (unsigned i = 1; i < b->p.cells; i++)
        if (battery_cell_mv(b, i) > battery_cell_mv(b, best))
            best = i;
    return best;
}

double battery_mean_soc_pct(const struct battery *b)
{
    double sum = 0;
    for (unsigned i = 0; i < b->p.cells; i++)
        sum += b->cells[i].soc;
    return sum / b->p.cells * 100.0;
}
