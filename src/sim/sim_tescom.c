/* SPDX-License-Identifier: MIT */
/* sim_tescom.c — the simulated Tescom BMS: arms of batteries, humidity and ambient, alarms. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/alarms.h"
#include "bmsgw/config.h"
#include "bmsgw/sim_devices.h"

static int init_arm(struct sim_tescom_arm *a, unsigned count, int chemistry, uint64_t *rng,
                    uint64_t seed)
{
    struct battery_params bp;
    a->count = count;
    a->humidity_pct = 45 + 5 * battery_rand_normal(rng);
    a->ambient_c = 24 + 1.5 * battery_rand_normal(rng);
    for (unsigned j = 0; j < count; j++) {
        a->soh_pct[j] = fmin(100, 95 + 2 * battery_rand_normal(rng));
        for (unsigned n = 0; n < 3; n++)
            a->ntc_off_c[j][n] = 0.4 * battery_rand_normal(rng);
    }
    if (count == 0)
        return 0;
    battery_params_default(&bp, chemistry);
    bp.cells = count;
    bp.sensors = count;
    bp.soc_pct = 50 + 15 * battery_rand_uniform(rng);
    bp.soc_spread_pct = 3; /* separate batteries drift further apart than cells of a pack */
    bp.ambient_c = a->ambient_c;
    bp.seed = seed;
    return battery_init(&a->bat, &bp);
}

int sim_tescom_init(struct sim_tescom *t, const unsigned *counts, int chemistry, uint64_t seed)
{
    struct cfg_alarms cfg;
    struct alarm_thresholds th;
    struct bmsgw_config *defaults = calloc(1, sizeof(*defaults));
    memset(t, 0, sizeof(*t));
    if (!defaults)
        return -ENOMEM;
    config_defaults(defaults);
    cfg = defaults->alarms;
    free(defaults);
    alarm_thresholds_resolve(&cfg, NULL, &th);
    mbmap_tescom_limits_from(&t->limits, &th);
    t->limits.pole_sensors = t->limits.env_sensors = true;
    t->rng = seed ? seed : 1;
    for (unsigned k = 0; k < MBMAP_TESCOM_ARMS; k++) {
        int rc = counts[k] > MBMAP_TESCOM_BATTERIES
                     ? -EINVAL
                     : init_arm(&t->arm[k], counts[k], chemistry, &t->rng, seed * 10 + k + 1);
        if (rc) {
            sim_tescom_free(t);
            return rc;
        }
    }
    return 0;
}

void sim_tescom_free(struct sim_tescom *t)
{
    for (unsigned k = 0; k < MBMAP_TESCOM_ARMS; k++)
        battery_free(&t->arm[k].bat);
}

void sim_tescom_step(struct sim_tescom *t, double dt_s)
{
    for (unsigned k = 0; k < MBMAP_TESCOM_ARMS; k++) {
        struct sim_tescom_arm *a = &t->arm[k];
        a->humidity_pct =
            fmin(95, fmax(5, a->humidity_pct + 0.2 * sqrt(dt_s) * battery_rand_normal(&t->rng)));
        a->ambient_c += 0.02 * sqrt(dt_s) * battery_rand_normal(&t->rng);
        if (a->count == 0)
            continue;
        a->walk_a = sim_walk(a->walk_a, 40, 2, dt_s, &t->rng);
        a->bat.p.ambient_c = a->ambient_c;
        battery_step(&a->bat, sim_bms_allowed_current(&a->bat, a->walk_a), dt_s);
    }
}

static void fill_arm(const struct sim_tescom_arm *a, struct mbmap_tescom_arm *out)
{
    double max_c = a->ambient_c;
    out->count = (uint16_t)a->count;
    out->ok = a->count > 0; /* an arm without batteries has no data: status 0 */
    out->humidity_pct = a->humidity_pct;
    out->ambient_temp_c = a->ambient_c;
    if (a->count == 0)
        return;
    out->current_a = a->bat.current_a;
    for (unsigned j = 0; j < a->count; j++) {
        const struct battery_cell *c = &a->bat.cells[j];
        struct mbmap_tescom_battery *b = &out->bat[j];
        double temp_c = battery_sensor_dc(&a->bat, j) / 10.0;
        b->present = true;
        b->value[MBMAP_TESCOM_VOLTAGE] = battery_cell_mv(&a->bat, j) / 1000.0;
        b->value[MBMAP_TESCOM_SOC] = fmin(100, fmax(0, c->soc * 100));
        b->value[MBMAP_TESCOM_RIMT] = temp_c;
        b->value[MBMAP_TESCOM_SOH] = a->soh_pct[j];
        for (unsigned n = 0; n < 3; n++) /* poles run a little warmer than the module */
            b->value[MBMAP_TESCOM_NTC1 + n] = temp_c + 0.5 - 0.2 * n + a->ntc_off_c[j][n];
        if (temp_c > max_c)
            max_c = temp_c;
    }
    out->module_temp_c = max_c;
}

void sim_tescom_source(const struct sim_tescom *t, struct mbmap_tescom_src *out)
{
    for (unsigned k = 0; k < MBMAP_TESCOM_ARMS; k++) {
        fill_arm(&t->arm[k], &out->arm[k]);
        mbmap_tescom_eval_arm(&out->arm[k], &t->limits);
    }
}
