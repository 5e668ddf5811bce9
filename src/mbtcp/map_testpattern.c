/* SPDX-License-Identifier: MIT */
/* map_testpattern.c — the test-pattern map (seed 003): every data type, advancing each second. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bmsgw/mbmap_maps.h"

#define SRC(p) ((const struct mbmap_testpattern_src *)(p))

#define TOGGLE_LAST 100
#define ZERO_LAST   200

static const char hello[] = "Hello, World!";

/* The integer patterns wrap like the register types do (two's complement). */
static bool get_number(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                       double *v)
{
    (void)g;
    (void)i;
    int64_t t = SRC(src)->t;
    switch (f->type) {
    case MBMAP_S16:
        *v = (int16_t)(uint16_t)(uint64_t)(t - 16000);
        break;
    case MBMAP_U16:
        *v = (uint16_t)(uint64_t)(t + 1);
        break;
    case MBMAP_S32:
        *v = (int32_t)(uint32_t)(uint64_t)(t - 10000);
        break;
    case MBMAP_U32:
        *v = (uint32_t)(uint64_t)t;
        break;
    case MBMAP_F16:
        *v = -10000.0 + 0.111 * (double)t;
        break;
    case MBMAP_F32:
        *v = 0.222 * (double)t;
        break;
    default: /* float64 (arg 0) and the 8-register "double" (arg 1) */
        *v = (f->arg ? 0.444 : 0.333) * (double)t;
        break;
    }
    return true;
}

static const char *get_hello(const void *src, const struct mbmap_field *f)
{
    return f->arg ? SRC(src)->hello_epoch : hello;
}

static bool get_coil(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                     double *v)
{
    (void)g;
    *v = SRC(src)->coils[f->addr + i];
    return true;
}

static bool get_input(const void *src, const struct mbmap_field *f, unsigned g, unsigned i,
                      double *v)
{
    (void)g;
    (void)i;
    *v = f->arg == 0 ? (double)(SRC(src)->t & 1) : f->arg == 1 ? 0 : 1;
    return true;
}

#define NUMBER(k, l, a, t, n, st, x)                                                               \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = MBMAP_REGS, .type = t, .addr = a, .count = n,   \
        .stride = st, .item_label = "value", .arg = x, .get = get_number                           \
    }

#define BITS(tbl, k, l, a, n, w, getter, x)                                                        \
    {                                                                                              \
        .key = k, .label = l, .unit = "", .table = tbl, .type = MBMAP_BIT, .addr = a, .count = n,  \
        .item_label = tbl == MBMAP_COILS ? "coil" : "input", .flags = w, .min = 0, .max = 1,       \
        .arg = x, .get = getter                                                                    \
    }

static const struct mbmap_field fields[] = {
    NUMBER("int16", "int16 (-16000 + t)", 0, MBMAP_S16, 101, 1, 0),
    NUMBER("uint16", "uint16 (1 + t)", 101, MBMAP_U16, 100, 1, 0),
    NUMBER("int32", "int32 (-10000 + t)", 201, MBMAP_S32, 50, 2, 0),
    NUMBER("uint32", "uint32 (t)", 301, MBMAP_U32, 50, 2, 0),
    NUMBER("float16", "float16 (-10000 + 0.111 t)", 401, MBMAP_F16, 50, 2, 0),
    NUMBER("float32", "float32 (0.222 t)", 501, MBMAP_F32, 50, 2, 0),
    NUMBER("float64", "float64 (0.333 t)", 601, MBMAP_F64, 25, 4, 0),
    /* 8-register slots; the 13th value's float64 fits in 797..800, its padding would not */
    NUMBER("double", "double (0.444 t)", 701, MBMAP_F64, 13, 8, 1),
    { .key = "hello",
      .label = "fixed string",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_STRING,
      .addr = 801,
      .count = 1,
      .str_regs = 100,
      .arg = 0,
      .get_str = get_hello },
    { .key = "hello_epoch",
      .label = "string with epoch",
      .unit = "",
      .table = MBMAP_REGS,
      .type = MBMAP_STRING,
      .addr = 901,
      .count = 1,
      .str_regs = 100,
      .arg = 1,
      .get_str = get_hello },
    BITS(MBMAP_COILS, "coil_toggle", "toggling coil", 0, 101, MBMAP_WRITABLE, get_coil, 0),
    BITS(MBMAP_COILS, "coil_zero", "zero coil", 101, 100, MBMAP_WRITABLE, get_coil, 1),
    BITS(MBMAP_COILS, "coil_one", "one coil", 201, 100, MBMAP_WRITABLE, get_coil, 2),
    BITS(MBMAP_DISCRETE, "input_toggle", "toggling input", 0, 101, 0, get_input, 0),
    BITS(MBMAP_DISCRETE, "input_zero", "zero input", 101, 100, 0, get_input, 1),
    BITS(MBMAP_DISCRETE, "input_one", "one input", 201, 100, 0, get_input, 2),
};

static const struct mbmap_range ranges[] = {
    { MBMAP_REGS, 0, 0, 100, "int16" },     { MBMAP_REGS, 0, 101, 200, "uint16" },
    { MBMAP_REGS, 0, 201, 300, "int32" },   { MBMAP_REGS, 0, 301, 400, "uint32" },
    { MBMAP_REGS, 0, 401, 500, "float16" }, { MBMAP_REGS, 0, 501, 600, "float32" },
    { MBMAP_REGS, 0, 601, 700, "float64" }, { MBMAP_REGS, 0, 701, 800, "double" },
    { MBMAP_REGS, 0, 801, 900, "string" },  { MBMAP_REGS, 0, 901, 1000, "string+epoch" },
    { MBMAP_COILS, 0, 0, 300, "coils" },    { MBMAP_DISCRETE, 0, 0, 300, "discrete inputs" },
};

const struct mbmap mbmap_testpattern = {
    .name = "testpattern",
    .title = "test pattern",
    .kind = MBMAP_TESTPATTERN,
    .src_size = sizeof(struct mbmap_testpattern_src),
    .ranges = ranges,
    .n_ranges = sizeof(ranges) / sizeof(ranges[0]),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
};

/* ---- the device ---------------------------------------------------------------------------- */

static void assert_pattern(uint8_t *coils, int64_t ticks)
{
    for (unsigned i = 0; i <= TOGGLE_LAST; i++)
        coils[i] = (uint8_t)(coils[i] ^ (ticks & 1));
    memset(coils + TOGGLE_LAST + 1, 0, ZERO_LAST - TOGGLE_LAST);
    memset(coils + ZERO_LAST + 1, 1, MBMAP_TP_BITS - ZERO_LAST - 1);
}

void mbmap_testpattern_init(struct mbmap_testpattern *tp, int64_t start_ms)
{
    memset(tp, 0, sizeof(*tp));
    tp->start_ms = start_ms;
    assert_pattern(tp->coils, 0);
}

void mbmap_testpattern_advance(struct mbmap_testpattern *tp, int64_t now_ms)
{
    int64_t t = now_ms > tp->start_ms ? (now_ms - tp->start_ms) / 1000 : 0;
    if (t > tp->t) {
        assert_pattern(tp->coils, t - tp->t);
        tp->t = t;
    }
}

int64_t mbmap_testpattern_next_tick_ms(const struct mbmap_testpattern *tp)
{
    return tp->start_ms + (tp->t + 1) * 1000;
}

void mbmap_testpattern_source(const struct mbmap_testpattern *tp, int64_t epoch_s,
                              struct mbmap_testpattern_src *out)
{
    out->t = tp->t;
    out->epoch_s = epoch_s;
    memcpy(out->coils, tp->coils, sizeof(out->coils));
    snprintf(out->hello_epoch, sizeof(out->hello_epoch), "%s %" PRId64, hello, epoch_s);
}

int mbmap_testpattern_write(struct mbmap_testpattern *tp, const struct mbmap_write *w, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        long a = mbmap_field_addr(w[k].field, w[k].group, w[k].item);
        if (w[k].field->table == MBMAP_COILS && a >= 0 && a < MBMAP_TP_BITS)
            tp->coils[a] = w[k].value != 0;
    }
    return MBMAP_EX_NONE;
}
