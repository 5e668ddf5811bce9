/* SPDX-License-Identifier: MIT */
/* tinybms_sim_io.c — the simulated TinyBMS on a serial device or a PTY of its own: framing,
 * wire faults, physics ticks, the control socket and the scenario timeline. */
#include "bmsgw/tinybms_sim.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bmsgw/clock.h"
#include "bmsgw/tinybms_rtu.h"
#include "sim_io.h"

#define TICK_MS       100 /* the BMS samples every 100 ms */
#define RX_STALE_US   50000
#define MAX_PENDING   4
#define GARBAGE_EVERY 200000 /* us between unsolicited ASCII lines while garbage is on */

struct pending {
    uint8_t buf[TINYBMS_FRAME_MAX + 64];
    size_t len;
    int64_t due_us;
};

struct sim_io {
    const struct tinybms_sim_opts *o;
    struct tinybms_sim sim;
    struct sim_port port;
    struct sim_control ctl;
    struct sim_scenario scen;
    int timer_fd;
    int64_t t0_us, last_step_us;
    uint8_t rx[1024];
    size_t rx_len;
    int64_t rx_last_us;
    struct pending out[MAX_PENDING];
    unsigned n_out;
    int64_t reappear_us;
    int64_t next_broadcast_us;
    int64_t next_garbage_us;
    uint64_t rng;
};

static int exec_line(void *ctx, const char *line, char *reply, size_t size)
{
    return tinybms_sim_control(ctx, line, reply, size);
}

static double rand01(struct sim_io *io)
{
    return battery_rand_uniform(&io->rng);
}

static void queue_out(struct sim_io *io, const uint8_t *data, size_t len, int64_t due_us)
{
    if (io->n_out >= MAX_PENDING || len > sizeof(io->out[0].buf))
        return; /* a master that floods a late BMS loses replies, as on a real line */
    struct pending *p = &io->out[io->n_out++];
    memcpy(p->buf, data, len);
    p->len = len;
    p->due_us = due_us;
}

static void flush_due(struct sim_io *io, int64_t now_us)
{
    unsigned keep = 0;
    for (unsigned i = 0; i < io->n_out; i++) {
        struct pending *p = &io->out[i];
        if (p->due_us > now_us) {
            io->out[keep++] = *p;
            continue;
        }
        if (sim_port_write(&io->port, p->buf, p->len) == 0 && p->buf[0] == TINYBMS_SLAVE) {
            io->sim.stats.replies++;
            if (io->o->on_reply)
                io->o->on_reply(io->o->ctx, p->buf, p->len, clock_mono_us());
        }
    }
    io->n_out = keep;
}

/* Junk that is not a TinyBMS frame: bytes without 0xAA and an ASCII line. */
static size_t make_garbage(struct sim_io *io, uint8_t *out)
{
    size_t n = 0;
    unsigned k = 1 + (unsigned)(rand01(io) * 6);
    for (unsigned i = 0; i < k; i++) {
        uint8_t b = (uint8_t)(rand01(io) * 256);
        out[n++] = b == TINYBMS_SLAVE ? 0x55 : b;
    }
    n += (size_t)snprintf((char *)out + n, 48, "TinyBMS V=%.2f I=%.1f\r\n", io->sim.bat.pack_v,
                          io->sim.current_a);
    return n;
}

static void answer(struct sim_io *io, const uint8_t *frame, size_t len, int64_t now_us)
{
    uint8_t reply[TINYBMS_FRAME_MAX + 64];
    size_t n = tinybms_sim_handle(&io->sim, frame, len, reply, sizeof(reply));
    if (n == 0 || io->sim.io.noreply)
        return;
    if (io->sim.io.crc_prob > 0 && rand01(io) < io->sim.io.crc_prob)
        reply[n - 1] ^= 0x5A;
    int64_t due = now_us + (int64_t)io->sim.io.delay_ms * 1000;
    if (io->o->wire_time)
        due += tinybms_wire_us(len + n);
    if (io->sim.io.garbage) {
        uint8_t junk[80];
        size_t j = make_garbage(io, junk);
        queue_out(io, junk, j, due);
    }
    queue_out(io, reply, n, due);
}

static void process_rx(struct sim_io *io, int64_t now_us)
{
    while (io->rx_len > 0) {
        int len = tinybms_request_len(io->rx, io->rx_len);
        if (len == -EBADMSG) { /* not a frame start: resynchronise */
            memmove(io->rx, io->rx + 1, --io->rx_len);
            io->sim.stats.rx_garbage_bytes++;
            continue;
        }
        if (len == -ENOTSUP) { /* unknown command: its length is unknown, answer and drop */
            uint8_t reply[8];
            size_t n = tinybms_error_reply(io->rx[1], TINYBMS_ERR_COMMAND, reply, sizeof(reply));
            io->sim.stats.requests++;
            io->sim.stats.rejected++;
            queue_out(io, reply, n, now_us);
            io->rx_len = 0;
            break;
        }
        if (len == 0 || (size_t)len > io->rx_len)
            break;
        answer(io, io->rx, (size_t)len, now_us);
        memmove(io->rx, io->rx + len, io->rx_len - (size_t)len);
        io->rx_len -= (size_t)len;
    }
}

static void on_device(struct sim_io *io, int64_t now_us)
{
    ssize_t n = sim_port_read(&io->port, io->rx + io->rx_len, sizeof(io->rx) - io->rx_len);
    if (n == -EPIPE) { /* the other end went away (socat stopped): try again in a second */
        sim_port_close(&io->port);
        io->reappear_us = now_us + 1000000;
        return;
    }
    if (n <= 0)
        return;
    io->rx_len += (size_t)n;
    io->rx_last_us = now_us;
    process_rx(io, now_us);
    if (io->rx_len == sizeof(io->rx)) /* a flood of nonsense */
        io->rx_len = 0;
}

static const double broadcast_s[] = { 0, 0.1, 0.2, 0.5, 1, 2, 5, 10 };

static void broadcast(struct sim_io *io, int64_t now_us)
{
    unsigned code = io->sim.regs[342] & 0xFF;
    if (code == 0 || code > 7 || (io->sim.regs[343] & 0xFF) != 1) {
        io->next_broadcast_us = 0;
        return;
    }
    if (io->next_broadcast_us == 0)
        io->next_broadcast_us = now_us;
    if (now_us < io->next_broadcast_us)
        return;
    char line[96];
    int n = snprintf(line, sizeof(line), "V=%.2f I=%.2f SOC=%.2f T=%.1f\r\n", io->sim.bat.pack_v,
                     io->sim.current_a, io->sim.bat.est_soc_pct, io->sim.mosfet_c);
    queue_out(io, (const uint8_t *)line, (size_t)n, now_us);
    io->next_broadcast_us = now_us + (int64_t)(broadcast_s[code] * 1e6);
}

static void vanish_or_return(struct sim_io *io, int64_t now_us)
{
    if (io->sim.io.vanish_s > 0) {
        if (!io->o->quiet)
            fprintf(stderr, "bmsgw-sim tinybms: vanishing for %.1f s\n", io->sim.io.vanish_s);
        io->reappear_us = now_us + (int64_t)(io->sim.io.vanish_s * 1e6);
        io->sim.io.vanish_s = 0;
        sim_port_close(&io->port);
        io->n_out = 0;
        io->rx_len = 0;
    }
    if (io->reappear_us && now_us >= io->reappear_us) {
        io->reappear_us = 0;
        if (sim_port_open(&io->port, io->o->device) != 0)
            io->reappear_us = now_us + 1000000; /* not there yet: try again */
        else if (!io->o->quiet)
            fprintf(stderr, "bmsgw-sim tinybms: back on %s\n", io->port.name);
    }
}

static void on_tick(struct sim_io *io, int64_t now_us)
{
    uint64_t exp;
    if (read(io->timer_fd, &exp, sizeof(exp)) < 0) {
        /* EAGAIN: spurious wake-up */
    }
    double dt = (double)(now_us - io->last_step_us) / 1e6;
    io->last_step_us = now_us;
    tinybms_sim_step(&io->sim, dt);
    sim_scenario_run(&io->scen, (double)(now_us - io->t0_us) / 1e6, exec_line, &io->sim);
    if (io->rx_len && now_us - io->rx_last_us > RX_STALE_US) { /* a frame that never ended */
        io->sim.stats.rx_garbage_bytes += io->rx_len;
        io->rx_len = 0;
    }
    broadcast(io, now_us);
    if (io->sim.io.garbage && now_us >= io->next_garbage_us) {
        uint8_t junk[80];
        size_t j = make_garbage(io, junk);
        queue_out(io, junk, j, now_us);
        io->next_garbage_us = now_us + GARBAGE_EVERY;
    }
}

static int poll_timeout_ms(const struct sim_io *io, int64_t now_us)
{
    int64_t next = now_us + TICK_MS * 1000;
    for (unsigned i = 0; i < io->n_out; i++)
        if (io->out[i].due_us < next)
            next = io->out[i].due_us;
    if (io->reappear_us && io->reappear_us < next)
        next = io->reappear_us;
    int64_t ms = (next - now_us + 999) / 1000;
    return ms < 0 ? 0 : (int)ms;
}

static int io_setup(struct sim_io *io, const struct tinybms_sim_opts *o)
{
    int rc = tinybms_sim_init(&io->sim, &o->params);
    if (rc) {
        fprintf(stderr, "bmsgw-sim tinybms: cells must be 4..16 and the chemistry lfp or nmc\n");
        return rc;
    }
    io->sim.set_current_a = o->initial_current_a;
    io->sim.load = o->initial_random ? SIM_LOAD_RANDOM : SIM_LOAD_CONSTANT;
    tinybms_sim_step(&io->sim, 0); /* the registers show the load from the first answer on */
    io->sim.sleep_enabled = o->sleep;
    if (o->max_read)
        io->sim.max_read = o->max_read;
    if (o->sleep_after_s > 0)
        io->sim.sleep_after_s = o->sleep_after_s;
    if (o->broadcast) {
        io->sim.regs[342] = 4; /* every second */
        io->sim.regs[343] = 1; /* ASCII */
    }
    io->rng = o->params.seed ? o->params.seed : 1;
    if ((rc = sim_scenario_load(&io->scen, o->scenario)) != 0)
        return rc;
    if ((rc = sim_port_open(&io->port, o->device)) != 0) {
        fprintf(stderr, "bmsgw-sim tinybms: cannot open %s: %s\n", o->device, strerror(-rc));
        return rc;
    }
    if ((rc = sim_control_open(&io->ctl, o->control)) != 0)
        return rc;
    io->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
                              .it_value = { 0, TICK_MS * 1000000L } };
    if (io->timer_fd < 0 || timerfd_settime(io->timer_fd, 0, &its, NULL) < 0)
        return -errno;
    io->t0_us = io->last_step_us = clock_mono_us();
    return 0;
}

static void io_teardown(struct sim_io *io)
{
    sim_port_close(&io->port);
    sim_control_close(&io->ctl);
    sim_scenario_free(&io->scen);
    if (io->timer_fd >= 0)
        close(io->timer_fd);
    tinybms_sim_free(&io->sim);
}

enum { FD_STOP = 0, FD_TIMER, FD_DEVICE, FD_FIXED };

int tinybms_sim_run(const struct tinybms_sim_opts *o, int stop_fd)
{
    struct sim_io *io = calloc(1, sizeof(*io));
    if (!io)
        return -ENOMEM;
    io->o = o;
    io->timer_fd = -1;
    io->port.fd = io->port.slave_fd = io->ctl.listen_fd = -1;
    int rc = io_setup(io, o);
    if (rc == 0 && !o->quiet)
        fprintf(stderr, "bmsgw-sim tinybms: %u cells %s on %s%s%s%s\n", o->params.cells,
                o->params.chemistry ? "nmc" : "lfp", io->port.name,
                io->port.own_pty ? " (PTY)" : "", o->control ? ", control " : "",
                o->control ? o->control : "");
    while (rc == 0) {
        struct pollfd pfd[FD_FIXED + SIM_CONTROL_MAX_FDS];
        pfd[FD_STOP] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
        pfd[FD_TIMER] = (struct pollfd){ .fd = io->timer_fd, .events = POLLIN };
        pfd[FD_DEVICE] = (struct pollfd){ .fd = io->port.fd, .events = POLLIN };
        unsigned n = FD_FIXED + sim_control_pollfds(&io->ctl, pfd + FD_FIXED);
        int64_t now = clock_mono_us();
        if (poll(pfd, n, poll_timeout_ms(io, now)) < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        now = clock_mono_us();
        if (pfd[FD_STOP].revents)
            break;
        if (pfd[FD_TIMER].revents & POLLIN)
            on_tick(io, now);
        if (io->port.fd >= 0 && (pfd[FD_DEVICE].revents & (POLLIN | POLLHUP | POLLERR)))
            on_device(io, now);
        sim_control_handle(&io->ctl, pfd + FD_FIXED, n - FD_FIXED, exec_line, &io->sim);
        vanish_or_return(io, now);
        flush_due(io, clock_mono_us());
    }
    io_teardown(io);
    free(io);
    return rc;
}
