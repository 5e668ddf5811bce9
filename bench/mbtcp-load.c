/* SPDX-License-Identifier: MIT */
/* mbtcp-load.c — Modbus TCP load client for the benchmark: N connections in a closed loop of
 * FC3 reads, optionally M idle connections held open beside them; prints one JSON line. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HIST_US 200000 /* latencies up to 200 ms in 1 us buckets, beyond counted in the last */

struct conn {
    int fd;
    uint16_t tid;
    int64_t sent_ns;
    size_t have;
    uint8_t buf[300];
};

struct opts {
    const char *host;
    int port;
    int conns;
    int idle;
    double seconds;
    double warmup;
    unsigned addr;
    unsigned qty;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int connect_to(const struct opts *o)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || inet_pton(AF_INET, o->host, &a.sin_addr) != 1)
        return -1;
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect() */
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int send_request(const struct opts *o, struct conn *c)
{
    uint8_t f[12] = { (uint8_t)(c->tid >> 8),
                      (uint8_t)c->tid,
                      0,
                      0,
                      0,
                      6,
                      1,
                      0x03,
                      (uint8_t)(o->addr >> 8),
                      (uint8_t)o->addr,
                      0,
                      (uint8_t)o->qty };
    c->sent_ns = now_ns();
    c->have = 0;
    return send(c->fd, f, sizeof(f), MSG_NOSIGNAL) == (ssize_t)sizeof(f) ? 0 : -1;
}

/* 1 when a whole, correct answer arrived; 0 when more is needed; -1 on error. */
static int read_answer(const struct opts *o, struct conn *c)
{
    size_t want = 9 + 2 * o->qty;
    ssize_t n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_DONTWAIT);
    if (n <= 0)
        return n < 0 && errno == EAGAIN ? 0 : -1;
    c->have += (size_t)n;
    if (c->have < want)
        return 0;
    bool ok = c->have == want && c->buf[0] == (uint8_t)(c->tid >> 8) &&
              c->buf[1] == (uint8_t)c->tid && c->buf[7] == 0x03 && c->buf[8] == 2 * o->qty;
    return ok ? 1 : -1;
}

static double percentile(const uint32_t *hist, uint64_t total, double p)
{
    uint64_t want = (uint64_t)(p * (double)total), seen = 0;
    for (unsigned i = 0; i < HIST_US; i++) {
        seen += hist[i];
        if (seen > want)
            return i;
    }
    return HIST_US;
}

static int run(const struct opts *o, int *idle_fd, struct conn *cs, uint32_t *hist)
{
    int ep = epoll_create1(EPOLL_CLOEXEC), errors = 0;
    uint64_t done = 0;
    for (int i = 0; i < o->conns; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cs[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0 || send_request(o, &cs[i]) < 0)
            return -1;
    }
    int64_t start = now_ns(), measure = start + (int64_t)(o->warmup * 1e9),
            end = measure + (int64_t)(o->seconds * 1e9);
    struct epoll_event evs[256];
    for (int64_t t = start; t < end; t = now_ns()) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;
            int r = read_answer(o, c);
            if (r == 0)
                continue;
            int64_t at = now_ns();
            if (r > 0 && c->sent_ns >= measure && at < end) {
                int64_t us = (at - c->sent_ns) / 1000;
                hist[us < HIST_US ? us : HIST_US - 1]++;
                done++;
            }
            c->tid++;
            if (r < 0 || send_request(o, c) < 0) {
                errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
        }
    }
    int idle_alive = 0;
    for (int i = 0; i < o->idle; i++) {
        struct pollfd p = { .fd = idle_fd[i], .events = POLLIN | POLLRDHUP };
        idle_alive += poll(&p, 1, 0) == 0;
    }
    double secs = (double)(end - measure) / 1e9;
    printf("{\"conns\": %d, \"idle\": %d, \"idle_alive\": %d, \"requests\": %llu, "
           "\"seconds\": %.2f, \"rps\": %.0f, \"p50_us\": %.0f, \"p99_us\": %.0f, "
           "\"errors\": %d}\n",
           o->conns, o->idle, idle_alive, (unsigned long long)done, secs, (double)done / secs,
           percentile(hist, done, 0.50), percentile(hist, done, 0.99), errors);
    close(ep);
    return 0;
}

/* Returns 0, or 2 after printing the usage. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "host", 1, NULL, 'H' }, { "port", 1, NULL, 'p' },    { "conns", 1, NULL, 'c' },
        { "idle", 1, NULL, 'i' }, { "seconds", 1, NULL, 's' }, { "warmup", 1, NULL, 'w' },
        { "addr", 1, NULL, 'a' }, { "qty", 1, NULL, 'q' },     { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'H')
            o->host = optarg;
        else if (c == 's' || c == 'w')
            *(c == 's' ? &o->seconds : &o->warmup) = atof(optarg);
        else if (c == 'p' || c == 'c' || c == 'i')
            *(c == 'p' ? &o->port : c == 'c' ? &o->conns : &o->idle) = atoi(optarg);
        else if (c == 'a' || c == 'q')
            *(c == 'a' ? &o->addr : &o->qty) = (unsigned)atoi(optarg);
        else
            goto usage;
    }
    if (o->port > 0 && o->conns >= 1 && o->conns <= 4096 && o->idle >= 0 && o->idle <= 16384 &&
        o->qty >= 1 && o->qty <= 125 && o->seconds > 0 && o->seconds <= 60)
        return 0;
usage:
    fprintf(stderr, "usage: mbtcp-load --port N [--conns 1..4096] [--idle 0..16384] "
                    "[--seconds 0..60] [--warmup S] [--addr A] [--qty 1..125] [--host IPv4]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .host = "127.0.0.1", .conns = 1, .seconds = 5, .warmup = 0.5, .addr = 1010, .qty = 125
    };
    if (parse_args(argc, argv, &o))
        return 2;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* idle connections need descriptors */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int *idle_fd = calloc((size_t)o.idle + 1, sizeof(int));
    struct conn *cs = calloc((size_t)o.conns, sizeof(*cs));
    uint32_t *hist = calloc(HIST_US, sizeof(uint32_t));
    for (int i = 0; i < o.idle; i++)
        if ((idle_fd[i] = connect_to(&o)) < 0) {
            fprintf(stderr, "mbtcp-load: idle connection %d: %s\n", i, strerror(errno));
            return 1;
        }
    for (int i = 0; i < o.conns; i++)
        if ((cs[i].fd = connect_to(&o)) < 0) {
            fprintf(stderr, "mbtcp-load: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
    int rc = run(&o, idle_fd, cs, hist);
    for (int i = 0; i < o.idle; i++)
        close(idle_fd[i]);
    for (int i = 0; i < o.conns; i++)
        close(cs[i].fd);
    free(idle_fd);
    free(cs);
    free(hist);
    return rc ? 1 : 0;
}
