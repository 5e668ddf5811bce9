/* SPDX-License-Identifier: MIT */
/* test-tinybms-rtu.c — TinyBMS frames: golden bytes, limits, error/ACK replies, resync, CRC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "bmsgw/tinybms_rtu.h"

/* Golden frames from the protocol document (Rev D) examples. */
static const uint8_t read_5_at_5[] = { 0xAA, 0x03, 0x00, 0x05, 0x00, 0x05, 0x8C, 0x13 };
static const uint8_t read_5_reply[] = { 0xAA, 0x03, 0x0A, 0x97, 0x40, 0x97, 0x40, 0x97,
                                        0x2C, 0x97, 0x2C, 0x97, 0x2C, 0x3E, 0xC7 };
static const uint8_t write_315[] = { 0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x04,
                                     0x10, 0x68, 0x09, 0xC4, 0x19, 0x61 };
static const uint8_t write_315_reply[] = { 0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02, 0x28, 0x22 };

static void test_crc_golden(void **state)
{
    (void)state;
    const uint8_t temps[] = { 0xAA, 0x1B };
    assert_int_equal(tinybms_crc16(temps, 2), 0x1B3F);
    assert_int_equal(tinybms_crc16(read_5_at_5, 6), 0x138C);
}

static void test_encode_requests(void **state)
{
    (void)state;
    uint8_t buf[300];
    struct tinybms_req rd = { .fc = TINYBMS_FC_READ, .addr = 5, .count = 5 };
    assert_int_equal(tinybms_req_encode(&rd, buf, sizeof(buf)), 8);
    assert_memory_equal(buf, read_5_at_5, 8);

    const uint16_t vals[] = { 4200, 2500 };
    struct tinybms_req wr = { .fc = TINYBMS_FC_WRITE, .addr = 315, .count = 2, .values = vals };
    assert_int_equal(tinybms_req_encode(&wr, buf, sizeof(buf)), sizeof(write_315));
    assert_memory_equal(buf, write_315, sizeof(write_315));

    struct tinybms_req ctl = { .fc = TINYBMS_CMD_CONTROL, .option = TINYBMS_CLEAR_EVENTS };
    assert_int_equal(tinybms_req_encode(&ctl, buf, sizeof(buf)), 5);
    assert_int_equal(buf[0], 0xAA);
    assert_int_equal(buf[1], 0x02);
    assert_int_equal(buf[2], 0x01);
    assert_int_equal(tinybms_crc16(buf, 3), buf[3] | buf[4] << 8);
}

static void test_request_limits(void **state)
{
    (void)state;
    uint8_t buf[300];
    uint16_t vals[101] = { 0 };
    struct tinybms_req r = { .fc = TINYBMS_FC_READ, .addr = 0, .count = 127 };
    assert_int_equal(tinybms_req_encode(&r, buf, sizeof(buf)), 8);
    r.count = 128;
    assert_int_equal(tinybms_req_encode(&r, buf, sizeof(buf)), 0);
    r.count = 0;
    assert_int_equal(tinybms_req_encode(&r, buf, sizeof(buf)), 0);
    struct tinybms_req w = { .fc = TINYBMS_FC_WRITE, .addr = 300, .count = 100, .values = vals };
    assert_int_equal(tinybms_req_encode(&w, buf, sizeof(buf)), 209);
    w.count = 101;
    assert_int_equal(tinybms_req_encode(&w, buf, sizeof(buf)), 0);
    w.count = 2;
    assert_int_equal(tinybms_req_encode(&w, buf, 10), 0); /* does not fit */
    struct tinybms_req other = { .fc = 0x07 };
    assert_int_equal(tinybms_req_encode(&other, buf, sizeof(buf)), 0);
}

static void test_decode_read_reply(void **state)
{
    (void)state;
    struct tinybms_req rd = { .fc = TINYBMS_FC_READ, .addr = 5, .count = 5 };
    uint16_t regs[5];
    assert_int_equal(tinybms_reply_size(&rd), sizeof(read_5_reply));
    assert_int_equal(tinybms_reply_len(&rd, read_5_reply, 1), 0);
    assert_int_equal(tinybms_reply_len(&rd, read_5_reply, 3), (int)sizeof(read_5_reply));
    assert_int_equal(tinybms_reply_decode(&rd, read_5_reply, sizeof(read_5_reply), regs, NULL), 0);
    assert_int_equal(regs[0], 0x9740); /* 3.872 V in 0.1 mV */
    assert_int_equal(regs[4], 0x972C);

    uint8_t bad[sizeof(read_5_reply)];
    memcpy(bad, read_5_reply, sizeof(bad));
    bad[5] ^= 0x01;
    assert_int_equal(tinybms_reply_decode(&rd, bad, sizeof(bad), regs, NULL), -EILSEQ);

    /* the answer to another read (different count) is not accepted */
    struct tinybms_req rd6 = { .fc = TINYBMS_FC_READ, .addr = 5, .count = 6 };
    assert_int_equal(tinybms_reply_len(&rd6, read_5_reply, sizeof(read_5_reply)), -EBADMSG);
    assert_int_equal(tinybms_reply_decode(&rd6, read_5_reply, sizeof(read_5_reply), regs, NULL),
                     -EPROTO);
}

static void test_decode_write_reply(void **state)
{
    (void)state;
    const uint16_t vals[] = { 4200, 2500 };
    struct tinybms_req wr = { .fc = TINYBMS_FC_WRITE, .addr = 315, .count = 2, .values = vals };
    assert_int_equal(tinybms_reply_len(&wr, write_315_reply, 2), 8);
    assert_int_equal(
        tinybms_reply_decode(&wr, write_315_reply, sizeof(write_315_reply), NULL, NULL), 0);
    uint8_t out[8];
    assert_int_equal(tinybms_write_reply(315, 2, out, sizeof(out)), 8);
    assert_memory_equal(out, write_315_reply, 8);
    /* a write reply for another address does not confirm this write */
    struct tinybms_req other = { .fc = TINYBMS_FC_WRITE, .addr = 316, .count = 2, .values = vals };
    assert_int_equal(
        tinybms_reply_decode(&other, write_315_reply, sizeof(write_315_reply), NULL, NULL),
        -EPROTO);
}

static void test_error_and_ack_replies(void **state)
{
    (void)state;
    uint8_t frame[8];
    uint8_t err = 0xEE;
    struct tinybms_req rd = { .fc = TINYBMS_FC_READ, .addr = 0, .count = 56 };
    assert_int_equal(tinybms_error_reply(TINYBMS_FC_READ, TINYBMS_ERR_COMMAND, frame, 8), 6);
    assert_int_equal(frame[0], 0xAA);
    assert_int_equal(frame[1], 0x00);
    assert_int_equal(frame[2], 0x03);
    assert_int_equal(frame[3], 0x00);
    assert_int_equal(tinybms_reply_len(&rd, frame, 3), 6);
    assert_int_equal(tinybms_reply_decode(&rd, frame, 6, NULL, &err), -EREMOTEIO);
    assert_int_equal(err, 0);
    /* an error reply about another command is not the answer */
    struct tinybms_req wr = { .fc = TINYBMS_FC_WRITE, .addr = 300, .count = 1 };
    assert_int_equal(tinybms_reply_len(&wr, frame, 3), -EBADMSG);

    struct tinybms_req ctl = { .fc = TINYBMS_CMD_CONTROL, .option = TINYBMS_RESET };
    assert_int_equal(tinybms_ack_reply(TINYBMS_CMD_CONTROL, frame, 8), 5);
    assert_int_equal(tinybms_reply_len(&ctl, frame, 2), 5);
    assert_int_equal(tinybms_reply_decode(&ctl, frame, 5, NULL, NULL), 0);
    /* an ACK is no answer to a read */
    assert_int_equal(tinybms_reply_len(&rd, frame, 5), -EBADMSG);
}

static void test_resync_skips_garbage(void **state)
{
    (void)state;
    struct tinybms_req rd = { .fc = TINYBMS_FC_READ, .addr = 5, .count = 5 };
    uint8_t stream[64];
    const char ascii[] = "V=53.1 I=-2.0\r\n";
    size_t n = 0;
    memcpy(stream, ascii, sizeof(ascii) - 1);
    n += sizeof(ascii) - 1;
    stream[n++] = 0xAA; /* a stray 0xAA followed by a wrong byte count */
    stream[n++] = 0x03;
    stream[n++] = 0x20;
    memcpy(stream + n, read_5_reply, sizeof(read_5_reply));
    n += sizeof(read_5_reply);
    size_t off = 0;
    int len;
    while ((len = tinybms_reply_len(&rd, stream + off, n - off)) < 0)
        off++;
    assert_int_equal(off, sizeof(ascii) - 1 + 3);
    assert_int_equal(len, (int)sizeof(read_5_reply));
    uint16_t regs[5];
    assert_int_equal(tinybms_reply_decode(&rd, stream + off, (size_t)len, regs, NULL), 0);
}

static void test_scan_garbage_corrupt_then_reply(void **state)
{
    (void)state;
    struct tinybms_req rd = { .fc = TINYBMS_FC_READ, .addr = 5, .count = 5 };
    uint8_t buf[128];
    size_t n = 0, at = 0, len = 0;
    uint16_t regs[5];
    const char ascii[] = "SOC=80\r\n";
    memcpy(buf, ascii, sizeof(ascii) - 1);
    n += sizeof(ascii) - 1;
    memcpy(buf + n, read_5_reply, sizeof(read_5_reply)); /* a corrupt copy first */
    buf[n + 4] ^= 0xFF;
    n += sizeof(read_5_reply);
    struct tinybms_scan s = { 0 };
    assert_int_equal(tinybms_reply_scan(&s, &rd, buf, n, &at, &len, regs, NULL),
                     TINYBMS_SCAN_CORRUPT);
    assert_int_equal(at, sizeof(ascii) - 1);
    assert_int_equal(len, sizeof(read_5_reply));
    assert_int_equal(tinybms_reply_scan(&s, &rd, buf, n, &at, &len, regs, NULL), TINYBMS_SCAN_MORE);
    memcpy(buf + n, read_5_reply, 7); /* the good reply arrives in two parts */
    n += 7;
    assert_int_equal(tinybms_reply_scan(&s, &rd, buf, n, &at, &len, regs, NULL), TINYBMS_SCAN_MORE);
    memcpy(buf + n, read_5_reply + 7, sizeof(read_5_reply) - 7);
    n += sizeof(read_5_reply) - 7;
    assert_int_equal(tinybms_reply_scan(&s, &rd, buf, n, &at, &len, regs, NULL), 0);
    assert_int_equal(at, sizeof(ascii) - 1 + sizeof(read_5_reply));
    assert_int_equal(regs[0], 0x9740);
    assert_int_equal(s.garbage, sizeof(ascii) - 1 + sizeof(read_5_reply));

    uint8_t nack[6];
    struct tinybms_scan s2 = { 0 };
    tinybms_error_reply(TINYBMS_FC_READ, 0, nack, sizeof(nack));
    uint8_t err = 9;
    assert_int_equal(tinybms_reply_scan(&s2, &rd, nack, sizeof(nack), &at, &len, regs, &err),
                     -EREMOTEIO);
    assert_int_equal(err, 0);
}

static void test_slave_side(void **state)
{
    (void)state;
    struct tinybms_req req;
    uint16_t vals[TINYBMS_WRITE_MAX];
    assert_int_equal(tinybms_request_len(read_5_at_5, 2), 8);
    assert_int_equal(tinybms_request_decode(read_5_at_5, 8, &req, vals), 0);
    assert_int_equal(req.fc, 3);
    assert_int_equal(req.addr, 5);
    assert_int_equal(req.count, 5);

    assert_int_equal(tinybms_request_len(write_315, 6), 0);
    assert_int_equal(tinybms_request_len(write_315, 7), (int)sizeof(write_315));
    assert_int_equal(tinybms_request_decode(write_315, sizeof(write_315), &req, vals), 0);
    assert_int_equal(req.count, 2);
    assert_int_equal(req.values[0], 4200);
    assert_int_equal(req.values[1], 2500);

    uint8_t bad[sizeof(write_315)];
    memcpy(bad, write_315, sizeof(bad));
    bad[8] ^= 0x40;
    assert_int_equal(tinybms_request_decode(bad, sizeof(bad), &req, vals), -EILSEQ);

    const uint8_t junk[] = { 'x', 0xAA };
    assert_int_equal(tinybms_request_len(junk, 2), -EBADMSG);
    const uint8_t unknown[] = { 0xAA, 0x55, 0x00 };
    assert_int_equal(tinybms_request_len(unknown, 3), -ENOTSUP);
    const uint8_t version[] = { 0xAA, 0x1E, 0x00, 0x00 };
    assert_int_equal(tinybms_request_len(version, 2), 4);

    uint16_t regs[5] = { 0x9740, 0x9740, 0x972C, 0x972C, 0x972C };
    uint8_t out[32];
    assert_int_equal(tinybms_read_reply(regs, 5, out, sizeof(out)), sizeof(read_5_reply));
    assert_memory_equal(out, read_5_reply, sizeof(read_5_reply));
    assert_int_equal(tinybms_read_reply(regs, 5, out, 10), 0);
}

static void test_wire_time(void **state)
{
    (void)state;
    /* the spec's floor for one 56-register read: 125 bytes -> 10.9 ms */
    assert_int_equal(tinybms_wire_us(8 + 117), 10851);
    assert_int_equal(tinybms_wire_us(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_golden),
        cmocka_unit_test(test_encode_requests),
        cmocka_unit_test(test_request_limits),
        cmocka_unit_test(test_decode_read_reply),
        cmocka_unit_test(test_decode_write_reply),
        cmocka_unit_test(test_error_and_ack_replies),
        cmocka_unit_test(test_resync_skips_garbage),
        cmocka_unit_test(test_scan_garbage_corrupt_then_reply),
        cmocka_unit_test(test_slave_side),
        cmocka_unit_test(test_wire_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
