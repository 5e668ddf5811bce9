/* SPDX-License-Identifier: MIT */
/* fixture-system.h — battery systems built by hand for the map tests, and image accessors. */
#ifndef TEST_FIXTURE_SYSTEM_H
#define TEST_FIXTURE_SYSTEM_H

#include <stdlib.h>
#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/mbmap.h"
#include "bmsgw/model.h"

#define FIX_NOW_MS 100000

/* Append a string of cells/sensors after the ones already there, online and fresh; cell c
 * (1-based) reads mv0 + c mV, sensor t reads dc0 + t. */
static inline struct bmsgw_string *fix_add_string(struct bmsgw_system *sys, unsigned cells,
                                                  unsigned sensors, unsigned mv0, int dc0)
{
    struct bmsgw_string *st = &sys->strings[sys->string_count++];
    st->cell_first = sys->cell_count;
    st->cell_count = (uint16_t)cells;
    st->sensor_first = sys->sensor_count;
    st->sensor_count = (uint16_t)sensors;
    for (unsigned c = 0; c < cells; c++)
        sys->cell_mv[st->cell_first + c] = (uint16_t)(mv0 + c + 1);
    for (unsigned t = 0; t < sensors; t++)
        sys->sensor_dc[st->sensor_first + t] = (int16_t)(dc0 + (int)t + 1);
    sys->cell_count = (uint16_t)(sys->cell_count + cells);
    sys->sensor_count = (uint16_t)(sys->sensor_count + sensors);
    st->online = true;
    st->sample_ms = FIX_NOW_MS - 100;
    st->capacity_ah = 100;
    st->soh_pct = 100;
    st->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    return st;
}

static inline struct bmsgw_system *fix_system_new(void)
{
    struct bmsgw_system *sys = calloc(1, sizeof(*sys));
    return sys;
}

static inline void fix_aggregate(struct bmsgw_system *sys)
{
    bmsgw_system_aggregate(sys, FIX_NOW_MS, 3000);
}

static inline uint16_t img_reg(const struct mbmap_image *img, unsigned addr)
{
    return img->regs[addr];
}

static inline uint32_t img_u32(const struct mbmap_image *img, unsigned addr)
{
    return (uint32_t)img->regs[addr] << 16 | img->regs[addr + 1];
}

static inline float img_f32(const struct mbmap_image *img, unsigned addr)
{
    uint32_t bits = img_u32(img, addr);
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

#endif
