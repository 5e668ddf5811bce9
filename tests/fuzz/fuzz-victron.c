/* SPDX-License-Identifier: MIT */
/* fuzz-victron.c — frames from the bus and values from the BMS: the decoder, the error-frame
 * reading, alarm evaluation, the limit controller and every encoder must take anything. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/alarms.h"
#include "bmsgw/can.h"
#include "bmsgw/limits.h"
#include "bmsgw/victron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A received frame: id (2 bytes), length (1 byte), payload. */
static void fuzz_decode(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    uint32_t id = (uint32_t)(data[0] | data[1] << 8) & 0x7FF;
    unsigned len = data[2] % 9;
    uint8_t payload[8] = { 0 };
    memcpy(payload, data + 3, size - 3 < len ? size - 3 : len);
    json_t *o = victron_decode_json(id, payload, len);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    free(text);
    json_decref(o);
    struct can_frame_io f = { .id = id | (uint32_t)data[1] << 8,
                              .dlc = (uint8_t)len,
                              .error = data[2] & 0x80 };
    memcpy(f.data, payload, 8);
    (void)can_error_bus_state(&f);
    (void)victron_is_vic(payload, len);
}

static double take_double(const uint8_t **p, const uint8_t *end)
{
    double v = 0;
    if (end - *p >= (ptrdiff_t)sizeof(v)) {
        memcpy(&v, *p, sizeof(v));
        *p += sizeof(v);
    }
    return v;
}

/* A system built from the bytes (NaN, infinities and absurd values included). */
static void fill_system(struct bmsgw_system *s, const uint8_t *p, const uint8_t *end)
{
    s->string_count = 2;
    for (unsigned i = 0; i < 2; i++) {
        struct bmsgw_string *st = &s->strings[i];
        st->online = true;
        st->sample_ms = 1000;
        st->cell_first = (uint16_t)(i * 16);
        st->cell_count = 16;
        st->sensor_first = (uint16_t)(i * 2);
        st->sensor_count = 2;
        st->pack_v = take_double(&p, end);
        st->current_a = take_double(&p, end);
        st->soc_pct = take_double(&p, end);
        st->capacity_ah = take_double(&p, end);
        st->charged_wh = take_double(&p, end);
        st->settings_valid = end - p > 0 && (*p & 1);
    }
    s->cell_count = 32;
    s->sensor_count = 4;
    size_t n = (size_t)(end - p);
    memcpy(s->cell_mv, p, n < sizeof(uint16_t) * 32 ? n : sizeof(uint16_t) * 32);
    for (unsigned k = 0; k < 4 && n > 64 + 2 * k + 1; k++)
        memcpy(&s->sensor_dc[k], p + 64 + 2 * k, 2);
    for (unsigned k = 0; k < BMSGW_SETTINGS_COUNT && n > 80 + 2 * k + 1; k++)
        memcpy(&s->strings[k & 1].settings_reg[k], p + 80 + 2 * k, 2);
}

static void fuzz_encode(const uint8_t *data, size_t size)
{
    static struct bmsgw_system s;
    struct bmsgw_config cfg;
    struct alarms_state ast;
    struct limits_state lst;
    memset(&s, 0, sizeof(s));
    config_defaults(&cfg);
    fill_system(&s, data, data + size);
    bmsgw_system_aggregate(&s, 1000, 3000);
    alarms_init(&ast);
    limits_init(&lst);
    alarms_evaluate(&cfg.alarms, &s, 1000, 3000, &ast, &s.alarms);
    limits_compute(&cfg.limits, &cfg.alarms, &s, NULL, 1000, 3000, &lst, &s.limits);
    limits_compute(&cfg.limits, &cfg.alarms, &s, NULL, 1250, 3000, &lst, &s.limits);
    struct can_proto_input in = {
        .sys = &s, .limits = &s.limits, .alarms = &s.alarms, .can = &cfg.can
    };
    uint8_t out[VICTRON_DLC];
    for (unsigned f = 0; f < VICTRON_FRAME_COUNT; f++) {
        int rc = victron_encode((enum victron_frame_idx)f, &in, out);
        if (rc != VICTRON_DLC && !(f == VICTRON_351 && rc < 0))
            abort();
    }
    if (s.limits.valid && !(s.limits.cvl_v > 0))
        abort(); /* never CVL = 0 while valid */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        fuzz_decode(data + 1, size - 1);
    else
        fuzz_encode(data + 1, size - 1);
    return 0;
}
