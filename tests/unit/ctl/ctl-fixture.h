/* SPDX-License-Identifier: MIT */
/* ctl-fixture.h — device images for the bmsctl tests, rendered by the server's own engine. */
#ifndef TEST_CTL_FIXTURE_H
#define TEST_CTL_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "bmsgw/ctl_query.h"
#include "bmsgw/ctl_views.h"
#include "bmsgw/mbmap.h"
#include "bmsgw/mbmap_maps.h"

/* What a device serving m from src would answer, as the client's image. */
static inline void fix_render(const struct mbmap *m, const void *src, int word_order,
                              struct ctl_image *img)
{
    struct mbmap_image server;
    if (mbmap_image_init(&server, m, word_order) != 0)
        abort();
    mbmap_render(&server, src);
    memcpy(img->regs, server.regs, server.size[MBMAP_REGS] * sizeof(uint16_t));
    memcpy(img->bits[0], server.bits[0], server.size[MBMAP_COILS]);
    memcpy(img->bits[1], server.bits[1], server.size[MBMAP_DISCRETE]);
    mbmap_image_deinit(&server);
}

/* A mega BMS source: cell k (1-based) at 3000 + k % 300 mV, sensor k at (200 + k % 50) dC,
 * sensor 3 absent, cells beyond `cells` not installed. */
static inline struct mbmap_mega_src *fix_mega(unsigned cells)
{
    struct mbmap_mega_src *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->soc_pct = 87.53;
    s->soh_pct = 99.5;
    s->total_v = 688.27;
    s->current_a = -53.03;
    s->has_temp = true;
    s->max_temp_c = 26.3;
    s->avg_temp_c = 21.9;
    s->avg_cell_v = 3.30512;
    s->pack_v = 688.265;
    for (unsigned k = 0; k < cells && k < MBMAP_MEGA_CELLS; k++)
        s->cell_mv[k] = (uint16_t)(3000 + (k + 1) % 300);
    for (unsigned k = 0; k < MBMAP_MEGA_SENSORS; k++)
        s->sensor_dc[k] = (int16_t)(200 + (k + 1) % 50);
    s->sensor_dc[2] = BMSGW_TEMP_ABSENT;
    s->status[MBMAP_MEGA_ONLINE] = true;
    s->status[MBMAP_MEGA_ALARM] = true;
    s->charge_enabled = true;
    return s;
}

/* A Tescom source: arms of 3 and 2 batteries (arms 2 and 4 empty); battery j of arm k at
 * 3.2 + k / 100 + j / 1000 V (rounded to the map's 0.01 V), SOC 50 + k. */
static inline struct mbmap_tescom_src *fix_tescom(void)
{
    struct mbmap_tescom_src *t = calloc(1, sizeof(*t));
    static const unsigned counts[MBMAP_TESCOM_ARMS] = { 3, 0, 2, 0 };
    if (!t)
        abort();
    for (unsigned k = 0; k < MBMAP_TESCOM_ARMS; k++) {
        struct mbmap_tescom_arm *a = &t->arm[k];
        a->count = (uint16_t)counts[k];
        a->ok = a->count > 0;
        a->current_a = -1.5 * (k + 1);
        a->module_temp_c = 24 + k;
        for (unsigned j = 0; j < a->count; j++) {
            a->bat[j].present = true;
            a->bat[j].value[MBMAP_TESCOM_VOLTAGE] = 3.2 + (k + 1) / 100.0 + j / 100.0;
            a->bat[j].value[MBMAP_TESCOM_SOC] = 50 + k;
            a->bat[j].value[MBMAP_TESCOM_RIMT] = 25 + j;
            a->bat[j].value[MBMAP_TESCOM_NTC1] = 20 + j;
        }
    }
    t->arm[2].bat[1].alarm[MBMAP_TESCOM_HIGH_V_WARNING] = true;
    return t;
}

#endif
