/* SPDX-License-Identifier: MIT */
/* test-mbtcp-server.c — the epoll server over loopback: framing, timeouts, limits, data flow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bmsgw/clock.h"
#include "bmsgw/mbmap_maps.h"
#include "bmsgw/mbtcp.h"

/* How long a test waits for something the server must do before it fails: a give-up limit on a
 * busy machine, never what a test measures. */
#define GIVE_UP_MS 30000
/* The stall tests' frame timeout; the others get one no pause of this process reaches. */
#define STALL_MS 300

/* ---- a provider whose data the test changes ------------------------------------------------ */

struct prov {
    _Atomic int soc_pct;
    _Atomic bool stale;
    _Atomic int loads;
    _Atomic int writes;
    _Atomic int64_t valid_for_ms;
    struct mbmap_testpattern tp; /* server thread only */
};

static void p_load(void *ctx, int kind, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    struct prov *p = ctx;
    atomic_fetch_add(&p->loads, 1);
    info->stale = atomic_load(&p->stale);
    int64_t v = atomic_load(&p->valid_for_ms);
    info->valid_until_ms = v ? now_ms + v : 0;
    if (kind == MBMAP_MEGA) {
        struct mbmap_mega_src *m = src;
        m->soc_pct = atomic_load(&p->soc_pct);
        m->cell_mv[0] = 3300;
    } else if (kind == MBMAP_TESTPATTERN) {
        mbmap_testpattern_source(&p->tp, 1704067200, src);
    }
}

static int p_write(void *ctx, int kind, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    (void)now_ms;
    struct prov *p = ctx;
    atomic_fetch_add(&p->writes, (int)n);
    return kind == MBMAP_TESTPATTERN ? mbmap_testpattern_write(&p->tp, w, n)
                                     : MBMAP_EX_DEVICE_FAILURE;
}

struct fix {
    struct prov p;
    struct mbtcp_server *srv;
    struct mbtcp_server_cfg cfg;
    int port[2];
};

static void fix_start(struct fix *f)
{
    struct mbtcp_provider pv = { .load = p_load, .write = p_write, .ctx = &f->p };
    f->srv = mbtcp_server_new(&f->cfg, &pv);
    assert_non_null(f->srv);
    assert_int_equal(mbtcp_server_listen(f->srv), f->cfg.n_listeners);
    for (unsigned i = 0; i < f->cfg.n_listeners; i++)
        f->port[i] = mbtcp_server_port(f->srv, i);
    assert_int_equal(mbtcp_server_start(f->srv, NULL, NULL), 0);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    mbmap_testpattern_init(&f->p.tp, clock_mono_ms());
    atomic_store(&f->p.soc_pct, 50);
    f->cfg = (struct mbtcp_server_cfg){
        .bind = "127.0.0.1",
        .max_connections = 8,
        .policy = { .idle_timeout_ms = 10 * GIVE_UP_MS, .frame_timeout_ms = 10 * GIVE_UP_MS },
        .n_listeners = 2,
        .listeners = { { .kind = MBMAP_MEGA, .port = -1 },
                       { .kind = MBMAP_TESTPATTERN, .port = -1, .unit_id = 5 } },
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    mbtcp_server_free(f->srv);
    free(f);
    return 0;
}

/* ---- a small blocking client --------------------------------------------------------------- */

static int cli_connect(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct timeval tv = { .tv_sec = GIVE_UP_MS / 1000 };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* A request frame: transaction id, unit, PDU. Returns its length. */
static size_t frame(uint8_t *out, unsigned tid, unsigned unit, const uint8_t *pdu, size_t len)
{
    out[0] = (uint8_t)(tid >> 8);
    out[1] = (uint8_t)tid;
    out[2] = out[3] = 0;
    out[4] = (uint8_t)((len + 1) >> 8);
    out[5] = (uint8_t)(len + 1);
    out[6] = (uint8_t)unit;
    memcpy(out + 7, pdu, len);
    return 7 + len;
}

static void send_all(int fd, const uint8_t *b, size_t n)
{
    assert_int_equal(send(fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void recv_all(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, b + got, n - got, 0);
        assert_true(r > 0);
        got += (size_t)r;
    }
}

/* Read one answer; returns its PDU length, the PDU at pdu, checks the transaction id (16 bits on
 * the wire: a counter of requests past 65535 is compared modulo 2^16, as frame() sends it). */
static size_t cli_answer(int fd, unsigned tid, uint8_t *pdu)
{
    uint8_t h[7];
    recv_all(fd, h, 7);
    assert_int_equal(h[0] << 8 | h[1], tid & 0xFFFFu);
    assert_int_equal(h[2] | h[3], 0);
    size_t n = (size_t)(h[4] << 8 | h[5]) - 1;
    recv_all(fd, pdu, n);
    return n;
}

static size_t cli_ask(int fd, unsigned tid, unsigned unit, const uint8_t *req, size_t len,
                      uint8_t *pdu)
{
    uint8_t buf[300];
    send_all(fd, buf, frame(buf, tid, unit, req, len));
    return cli_answer(fd, tid, pdu);
}

/* True when the server closes fd within timeout_ms. */
static bool cli_closed(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    uint8_t b[64];
    int64_t end = clock_mono_ms() + timeout_ms;
    while (clock_mono_ms() < end) {
        if (poll(&p, 1, (int)(end - clock_mono_ms())) <= 0)
            continue;
        ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
    }
    return false;
}

static const uint8_t read_soc[] = { 0x03, 0x03, 0xE8, 0x00, 0x02 };

/* ---- tests --------------------------------------------------------------------------------- */

static void test_split_frames_and_pipelining(void **state)
{
    struct fix *f = *state;
    uint8_t buf[4096], pdu[260];
    fix_start(f);
    int fd = cli_connect(f->port[0]);
    size_t n = frame(buf, 0x1234, 1, read_soc, sizeof(read_soc));
    for (size_t i = 0; i < n; i++) /* one byte per segment */
        send_all(fd, buf + i, 1);
    assert_int_equal(cli_answer(fd, 0x1234, pdu), 6);
    assert_memory_equal(pdu, ((uint8_t[]){ 0x03, 0x04, 0x00, 0x00, 0x13, 0x88 }), 6);
    /* 100 requests in one write, answered in order */
    size_t len = 0;
    for (unsigned k = 0; k < 100; k++)
        len += frame(buf + len, k, 1, (const uint8_t[]){ 0x03, 0x03, 0xF2, 0x00, 0x7D }, 5);
    send_all(fd, buf, len);
    for (unsigned k = 0; k < 100; k++) {
        assert_int_equal(cli_answer(fd, k, pdu), 252);
        assert_int_equal(pdu[2] << 8 | pdu[3], 3300); /* cell 1 */
    }
    /* a request counter past 65535 goes out modulo 2^16 and comes back so */
    assert_int_equal(cli_ask(fd, 0x1FFFE, 1, read_soc, sizeof(read_soc), pdu), 6);
    assert_int_equal(cli_ask(fd, 0x20001, 1, read_soc, sizeof(read_soc), pdu), 6);
    close(fd);
}

static void test_unit_id(void **state)
{
    struct fix *f = *state;
    uint8_t pdu[260];
    fix_start(f);
    int fd = cli_connect(f->port[1]);
    const uint8_t rq[] = { 0x03, 0x00, 0x65, 0x00, 0x01 };
    assert_int_equal(cli_ask(fd, 1, 5, rq, sizeof(rq), pdu), 4);
    assert_int_equal(pdu[3], 1); /* uint16 at 101 = 1 + t (t = 0) */
    assert_int_equal(cli_ask(fd, 2, 6, rq, sizeof(rq), pdu), 2);
    assert_memory_equal(pdu, ((uint8_t[]){ 0x83, 0x0B }), 2);
    close(fd);
    fd = cli_connect(f->port[0]); /* unit_id 0: any unit id */
    assert_int_equal(cli_ask(fd, 3, 77, read_soc, sizeof(read_soc), pdu), 6);
    close(fd);
}

static void test_invalid_header_closes(void **state)
{
    struct fix *f = *state;
    fix_start(f);
    int fd = cli_connect(f->port[0]);
    send_all(fd, (const uint8_t[]){ 0, 1, 0, 7, 0, 6, 1, 3, 0, 0, 0, 1 }, 12); /* protocol 7 */
    assert_true(cli_closed(fd, GIVE_UP_MS));
    close(fd);
    fd = cli_connect(f->port[0]);
    send_all(fd, (const uint8_t[]){ 0, 1, 0, 0, 1, 0 }, 6); /* length 256 */
    assert_true(cli_closed(fd, GIVE_UP_MS));
    close(fd);
    struct mbtcp_stats st;
    mbtcp_server_stats(f->srv, &st);
    assert_int_equal(st.closed_error, 2);
}

/* A client that sends half a frame and stalls is dropped; the others are served meanwhile. */
static void test_stalled_client_dropped(void **state)
{
    struct fix *f = *state;
    uint8_t pdu[260];
    f->cfg.policy.frame_timeout_ms = STALL_MS;
    fix_start(f);
    int slow = cli_connect(f->port[0]);
    int64_t t0 = clock_mono_ms(); /* before the server can see the half frame */
    send_all(slow, (const uint8_t[]){ 0, 1, 0, 0, 0, 6, 1, 3 }, 8);
    int fast = cli_connect(f->port[0]);
    for (unsigned k = 0; k < 50; k++)
        assert_int_equal(cli_ask(fast, k, 1, read_soc, sizeof(read_soc), pdu), 6);
    assert_true(cli_closed(slow, GIVE_UP_MS));
    assert_true(clock_mono_ms() - t0 >= STALL_MS - 50); /* not before frame_timeout_ms */
    assert_int_equal(cli_ask(fast, 99, 1, read_soc, sizeof(read_soc), pdu), 6);
    struct mbtcp_stats st;
    mbtcp_server_stats(f->srv, &st);
    assert_int_equal(st.closed_stall, 1);
    close(slow);
    close(fast);
}

/* A client that never reads its answers fills its queue and is dropped, not waited for. */
static void test_client_not_reading_dropped(void **state)
{
    struct fix *f = *state;
    uint8_t buf[80 * 12], pdu[260];
    int small = 4096;
    f->cfg.policy.frame_timeout_ms = STALL_MS;
    fix_start(f);
    int hog = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(hog, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)); /* before the handshake */
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)f->port[0]),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(connect(hog, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t len = 0;
    for (unsigned k = 0; k < 80; k++)
        len += frame(buf + len, k, 1, (const uint8_t[]){ 0x03, 0x03, 0xF2, 0x00, 0x7D }, 5);
    int fast = cli_connect(f->port[0]);
    struct mbtcp_stats st = { 0 };
    unsigned round = 0;
    for (int64_t end = clock_mono_ms() + GIVE_UP_MS; clock_mono_ms() < end && !st.closed_stall;) {
        while (send(hog, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
            ; /* until the server stops reading from it */
        assert_int_equal(cli_ask(fast, round++, 1, read_soc, sizeof(read_soc), pdu), 6);
        mbtcp_server_stats(f->srv, &st);
    }
    assert_int_equal(st.closed_stall, 1);
    assert_true(cli_closed(hog, GIVE_UP_MS));
    close(hog);
    close(fast);
}

static void test_idle_timeout(void **state)
{
    struct fix *f = *state;
    f->cfg.policy.idle_timeout_ms = 200;
    fix_start(f);
    int fd = cli_connect(f->port[0]);
    assert_true(cli_closed(fd, GIVE_UP_MS));
    struct mbtcp_stats st;
    mbtcp_server_stats(f->srv, &st);
    assert_int_equal(st.closed_idle, 1);
    close(fd);
}

static void test_connection_limit(void **state)
{
    struct fix *f = *state;
    uint8_t pdu[260];
    int fd[4];
    f->cfg.max_connections = 3;
    fix_start(f);
    for (unsigned i = 0; i < 3; i++) {
        fd[i] = cli_connect(f->port[i % 2]);
        cli_ask(fd[i], i, 5, read_soc, sizeof(read_soc), pdu); /* the limit covers every map */
    }
    fd[3] = cli_connect(f->port[0]);
    assert_true(cli_closed(fd[3], GIVE_UP_MS));
    close(fd[3]);
    close(fd[0]);
    struct mbtcp_stats st;
    for (int64_t end = clock_mono_ms() + GIVE_UP_MS; clock_mono_ms() < end; clock_sleep_ms(5)) {
        mbtcp_server_stats(f->srv, &st);
        if (st.connections == 2)
            break;
    }
    assert_int_equal(st.connections, 2); /* the server saw the close */
    fd[0] = cli_connect(f->port[0]);     /* room again */
    assert_int_equal(cli_ask(fd[0], 9, 1, read_soc, sizeof(read_soc), pdu), 6);
    mbtcp_server_stats(f->srv, &st);
    assert_int_equal(st.rejected, 1);
    for (unsigned i = 0; i < 3; i++)
        close(fd[i]);
}

static void test_one_generation_per_image(void **state)
{
    struct fix *f = *state;
    uint8_t pdu[260];
    fix_start(f);
    int fd = cli_connect(f->port[0]);
    cli_ask(fd, 1, 1, read_soc, sizeof(read_soc), pdu);
    assert_int_equal(pdu[4] << 8 | pdu[5], 5000);
    atomic_store(&f->p.soc_pct, 60); /* not announced: the image stays */
    cli_ask(fd, 2, 1, read_soc, sizeof(read_soc), pdu);
    assert_int_equal(pdu[4] << 8 | pdu[5], 5000);
    mbtcp_server_data_changed(f->srv);
    cli_ask(fd, 3, 1, read_soc, sizeof(read_soc), pdu);
    assert_int_equal(pdu[4] << 8 | pdu[5], 6000);
    int loads = atomic_load(&f->p.loads);
    for (unsigned k = 0; k < 20; k++)
        cli_ask(fd, 4, 1, read_soc, sizeof(read_soc), pdu);
    assert_int_equal(atomic_load(&f->p.loads), loads); /* answered from the image */
    close(fd);
}

static void test_valid_until_and_stale(void **state)
{
    struct fix *f = *state;
    uint8_t pdu[260];
    atomic_store(&f->p.valid_for_ms, 50);
    fix_start(f);
    int fd = cli_connect(f->port[0]);
    cli_ask(fd, 1, 1, read_soc, sizeof(read_soc), pdu);
    atomic_store(&f->p.stale, true); /* becomes visible when the image expires */
    clock_sleep_ms(60);
    assert_int_equal(cli_ask(fd, 2, 1, read_soc, sizeof(read_soc), pdu), 2);
    assert_memory_equal(pdu, ((uint8_t[]){ 0x83, 0x04 }), 2);
    struct mbtcp_policy pol = f->cfg.policy;
    pol.serve_stale = true;
    mbtcp_server_set_policy(f->srv, &pol);
    assert_int_equal(cli_ask(fd, 3, 1, read_soc, sizeof(read_soc), pdu), 6);
    close(fd);
}

static void test_writes_follow_the_policy(void **state)
{
    struct fix *f = *state;
    uint8_t pdu[260];
    const uint8_t set = 0x05, coil[] = { set, 0x00, 0x65, 0xFF, 0x00 }; /* coil 101 on */
    const uint8_t rd[] = { 0x01, 0x00, 0x65, 0x00, 0x01 };
    fix_start(f);
    int fd = cli_connect(f->port[1]);
    assert_int_equal(cli_ask(fd, 1, 5, coil, sizeof(coil), pdu), 2);
    assert_memory_equal(pdu, ((uint8_t[]){ 0x85, 0x01 }), 2);
    assert_int_equal(atomic_load(&f->p.writes), 0);
    struct mbtcp_policy pol = f->cfg.policy;
    pol.allow_writes = true;
    mbtcp_server_set_policy(f->srv, &pol);
    assert_int_equal(cli_ask(fd, 2, 5, coil, sizeof(coil), pdu), 5);
    assert_memory_equal(pdu, coil, 5);
    assert_int_equal(cli_ask(fd, 3, 5, rd, sizeof(rd), pdu), 3);
    assert_int_equal(pdu[2], 1); /* the image was reloaded after the write */
    close(fd);
    fd = cli_connect(f->port[0]); /* the owner refuses: its exception goes out */
    const uint8_t ack[] = { 0x05, 0x00, 0x66, 0xFF, 0x00 };
    assert_int_equal(cli_ask(fd, 4, 1, ack, sizeof(ack), pdu), 2);
    assert_memory_equal(pdu, ((uint8_t[]){ 0x85, 0x04 }), 2);
    close(fd);
}

static void test_port_in_use(void **state)
{
    struct fix *f = *state;
    fix_start(f);
    struct mbtcp_server_cfg c2 = f->cfg;
    c2.n_listeners = 1;
    c2.listeners[0].port = f->port[0];
    struct mbtcp_provider pv = { .load = p_load, .ctx = &f->p };
    struct mbtcp_server *s2 = mbtcp_server_new(&c2, &pv);
    assert_non_null(s2);
    assert_int_equal(mbtcp_server_listen(s2), 0);
    assert_int_equal(mbtcp_server_port(s2, 0), -1);
    assert_non_null(strstr(mbtcp_server_listener_error(s2, 0), "Address already in use"));
    mbtcp_server_free(s2);
    c2.listeners[0].kind = 99;
    assert_null(mbtcp_server_new(&c2, &pv));
}

/* Without a thread: a socket pair adopted and the loop stepped by hand (the fuzzer's way). */
static void test_adopt_and_poll(void **state)
{
    struct fix *f = *state;
    struct mbtcp_provider pv = { .load = p_load, .ctx = &f->p };
    int sv[2];
    uint8_t buf[300];
    f->srv = mbtcp_server_new(&f->cfg, &pv);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(mbtcp_server_adopt(f->srv, sv[1], 0), 0);
    send_all(sv[0], buf, frame(buf, 7, 1, read_soc, sizeof(read_soc)));
    mbtcp_server_poll(f->srv, 100);
    assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 13);
    close(sv[0]);
    mbtcp_server_poll(f->srv, 100);
    struct mbtcp_stats st;
    mbtcp_server_stats(f->srv, &st);
    assert_int_equal(st.connections, 0);
    assert_int_equal(mbtcp_server_adopt(f->srv, dup(STDIN_FILENO), 5), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_split_frames_and_pipelining, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_header_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_client_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_not_reading_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_generation_per_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_until_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_follow_the_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_and_poll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
