/* SPDX-License-Identifier: MIT */
/* tinybms_link.c — requests and replies of the TinyBMS framing on a serial BMS link, with its
 * wake-up rule. */
#include "tinybms_link.h"

#include <errno.h>
#include <modbus.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/bus.h"
#include "bmsgw/clock.h"

#define RX_BUF   (4 * TINYBMS_FRAME_MAX)
#define FRAME_US ((int64_t)tinybms_wire_us(TINYBMS_FRAME_MAX) + 2000) /* longest frame + gap */

static int send_frame(struct bms_link *l, const uint8_t *frame, size_t len)
{
    /* libmodbus appends the CRC (the same one) and drives RTS when configured */
    modbus_flush(l->ctx);
    int rc = modbus_send_raw_request(l->ctx, frame, (int)len - 2);
    if (rc != (int)len) {
        int err = errno;
        bool gone = err == EIO || err == ENXIO || err == ENODEV || err == EBADF;
        snprintf(l->error, sizeof(l->error), "%s (send: %s)",
                 gone ? "the serial device went away" : "send failed", strerror(err));
        return gone ? -ENODEV : -EIO;
    }
    l->n.requests++;
    bms_link_publish(l, BUS_DIR_TX, frame, len);
    return 0;
}

struct rx {
    uint8_t buf[RX_BUF];
    size_t n;
    size_t published; /* bytes up to here went to the bus */
    struct tinybms_scan scan;
    bool crc_seen;
};

/* Put what was skipped before a frame on the bus, then the frame itself. */
static void publish_rx(struct bms_link *l, struct rx *rx, size_t at, size_t len)
{
    if (at > rx->published)
        bms_link_publish(l, BUS_DIR_RX, rx->buf + rx->published, at - rx->published);
    bms_link_publish(l, BUS_DIR_RX, rx->buf + at, len);
    rx->published = at + len;
}

/* Look for the reply in what arrived. Returns TINYBMS_SCAN_MORE when nothing conclusive yet. */
static int scan(struct bms_link *l, struct rx *rx, const struct tinybms_req *req, uint16_t *regs,
                uint8_t *bms_err, int64_t *deadline_us)
{
    size_t at, len, skipped = rx->scan.garbage;
    int rc;
    while ((rc = tinybms_reply_scan(&rx->scan, req, rx->buf, rx->n, &at, &len, regs, bms_err)) ==
           TINYBMS_SCAN_CORRUPT) {
        publish_rx(l, rx, at, len);
        rx->crc_seen = true;
        /* a valid reply may still follow (the candidate was garbage): look on, briefly */
        int64_t quiet = clock_mono_us() + FRAME_US;
        if (quiet < *deadline_us)
            *deadline_us = quiet;
    }
    l->n.garbage_bytes += rx->scan.garbage - skipped;
    if (rc != TINYBMS_SCAN_MORE)
        publish_rx(l, rx, at, len);
    return rc;
}

static int receive(struct bms_link *l, const struct tinybms_req *req, size_t req_len,
                   uint16_t *regs, uint8_t *bms_err)
{
    static _Thread_local struct rx rx;
    memset(&rx.scan, 0, sizeof(rx.scan));
    rx.n = rx.published = 0;
    rx.crc_seen = false;
    int64_t deadline = clock_mono_us() + tinybms_wire_us(req_len + tinybms_reply_size(req)) +
                       (int64_t)l->turnaround_ms * 1000;
    for (;;) {
        int rc = scan(l, &rx, req, regs, bms_err, &deadline);
        if (rc != TINYBMS_SCAN_MORE)
            return rc;
        int64_t left_us = deadline - clock_mono_us();
        if (left_us <= 0)
            return rx.crc_seen ? -EILSEQ : -ETIMEDOUT;
        struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
        int pr = poll(&pfd, 1, (int)((left_us + 999) / 1000));
        if (pr < 0 && errno != EINTR)
            return -EIO;
        if (pr <= 0)
            continue;
        if (rx.scan.off > RX_BUF / 2) { /* keep room: drop what was scanned */
            size_t drop = rx.scan.off < rx.published ? rx.scan.off : rx.published;
            memmove(rx.buf, rx.buf + drop, rx.n - drop);
            rx.n -= drop;
            rx.scan.off -= drop;
            rx.published -= drop;
        }
        if (rx.n == RX_BUF) { /* a flood that holds no frame */
            rx.n = rx.published = rx.scan.off = 0;
        }
        ssize_t r = read(l->fd, rx.buf + rx.n, RX_BUF - rx.n);
        if (r > 0) {
            rx.n += (size_t)r;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            return -ENODEV; /* hang-up: the adapter is gone */
        }
    }
}

static int attempt(struct bms_link *l, const struct tinybms_req *req, const uint8_t *frame,
                   size_t len, uint16_t *regs, uint8_t *bms_err)
{
    int rc = send_frame(l, frame, len);
    if (rc)
        return rc;
    rc = receive(l, req, len, regs, bms_err);
    switch (rc) {
    case 0:
        break;
    case -ETIMEDOUT:
        l->n.timeouts++;
        snprintf(l->error, sizeof(l->error), "no reply within %d ms (+ wire time)",
                 l->turnaround_ms);
        break;
    case -EILSEQ:
        l->n.crc_errors++;
        snprintf(l->error, sizeof(l->error), "CRC error in the reply");
        break;
    case -EREMOTEIO:
        l->n.exceptions++;
        snprintf(l->error, sizeof(l->error), "BMS rejected the command (error code %u)",
                 bms_err ? *bms_err : 0);
        break;
    case -EPROTO:
        l->n.exceptions++;
        snprintf(l->error, sizeof(l->error), "the reply answers another request");
        break;
    case -ENODEV:
        snprintf(l->error, sizeof(l->error), "the serial device went away (hang-up)");
        break;
    default:
        snprintf(l->error, sizeof(l->error), "read failed: %s", strerror(-rc));
        break;
    }
    return rc;
}

int tinybms_link_request(struct bms_link *l, const struct tinybms_req *req, uint16_t *regs,
                         uint8_t *bms_err)
{
    uint8_t frame[TINYBMS_FRAME_MAX];
    uint8_t err = 0;
    if (!l->ctx)
        return -ENODEV;
    size_t len = tinybms_req_encode(req, frame, sizeof(frame));
    if (len == 0)
        return -EINVAL;
    int rc = attempt(l, req, frame, len, regs, &err);
    if (rc == -ETIMEDOUT || rc == -EILSEQ) {
        /* a late reply must not be taken for the next one: let it arrive, then flush; a
         * sleeping BMS answers the second command */
        clock_sleep_ms(FRAME_US / 1000 + 1);
        rc = attempt(l, req, frame, len, regs, &err);
    }
    if (bms_err)
        *bms_err = err;
    return rc;
}

int tinybms_link_read(struct bms_link *l, uint16_t addr, uint16_t count, uint16_t *regs)
{
    while (count > 0) {
        uint16_t n = count > TINYBMS_READ_MAX ? TINYBMS_READ_MAX : count;
        struct tinybms_req req = { .fc = TINYBMS_FC_READ, .addr = addr, .count = n };
        int rc = tinybms_link_request(l, &req, regs, NULL);
        if (rc)
            return rc;
        addr = (uint16_t)(addr + n);
        regs += n;
        count = (uint16_t)(count - n);
    }
    return 0;
}
