/* SPDX-License-Identifier: MIT */
/* test-mbpdu.c — MBAP framing and every function code and exception, as golden bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/mbmap_maps.h"
#include "bmsgw/mbpdu.h"

struct fix {
    struct mbmap_image tp, mega;
    struct mbmap_testpattern dev;
    struct mbpdu_target t;
    struct mbmap_write wbuf[MBMAP_MAX_WRITE_BITS];
    unsigned writes;
    int verdict;
    uint8_t resp[MBPDU_MAX_LEN];
};

static int owner_write(void *ctx, const struct mbmap_write *w, unsigned n)
{
    struct fix *f = ctx;
    f->writes += n;
    if (f->verdict)
        return f->verdict;
    return mbmap_testpattern_write(&f->dev, w, n);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct mbmap_testpattern_src src;
    assert_int_equal(mbmap_image_init(&f->tp, &mbmap_testpattern, MBMAP_WORDS_ABCD), 0);
    assert_int_equal(mbmap_image_init(&f->mega, &mbmap_mega, MBMAP_WORDS_ABCD), 0);
    mbmap_testpattern_init(&f->dev, 0);
    mbmap_testpattern_source(&f->dev, 1704067200, &src);
    mbmap_render(&f->tp, &src);
    f->t = (struct mbpdu_target){
        .img = &f->tp, .allow_writes = true, .write = owner_write, .write_ctx = f, .wbuf = f->wbuf
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbmap_image_deinit(&f->tp);
    mbmap_image_deinit(&f->mega);
    free(f);
    return 0;
}

/* Answer req and compare with the expected bytes. */
#define EXPECT(f, req, ...)                                                                        \
    do {                                                                                           \
        static const uint8_t rq_[] = req;                                                          \
        static const uint8_t ex_[] = __VA_ARGS__;                                                  \
        size_t n_ = mbpdu_answer(&(f)->t, rq_, sizeof(rq_), (f)->resp);                            \
        assert_int_equal(n_, sizeof(ex_));                                                         \
        assert_memory_equal((f)->resp, ex_, sizeof(ex_));                                          \
    } while (0)

#define B(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static void test_mbap_framing(void **state)
{
    (void)state;
    const uint8_t f[] = { 0x12, 0x34, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x02 };
    for (size_t n = 0; n < sizeof(f); n++)
        assert_int_equal(mbap_frame_len(f, n), 0); /* partial: wait */
    assert_int_equal(mbap_frame_len(f, sizeof(f)), 12);
    const uint8_t pid[] = { 0, 1, 0, 1 };
    assert_int_equal(mbap_frame_len(pid, 4), -EPROTO);
    const uint8_t len1[] = { 0, 1, 0, 0, 0, 1 };
    assert_int_equal(mbap_frame_len(len1, 6), -EPROTO);
    const uint8_t len255[] = { 0, 1, 0, 0, 0, 255 };
    assert_int_equal(mbap_frame_len(len255, 6), -EPROTO);
    const uint8_t len254[] = { 0, 1, 0, 0, 0, 254 };
    assert_int_equal(mbap_frame_len(len254, 6), 0);
}

static void test_reads(void **state)
{
    struct fix *f = *state;
    EXPECT(f, B(0x03, 0x00, 0x00, 0x00, 0x02), B(0x03, 0x04, 0xC1, 0x80, 0xC1, 0x80));
    EXPECT(f, B(0x04, 0x00, 0x00, 0x00, 0x02), B(0x04, 0x04, 0xC1, 0x80, 0xC1, 0x80)); /* = FC3 */
    EXPECT(f, B(0x03, 0x00, 0xC9, 0x00, 0x02), B(0x03, 0x04, 0xFF, 0xFF, 0xD8, 0xF0)); /* int32 */
    /* coils 195..205: six 0 then five 1, LSB first */
    EXPECT(f, B(0x01, 0x00, 0xC3, 0x00, 0x0B), B(0x01, 0x02, 0xC0, 0x07));
    EXPECT(f, B(0x02, 0x01, 0x2C, 0x00, 0x01), B(0x02, 0x01, 0x01)); /* input 300 */
    /* every register of the map in one request is too many; 125 at the edge is fine */
    size_t n = mbpdu_answer(&f->t, (const uint8_t[]){ 0x03, 0x03, 0x6C, 0x00, 0x7D }, 5, f->resp);
    assert_int_equal(n, 2 + 250); /* 876..1000 */
    n = mbpdu_answer(&f->t, (const uint8_t[]){ 0x01, 0x00, 0x00, 0x01, 0x2D }, 5, f->resp);
    assert_int_equal(n, 2 + 38); /* 301 coils */
}

static void test_read_exceptions(void **state)
{
    struct fix *f = *state;
    EXPECT(f, B(0x03, 0x00, 0x00, 0x00, 0x00), B(0x83, 0x03)); /* quantity 0 */
    EXPECT(f, B(0x03, 0x00, 0x00, 0x00, 0x7E), B(0x83, 0x03)); /* quantity 126 */
    EXPECT(f, B(0x04, 0x03, 0x6D, 0x00, 0x7D), B(0x84, 0x02)); /* 877..1001: past the end */
    EXPECT(f, B(0x03, 0x03, 0xE9, 0x00, 0x01), B(0x83, 0x02)); /* 1001 */
    EXPECT(f, B(0x03, 0xFF, 0xFF, 0x00, 0x02), B(0x83, 0x02)); /* wraps the address space */
    EXPECT(f, B(0x01, 0x00, 0x00, 0x07, 0xD1), B(0x81, 0x03)); /* 2001 coils */
    EXPECT(f, B(0x01, 0x01, 0x2C, 0x00, 0x02), B(0x81, 0x02)); /* 300..301 */
    EXPECT(f, B(0x02, 0x00, 0x00, 0x00, 0x00), B(0x82, 0x03));
    EXPECT(f, B(0x03, 0x00, 0x00, 0x00), B(0x83, 0x03));             /* short */
    EXPECT(f, B(0x03, 0x00, 0x00, 0x00, 0x01, 0x00), B(0x83, 0x03)); /* long */
    EXPECT(f, B(0x2B, 0x0E, 0x01, 0x00), B(0xAB, 0x01));             /* device identification */
    EXPECT(f, B(0x08, 0x00, 0x00, 0x12, 0x34), B(0x88, 0x01));
    EXPECT(f, B(0x07), B(0x87, 0x01));
}

static void test_stale(void **state)
{
    struct fix *f = *state;
    f->t.img = &f->mega;
    f->t.stale = true;
    EXPECT(f, B(0x03, 0x03, 0xE8, 0x00, 0x02), B(0x83, 0x04));       /* SOC while stale */
    EXPECT(f, B(0x04, 0x1B, 0x58, 0x00, 0x01), B(0x84, 0x04));       /* sensor 1 */
    EXPECT(f, B(0x03, 0x03, 0xE7, 0x00, 0x02), B(0x83, 0x02));       /* an address error wins */
    EXPECT(f, B(0x01, 0x00, 0x00, 0x00, 0x08), B(0x01, 0x01, 0x00)); /* status stays readable */
    f->t.serve_stale = true;
    EXPECT(f, B(0x03, 0x03, 0xE8, 0x00, 0x02), B(0x03, 0x04, 0x00, 0x00, 0x00, 0x00));
}

static void test_writes(void **state)
{
    struct fix *f = *state;
    EXPECT(f, B(0x05, 0x00, 0x05, 0xFF, 0x00), B(0x05, 0x00, 0x05, 0xFF, 0x00));
    assert_int_equal(f->dev.coils[5], 1);
    EXPECT(f, B(0x05, 0x00, 0x05, 0x00, 0x00), B(0x05, 0x00, 0x05, 0x00, 0x00));
    assert_int_equal(f->dev.coils[5], 0);
    EXPECT(f, B(0x05, 0x00, 0x05, 0x12, 0x34), B(0x85, 0x03)); /* not 0000 / FF00 */
    EXPECT(f, B(0x05, 0x01, 0x2D, 0xFF, 0x00), B(0x85, 0x02)); /* coil 301 */
    /* coils 10..19 = 1010110011 (LSB first: 0x35, 0x03) */
    EXPECT(f, B(0x0F, 0x00, 0x0A, 0x00, 0x0A, 0x02, 0x35, 0x03), B(0x0F, 0x00, 0x0A, 0x00, 0x0A));
    static const uint8_t want[10] = { 1, 0, 1, 0, 1, 1, 0, 0, 1, 1 };
    assert_memory_equal(&f->dev.coils[10], want, 10);
    EXPECT(f, B(0x0F, 0x00, 0x0A, 0x00, 0x0A, 0x01, 0x35), B(0x8F, 0x03)); /* byte count */
    EXPECT(f, B(0x0F, 0x00, 0x0A, 0x00, 0x0A, 0x02, 0x35), B(0x8F, 0x03)); /* data short */
    EXPECT(f, B(0x0F, 0x00, 0x00, 0x07, 0xB1, 0xF7), B(0x8F, 0x03));       /* 1969 coils */
    /* registers are read-only in the test pattern */
    EXPECT(f, B(0x06, 0x00, 0x00, 0x12, 0x34), B(0x86, 0x02));
    EXPECT(f, B(0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x34), B(0x90, 0x02));
    EXPECT(f, B(0x10, 0x00, 0x00, 0x00, 0x01, 0x04, 0x12, 0x34, 0, 0), B(0x90, 0x03));
    EXPECT(f, B(0x10, 0x00, 0x00, 0x00, 0x7C, 0xF8), B(0x90, 0x03)); /* 124 registers */
    /* the owner's verdict */
    f->verdict = MBMAP_EX_DEVICE_FAILURE;
    EXPECT(f, B(0x05, 0x00, 0x05, 0xFF, 0x00), B(0x85, 0x04));
}

static void test_writes_refused(void **state)
{
    struct fix *f = *state;
    f->t.allow_writes = false;
    EXPECT(f, B(0x05, 0x00, 0x05, 0xFF, 0x00), B(0x85, 0x01));
    EXPECT(f, B(0x06, 0x00, 0x00, 0x12, 0x34), B(0x86, 0x01));
    EXPECT(f, B(0x0F, 0x00, 0x0A, 0x00, 0x0A, 0x02, 0x35, 0x03), B(0x8F, 0x01));
    EXPECT(f, B(0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x34), B(0x90, 0x01));
    assert_int_equal(f->writes, 0);
    EXPECT(f, B(0x03, 0x00, 0x00, 0x00, 0x01), B(0x03, 0x02, 0xC1, 0x80)); /* reads go on */
}

static void test_simulator_writes(void **state)
{
    struct fix *f = *state;
    f->t.img = &f->mega;
    f->verdict = MBMAP_EX_NONE;
    /* cell 1 (1010) to 3700 mV: only where simulator fields are writable */
    EXPECT(f, B(0x06, 0x03, 0xF2, 0x0E, 0x74), B(0x86, 0x02));
    f->t.sim_writes = true;
    EXPECT(f, B(0x06, 0x03, 0xF2, 0x0E, 0x74), B(0x06, 0x03, 0xF2, 0x0E, 0x74));
    assert_int_equal(f->writes, 1);
    assert_string_equal(f->wbuf[0].field->key, "cell_voltage");
    assert_true(f->wbuf[0].value == 3700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbap_framing),
        cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_exceptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulator_writes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
