/* SPDX-License-Identifier: MIT */
/* cmdq.c — bounded request queue with an eventfd for the owner and a condvar for callers. */
#include "bmsgw/cmdq.h"

#include "bmsgw/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct cmdq {
    pthread_mutex_t lock;
    pthread_cond_t done;
    struct cmdq_req *head, *tail;
    unsigned len, cap;
    bool shutdown;
    int efd;
};

struct cmdq *cmdq_new(unsigned capacity)
{
    struct cmdq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->efd < 0) {
        free(q);
        return NULL;
    }
    clock_cond_init(&q->done);
    pthread_mutex_init(&q->lock, NULL);
    q->cap = capacity ? capacity : 1;
    return q;
}

void cmdq_free(struct cmdq *q)
{
    if (!q)
        return;
    close(q->efd);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static void efd_signal(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof(one)) < 0) {
        /* counter saturated: still readable, nothing lost */
    }
}

static void efd_drain(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: already drained */
    }
}

static bool unlink_req(struct cmdq *q, struct cmdq_req *req)
{
    struct cmdq_req **pp = &q->head, *prev = NULL;
    while (*pp && *pp != req) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return false;
    *pp = req->next;
    if (q->tail == req)
        q->tail = prev;
    q->len--;
    return true;
}

int cmdq_call(struct cmdq *q, struct cmdq_req *req, int timeout_ms)
{
    struct timespec dl;
    clock_deadline(&dl, timeout_ms);

    pthread_mutex_lock(&q->lock);
    if (q->shutdown || q->len >= q->cap) {
        int rc = q->shutdown ? -ESHUTDOWN : -EAGAIN;
        pthread_mutex_unlock(&q->lock);
        return rc;
    }
    req->next = NULL;
    req->taken = req->done = false;
    req->result = 0;
    req->msg[0] = '\0';
    if (q->tail)
        q->tail->next = req;
    else
        q->head = req;
    q->tail = req;
    q->len++;
    efd_signal(q->efd);

    while (!req->done) {
        int rc = req->taken ? pthread_cond_wait(&q->done, &q->lock)
                            : pthread_cond_timedwait(&q->done, &q->lock, &dl);
        if (rc == ETIMEDOUT && !req->taken && !req->done) {
            unlink_req(q, req);
            req->result = -ETIMEDOUT;
            break;
        }
    }
    int result = req->result;
    pthread_mutex_unlock(&q->lock);
    return result;
}

int cmdq_fd(struct cmdq *q)
{
    return q->efd;
}

struct cmdq_req *cmdq_take(struct cmdq *q)
{
    pthread_mutex_lock(&q->lock);
    struct cmdq_req *req = q->head;
    if (req) {
        unlink_req(q, req);
        req->taken = true;
    }
    if (!q->head)
        efd_drain(q->efd);
    pthread_mutex_unlock(&q->lock);
    return req;
}

void cmdq_complete(struct cmdq *q, struct cmdq_req *req)
{
    pthread_mutex_lock(&q->lock);
    req->done = true;
    pthread_cond_broadcast(&q->done);
    pthread_mutex_unlock(&q->lock);
}

void cmdq_shutdown(struct cmdq *q)
{
    pthread_mutex_lock(&q->lock);
    q->shutdown = true;
    while (q->head) {
        struct cmdq_req *r = q->head;
        unlink_req(q, r);
        r->result = -ESHUTDOWN;
        r->done = true;
    }
    efd_drain(q->efd);
    pthread_cond_broadcast(&q->done);
    pthread_mutex_unlock(&q->lock);
}

void cmdq_reopen(struct cmdq *q)
{
    pthread_mutex_lock(&q->lock);
    q->shutdown = false;
    pthread_mutex_unlock(&q->lock);
}
