/* SPDX-License-Identifier: MIT */
/* config_presets.c — chemistry presets of the charge-limit keys (lfp, nmc, lto). */
#include "bmsgw/config_schema.h"

/*
 * LFP values are the ones of spec/victron-can.md. NMC and LTO keep the same shape relative to
 * their charge voltage C and discharge floor D: CCL factor 1 / 0.25 / 0.05 / 0.005 / 0 at
 * C-75 / C-50 / C-25 / C / C+50 mV, DCL factor 0 / 0.005 / 0.05 / 0.25 / 1 at
 * D-100 / D / D+100 / D+200 / D+290 mV.
 */
struct preset {
    int cell_charge_mv, cell_float_mv, cell_min_mv, cell_discharge_min_mv;
    int cell_high_mv, cell_low_mv; /* the alarms' cut-offs (the TinyBMS's defaults) */
    struct cfg_table ccl_cell, ccl_temp, dcl_cell, dcl_temp;
};

#define T5(a, b, c, d, e, fa, fb, fc, fd, fe)                                                      \
    {                                                                                              \
        .n_x = 5, .x = { a, b, c, d, e }, .n_f = 5, .f = { fa, fb, fc, fd, fe }                    \
    }
#define T8(a, b, c, d, e, f_, g, h, fa, fb, fc, fd, fe, ff, fg, fh)                                \
    {                                                                                              \
        .n_x = 8, .x = { a, b, c, d, e, f_, g, h }, .n_f = 8, .f = {                               \
            fa,                                                                                    \
            fb,                                                                                    \
            fc,                                                                                    \
            fd,                                                                                    \
            fe,                                                                                    \
            ff,                                                                                    \
            fg,                                                                                    \
            fh                                                                                     \
        }                                                                                          \
    }

static const struct preset presets[CFG_CHEM_COUNT] = {
    [CFG_CHEM_LFP] = {
        .cell_charge_mv = 3450, .cell_float_mv = 3375, .cell_min_mv = 3000,
        .cell_discharge_min_mv = 2900, .cell_high_mv = 3650, .cell_low_mv = 2500,
        .ccl_cell = T5(3375, 3400, 3425, 3450, 3500, 1.0, 0.25, 0.05, 0.005, 0.0),
        .ccl_temp = T8(0, 2, 5, 10, 40, 45, 50, 55, 0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0),
        .dcl_cell = T5(2800, 2900, 3000, 3100, 3190, 0.0, 0.005, 0.05, 0.25, 1.0),
        .dcl_temp = T8(-10, 0, 5, 10, 40, 45, 50, 55, 0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0),
    },
    [CFG_CHEM_NMC] = {
        .cell_charge_mv = 4100, .cell_float_mv = 4000, .cell_min_mv = 3600,
        .cell_discharge_min_mv = 3200, .cell_high_mv = 4200, .cell_low_mv = 3000,
        .ccl_cell = T5(4025, 4050, 4075, 4100, 4150, 1.0, 0.25, 0.05, 0.005, 0.0),
        .ccl_temp = T8(0, 2, 5, 10, 40, 45, 50, 55, 0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0),
        .dcl_cell = T5(3100, 3200, 3300, 3400, 3490, 0.0, 0.005, 0.05, 0.25, 1.0),
        .dcl_temp = T8(-20, -10, 0, 10, 40, 45, 55, 60, 0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0),
    },
    [CFG_CHEM_LTO] = {
        .cell_charge_mv = 2650, .cell_float_mv = 2550, .cell_min_mv = 2300,
        .cell_discharge_min_mv = 2000, .cell_high_mv = 2800, .cell_low_mv = 1800,
        .ccl_cell = T5(2575, 2600, 2625, 2650, 2700, 1.0, 0.25, 0.05, 0.005, 0.0),
        .ccl_temp = T8(-30, -25, -20, -10, 45, 50, 55, 60, 0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0),
        .dcl_cell = T5(1900, 2000, 2100, 2200, 2290, 0.0, 0.005, 0.05, 0.25, 1.0),
        .dcl_temp = T8(-40, -35, -30, -20, 45, 50, 55, 60, 0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0),
    },
};

int cfg_preset_int(int chemistry, unsigned preset_bit)
{
    const struct preset *p = &presets[chemistry >= 0 && chemistry < CFG_CHEM_COUNT ? chemistry : 0];
    switch (preset_bit) {
    case 0:
        return p->cell_charge_mv;
    case 1:
        return p->cell_float_mv;
    case 2:
        return p->cell_min_mv;
    case 3:
        return p->cell_discharge_min_mv;
    case CFG_PRESET_ALARMS_FIRST:
        return p->cell_high_mv;
    case CFG_PRESET_ALARMS_FIRST + 1:
        return p->cell_low_mv;
    default:
        return 0;
    }
}

const struct cfg_table *cfg_preset_table(int chemistry, unsigned preset_bit)
{
    const struct preset *p = &presets[chemistry >= 0 && chemistry < CFG_CHEM_COUNT ? chemistry : 0];
    switch (preset_bit / 2) {
    case 2:
        return &p->ccl_cell;
    case 3:
        return &p->ccl_temp;
    case 4:
        return &p->dcl_cell;
    case 5:
        return &p->dcl_temp;
    default:
        return NULL;
    }
}
