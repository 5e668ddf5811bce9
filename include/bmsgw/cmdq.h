/* SPDX-License-Identifier: MIT */
/* cmdq.h — a small request/reply queue into a service thread (e.g. TinyBMS settings writes). */
#ifndef BMSGW_CMDQ_H
#define BMSGW_CMDQ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A caller fills a struct cmdq_req on its own stack and calls cmdq_call(), which blocks until
 * the owning thread completed it or the timeout passed. A request still waiting in the queue when
 * the timeout passes is withdrawn (-ETIMEDOUT, never executed later); one already taken by the
 * owner is waited for, since the owner bounds its own I/O. The owner waits on cmdq_fd() (an
 * eventfd, readable while requests are pending) and uses cmdq_take()/cmdq_complete().
 */

struct cmdq_req {
    /* filled by the caller */
    int op;         /* meaning defined by the owner (e.g. enum bms_cmd_op) */
    int32_t arg[4]; /* op arguments */
    /* filled by the owner */
    int result;     /* 0 or -errno */
    int32_t out[4]; /* op results (e.g. the read-back value) */
    char msg[160];  /* a human-readable reason when result != 0 */
    /* private */
    struct cmdq_req *next;
    bool taken;
    bool done;
};

struct cmdq;

/* capacity bounds the number of queued requests. NULL on failure. */
struct cmdq *cmdq_new(unsigned capacity);
void cmdq_free(struct cmdq *q);

/* Returns the request's result, -EAGAIN when the queue is full, -ETIMEDOUT (request withdrawn),
 * or -ESHUTDOWN when the owner is gone. */
int cmdq_call(struct cmdq *q, struct cmdq_req *req, int timeout_ms);

/* Owner side. The fd is readable while requests are pending. */
int cmdq_fd(struct cmdq *q);
struct cmdq_req *cmdq_take(struct cmdq *q); /* NULL when empty */
void cmdq_complete(struct cmdq *q, struct cmdq_req *req);

/* Owner stops: pending and future requests fail with -ESHUTDOWN. */
void cmdq_shutdown(struct cmdq *q);
/* Owner restarts serving after cmdq_shutdown. */
void cmdq_reopen(struct cmdq *q);

#endif
