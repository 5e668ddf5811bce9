/* SPDX-License-Identifier: MIT */
/* ctl_link.c — the Modbus TCP master of bmsctl over libmodbus: connect, read, write, failures. */
#include "bmsgw/ctl_link.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <modbus/modbus.h>

struct ctl_link {
    struct ctl_link_cfg cfg;
    modbus_t *ctx;
    struct ctl_failure fail;
};

struct ctl_link *ctl_link_new(const struct ctl_link_cfg *cfg)
{
    struct ctl_link *l = calloc(1, sizeof(*l));
    if (l)
        l->cfg = *cfg;
    return l;
}

void ctl_link_free(struct ctl_link *l)
{
    if (!l)
        return;
    ctl_link_disconnect(l);
    free(l);
}

void ctl_link_disconnect(struct ctl_link *l)
{
    if (l->ctx) {
        modbus_close(l->ctx);
        modbus_free(l->ctx);
        l->ctx = NULL;
    }
}

static int fail(struct ctl_link *l, int fc, unsigned addr, unsigned qty, int err)
{
    l->fail = (struct ctl_failure){ .err = err, .fc = fc, .addr = addr, .qty = qty };
    if (err > MODBUS_ENOBASE && err <= EMBXGTAR) {
        l->fail.exception = err - MODBUS_ENOBASE;
        return CTL_LINK_EXCEPTION;
    }
    ctl_link_disconnect(l); /* a late or broken answer must not meet the next request */
    return err > 0 && err < MODBUS_ENOBASE ? -err : -EPROTO;
}

/* libmodbus (3.1.6) reports a host it cannot resolve as a refused connection: ask first. */
static int resolve(const char *host, const char *service)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc)
        return rc == EAI_SYSTEM ? -errno : -ENOENT;
    freeaddrinfo(res);
    return 0;
}

int ctl_link_connect(struct ctl_link *l)
{
    char service[16];
    if (l->ctx)
        return 0;
    snprintf(service, sizeof(service), "%d", l->cfg.port);
    int rc = resolve(l->cfg.host, service);
    if (rc) {
        l->fail = (struct ctl_failure){ .err = -rc };
        return rc;
    }
    l->ctx = modbus_new_tcp_pi(l->cfg.host, service);
    if (!l->ctx)
        return fail(l, 0, 0, 0, errno ? errno : ENOMEM);
    uint32_t to = (uint32_t)l->cfg.timeout_ms;
    modbus_set_response_timeout(l->ctx, to / 1000, (to % 1000) * 1000);
    modbus_set_byte_timeout(l->ctx, to / 1000, (to % 1000) * 1000);
    modbus_set_slave(l->ctx, l->cfg.unit);
    if (modbus_connect(l->ctx) != 0)
        return fail(l, 0, 0, 0, errno);
    return 0;
}

static int read_span(struct ctl_link *l, int table, struct mbmap_span s, struct ctl_image *img)
{
    int got;
    switch (table) {
    case MBMAP_REGS:
        got = modbus_read_registers(l->ctx, s.addr, s.qty, &img->regs[s.addr]);
        break;
    case MBMAP_COILS:
        got = modbus_read_bits(l->ctx, s.addr, s.qty, &img->bits[0][s.addr]);
        break;
    default:
        got = modbus_read_input_bits(l->ctx, s.addr, s.qty, &img->bits[1][s.addr]);
        break;
    }
    if (got == s.qty)
        return 0;
    int fc = table == MBMAP_REGS ? 3 : table == MBMAP_COILS ? 1 : 2;
    return fail(l, fc, s.addr, s.qty, got < 0 ? errno : EMBBADDATA);
}

int ctl_link_read(struct ctl_link *l, int table, const struct mbmap_span *spans, unsigned n,
                  struct ctl_image *img)
{
    int rc = ctl_link_connect(l);
    for (unsigned k = 0; rc == 0 && k < n; k++)
        rc = read_span(l, table, spans[k], img);
    return rc;
}

int ctl_link_write_coil(struct ctl_link *l, unsigned addr, bool on)
{
    int rc = ctl_link_connect(l);
    if (rc)
        return rc;
    if (modbus_write_bit(l->ctx, (int)addr, on) != 1)
        return fail(l, 5, addr, 1, errno);
    return 0;
}

int ctl_link_write_regs(struct ctl_link *l, unsigned addr, const uint16_t *regs, unsigned n)
{
    int rc = ctl_link_connect(l);
    if (rc)
        return rc;
    if (n == 1) {
        if (modbus_write_register(l->ctx, (int)addr, regs[0]) != 1)
            return fail(l, 6, addr, 1, errno);
    } else if (modbus_write_registers(l->ctx, (int)addr, (int)n, regs) != (int)n) {
        return fail(l, 16, addr, n, errno);
    }
    return 0;
}

const struct ctl_failure *ctl_link_failure(const struct ctl_link *l)
{
    return &l->fail;
}

/* "FC3 read of 125 registers at 1010-1134" */
static void request_text(const struct ctl_failure *f, char *buf, size_t size)
{
    bool bits = f->fc == 1 || f->fc == 2 || f->fc == 5 || f->fc == 15;
    const char *what = f->fc == 2 ? "discrete input" : bits ? "coil" : "register";
    const char *verb = f->fc <= 4 ? "read" : "write";
    if (f->qty == 1)
        snprintf(buf, size, "FC%d %s of %s %u", f->fc, verb, what, f->addr);
    else
        snprintf(buf, size, "FC%d %s of %u %ss at %u-%u", f->fc, verb, f->qty, what, f->addr,
                 f->addr + f->qty - 1);
}

const char *ctl_failure_text(const struct ctl_failure *f, int timeout_ms, char *buf, size_t size)
{
    char req[96] = "";
    if (f->fc)
        request_text(f, req, sizeof(req));
    if (f->exception) {
        snprintf(buf, size, "%s %u (%s)", mbmap_exception_name(f->exception), f->addr, req);
    } else if (f->err == ETIMEDOUT && f->fc) {
        snprintf(buf, size, "no answer within %d ms (%s)", timeout_ms, req);
    } else if (f->err == ETIMEDOUT || f->err == EINPROGRESS) {
        snprintf(buf, size, "no answer to the connection within %d ms", timeout_ms);
    } else if (f->err == ENOENT && !f->fc) {
        snprintf(buf, size, "unknown host");
    } else if (f->fc) {
        snprintf(buf, size, "%s (%s)", modbus_strerror(f->err), req);
    } else {
        snprintf(buf, size, "%s", modbus_strerror(f->err));
    }
    return buf;
}
