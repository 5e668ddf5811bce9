/* SPDX-License-Identifier: MIT */
/* fuzz-tinybms.c — libFuzzer target: arbitrary bytes as received replies (the poller's framing
 * and checks), as register blocks (the decoder) and as event logs. Whatever comes in, nothing
 * crashes and nothing implausible is ever published. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/tinybms.h"
#include "bmsgw/tinybms_rtu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static struct bmsgw_system sys;

/* What the snapshot holds for a string after a sample was accepted. */
static void check_published(const struct bmsgw_system *s, unsigned idx)
{
    const struct bmsgw_string *st = &s->strings[idx];
    CHECK(st->cell_count >= 1 && st->cell_count <= TINYBMS_MAX_CELLS);
    for (unsigned i = 0; i < st->cell_count; i++) {
        uint16_t mv = s->cell_mv[st->cell_first + i];
        CHECK(mv >= TINYBMS_CELL_MIN_MV && mv <= TINYBMS_CELL_MAX_MV);
    }
    for (unsigned i = 0; i < st->sensor_count; i++) {
        int16_t dc = s->sensor_dc[st->sensor_first + i];
        CHECK(dc == BMSGW_TEMP_ABSENT || (dc >= TINYBMS_TEMP_MIN_DC && dc <= TINYBMS_TEMP_MAX_DC));
    }
    CHECK(isfinite(st->pack_v) && st->pack_v > 0 && st->pack_v <= TINYBMS_PACK_MAX_V);
    CHECK(isfinite(st->current_a) && fabs(st->current_a) <= TINYBMS_CURRENT_MAX_A);
    CHECK(st->soc_pct >= 0 && st->soc_pct <= 100.0 + 1e-9);
    CHECK(st->soh_pct >= 0 && st->soh_pct <= 100.0 + 1e-9);
    CHECK(st->min_cell_mv <= st->max_cell_mv);
}

static void decode_and_publish(const uint16_t *regs)
{
    struct tinybms_live l;
    char why[160];
    if (tinybms_decode_live(regs, &l, why, sizeof(why)) == 0) {
        tinybms_live_apply(&l, &sys, 3, 1000);
        check_published(&sys, 3);
    } else {
        CHECK(why[0] != '\0'); /* a rejection always says why */
    }
}

/* The bytes as what arrives after a request, fed in pieces as a serial port delivers them. */
static void fuzz_reply(const uint8_t *data, size_t size, uint8_t pick)
{
    static const struct tinybms_req reqs[] = {
        { .fc = TINYBMS_FC_READ, .addr = 0, .count = TINYBMS_LIVE_COUNT },
        { .fc = TINYBMS_FC_READ, .addr = 200, .count = TINYBMS_EVENTS_REGS },
        { .fc = TINYBMS_FC_READ, .addr = 0, .count = 16 },
        { .fc = TINYBMS_FC_WRITE, .addr = 315, .count = 1 },
        { .fc = TINYBMS_CMD_CONTROL, .option = TINYBMS_RESET },
    };
    const struct tinybms_req *req = &reqs[pick % (sizeof(reqs) / sizeof(reqs[0]))];
    uint16_t regs[TINYBMS_READ_MAX];
    struct tinybms_scan s = { 0 };
    size_t n = 0, at = 0, len = 0, step = 1 + pick % 7;
    int rc = TINYBMS_SCAN_MORE;
    while (n < size || rc == TINYBMS_SCAN_CORRUPT) {
        if (rc != TINYBMS_SCAN_CORRUPT)
            n = n + step < size ? n + step : size;
        rc = tinybms_reply_scan(&s, req, data, n, &at, &len, regs, NULL);
        CHECK(s.off <= n && s.garbage <= n);
        if (rc == TINYBMS_SCAN_MORE)
            continue;
        CHECK(at + len <= n && len >= 5 && data[at] == TINYBMS_SLAVE);
        if (rc != TINYBMS_SCAN_CORRUPT)
            break;
    }
    if (rc == 0 && req->fc == TINYBMS_FC_READ && req->count == TINYBMS_LIVE_COUNT)
        decode_and_publish(regs);
    if (rc == 0 && req->fc == TINYBMS_FC_READ && req->count == TINYBMS_EVENTS_REGS) {
        struct bmsgw_bms_event ev[BMSGW_EVENTS_MAX], fresh[BMSGW_EVENTS_MAX];
        unsigned k = tinybms_decode_events(regs, ev);
        CHECK(k <= BMSGW_EVENTS_MAX);
        for (unsigned i = 1; i < k; i++)
            CHECK(ev[i - 1].timestamp_s >= ev[i].timestamp_s);
        CHECK(bms_events_new(ev + k / 2, k - k / 2, true, ev, k, fresh) <= k);
    }
}

/* The bytes as registers straight away (the decoder and the settings checks). */
static void fuzz_registers(const uint8_t *data, size_t size)
{
    uint16_t regs[TINYBMS_LIVE_COUNT] = { 0 };
    for (size_t i = 0; i < TINYBMS_LIVE_COUNT && 2 * i + 1 < size; i++)
        regs[i] = (uint16_t)(data[2 * i] << 8 | data[2 * i + 1]);
    decode_and_publish(regs);
    uint16_t settings[BMSGW_SETTINGS_COUNT];
    memcpy(settings, regs, sizeof(settings));
    char why[128];
    for (unsigned a = 300; a < 344; a++) {
        int rc = tinybms_setting_check(settings, a, regs[a - 300 + 12], why, sizeof(why));
        CHECK(rc == 0 || rc == -ERANGE || rc == -EINVAL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 0x80)
        fuzz_registers(data + 1, size - 1);
    else
        fuzz_reply(data + 1, size - 1, data[0]);
    return 0;
}
