/* SPDX-License-Identifier: MIT */
/* fuzz-mbtcp.c — the Modbus TCP request path end to end: arbitrary bytes, split arbitrarily
 * across reads, into a real server over a socket pair. Never a crash, never a malformed or
 * unmatched answer, never a connection left behind. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmsgw/aggregate.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/mbpdu.h"
#include "bmsgw/mbtcp.h"
#include "bmsgw/mbtcp_service.h"
#include "bmsgw/snapshot.h"

#define MAX_FRAMES 4096

static struct mbtcp_server *srv;

static void setup(void)
{
    static struct bmsgw_config cfg;
    config_defaults(&cfg);
    struct snapshot *snap = snapshot_new();
    struct bmsgw_system *sys = snapshot_write_begin(snap);
    sys->string_count = 1;
    sys->cell_count = 16;
    sys->sensor_count = 2;
    sys->strings[0] = (struct bmsgw_string){ .online = true,
                                             .sample_ms = clock_mono_ms(),
                                             .cell_count = 16,
                                             .sensor_count = 2,
                                             .soc_pct = 50,
                                             .pack_v = 53 };
    for (unsigned c = 0; c < 16; c++)
        sys->cell_mv[c] = (uint16_t)(3300 + c);
    bmsgw_system_aggregate(sys, clock_mono_ms(), 3000);
    snapshot_write_commit(snap, clock_mono_ms());
    struct mbtcp_gateway *gw =
        mbtcp_gateway_new(snap, control_new(), config_store_new(&cfg, "/x"), clock_mono_ms());
    struct mbtcp_provider pv;
    mbtcp_gateway_provider(gw, &pv);
    struct mbtcp_server_cfg sc = {
        .bind = "127.0.0.1",
        .max_connections = 4,
        .simulator = true, /* every write path */
        .policy = { .allow_writes = true, .idle_timeout_ms = 60000, .frame_timeout_ms = 60000 },
        .n_listeners = 4,
        .listeners = { { .kind = MBMAP_MEGA },
                       { .kind = MBMAP_TESCOM, .unit_id = 7, .word_order = MBMAP_WORDS_CDAB },
                       { .kind = MBMAP_PACK12S },
                       { .kind = MBMAP_TESTPATTERN } },
    };
    srv = mbtcp_server_new(&sc, &pv);
    if (!srv)
        abort();
    log_set_level(LOG_ERR);
    signal(SIGPIPE, SIG_IGN);
}

struct request {
    uint8_t hdr[MBAP_HEADER_LEN];
    uint8_t pdu[MBPDU_MAX_LEN];
    size_t len;
};

/* The complete frames of what was sent, as the server must see them. */
static unsigned frames_of(const uint8_t *s, size_t n, struct request *out)
{
    unsigned k = 0;
    size_t off = 0;
    int len;
    while (k < MAX_FRAMES && (len = mbap_frame_len(s + off, n - off)) > 0) {
        memcpy(out[k].hdr, s + off, MBAP_HEADER_LEN);
        out[k].len = (size_t)len - MBAP_HEADER_LEN;
        memcpy(out[k].pdu, s + off + MBAP_HEADER_LEN, out[k].len);
        off += (size_t)len;
        k++;
    }
    return k;
}

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* The PDU a correct server may answer to req: checked field by field. */
static void check_answer(const struct request *req, const uint8_t *pdu, size_t n)
{
    uint8_t fc = req->pdu[0];
    if (n < 2 || (pdu[0] & 0x7F) != (fc & 0x7F))
        abort();
    if (pdu[0] & 0x80) {
        if (n != 2 || !(pdu[1] <= 4 || pdu[1] == 0x0B) || pdu[1] == 0)
            abort();
        return;
    }
    if (req->len < 5)
        abort(); /* a normal answer to a short request */
    unsigned qty = be16(req->pdu + 3);
    switch (fc) {
    case 0x01:
    case 0x02:
        if (n != 2 + (qty + 7) / 8 || pdu[1] != (qty + 7) / 8)
            abort();
        break;
    case 0x03:
    case 0x04:
        if (n != 2 + 2 * qty || pdu[1] != 2 * qty)
            abort();
        break;
    case 0x05:
    case 0x06:
    case 0x0F:
    case 0x10:
        if (n != 5 || memcmp(pdu, req->pdu, 5) != 0)
            abort();
        break;
    default:
        abort(); /* only these are ever answered normally */
    }
}

/* Read and check every answer available on fd; *next = index of the next expected request. */
static void drain(int fd, const struct request *reqs, unsigned nreq, unsigned *next, uint8_t *buf,
                  size_t *have)
{
    ssize_t r;
    while ((r = recv(fd, buf + *have, 65536 - *have, MSG_DONTWAIT)) > 0)
        *have += (size_t)r;
    size_t off = 0;
    int len;
    while ((len = mbap_frame_len(buf + off, *have - off)) > 0) {
        if (*next >= nreq || memcmp(buf + off, reqs[*next].hdr, 4) != 0 ||
            buf[off + 6] != reqs[*next].hdr[6])
            abort(); /* an answer nobody asked for, or out of order */
        check_answer(&reqs[*next], buf + off + MBAP_HEADER_LEN, (size_t)len - MBAP_HEADER_LEN);
        (*next)++;
        off += (size_t)len;
    }
    if (len < 0)
        abort(); /* a malformed answer header */
    memmove(buf, buf + off, *have - off);
    *have -= off;
}

static void pump(void)
{
    for (int i = 0; i < 64 && mbtcp_server_poll(srv, 0) > 0; i++)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: listener selector, then chunks of (length byte, bytes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct request reqs[MAX_FRAMES];
    static uint8_t sent[65536], buf[65536];
    int sv[2];
    size_t nsent = 0, have = 0, pos = 1;
    unsigned next = 0;
    if (!srv)
        setup();
    if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    if (mbtcp_server_adopt(srv, sv[1], data[0] % 4) < 0)
        abort();
    while (pos < size) {
        size_t n = data[pos++];
        if (n > size - pos)
            n = size - pos;
        if (n && nsent + n <= sizeof(sent) && send(sv[0], data + pos, n, MSG_NOSIGNAL) > 0) {
            memcpy(sent + nsent, data + pos, n);
            nsent += n;
        }
        pos += n;
        pump();
        unsigned nreq = frames_of(sent, nsent, reqs);
        drain(sv[0], reqs, nreq, &next, buf, &have);
    }
    close(sv[0]);
    pump();
    struct mbtcp_stats st;
    mbtcp_server_stats(srv, &st);
    if (st.connections != 0)
        abort(); /* the server kept a connection whose peer is gone */
    return 0;
}
