/* SPDX-License-Identifier: MIT */
/* server_int.h — the Modbus TCP server's private structures, shared by server.c and conn.c. */
#ifndef BMSGW_MBTCP_SERVER_INT_H
#define BMSGW_MBTCP_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "bmsgw/mbpdu.h"
#include "bmsgw/mbtcp.h"

enum srv_tag { TAG_LISTENER = 1, TAG_CONN, TAG_WAKE };

#define CONN_RX_CAP     1024
#define CONN_TX_CAP     (8 * MBAP_MAX_FRAME)
#define SWEEP_MS        50
#define PAUSE_ACCEPT_MS 100

struct mbtcp_server;

/* One map on one port, with the image its clients are answered from. */
struct lsn {
    int tag; /* TAG_LISTENER: first, epoll data points here */
    int fd;
    int port;
    bool paused; /* accepting suspended after descriptors ran out */
    int64_t resume_ms;
    struct mbtcp_server *srv;
    struct mbtcp_listener_cfg cfg;
    const struct mbmap *map;
    struct mbmap_image img;
    void *src;
    bool rendered;
    bool stale;
    uint64_t version;
    int64_t valid_until_ms;
    char error[96];
};

struct conn {
    int tag; /* TAG_CONN */
    int fd;  /* -1 once closed (freed at the end of the loop iteration) */
    struct lsn *lsn;
    struct conn *prev, *next;
    uint32_t events; /* registered with epoll */
    size_t rx_len;
    size_t tx_off, tx_len;
    int64_t active_ms;  /* connected or last complete request */
    int64_t partial_ms; /* an incomplete frame waits since, 0 = none */
    int64_t tx_ms;      /* answers wait unsent since, 0 = none */
    uint8_t rx[CONN_RX_CAP];
    uint8_t tx[CONN_TX_CAP];
};

struct srv_counters {
    _Atomic unsigned connections;
    _Atomic uint64_t accepted, rejected, requests, exceptions, writes, renders;
    _Atomic uint64_t closed_idle, closed_stall, closed_error;
};

struct mbtcp_server {
    struct mbtcp_server_cfg cfg;
    struct mbtcp_provider prov;
    int epfd;
    int wakefd;
    int reserve_fd;
    int wake_tag; /* TAG_WAKE: epoll data for wakefd points here */
    struct lsn lsn[MBTCP_MAX_LISTENERS];
    struct conn *conns; /* open connections */
    struct conn *dead;  /* closed during this iteration */
    unsigned nconns;
    struct mbtcp_policy pol; /* the loop's copy */
    pthread_mutex_t pol_lock;
    struct mbtcp_policy pol_next;
    _Atomic uint64_t pol_gen;
    uint64_t pol_seen;
    _Atomic uint64_t data_version;
    struct mbmap_write *wbuf;
    int64_t now_ms;
    int64_t next_sweep_ms;
    pthread_t thread;
    bool running;
    _Atomic bool stop;
    void (*progress)(void *ctx);
    void *progress_ctx;
    struct srv_counters st;
};

/* conn.c */
int conn_add(struct mbtcp_server *s, int fd, struct lsn *l);
void conn_event(struct mbtcp_server *s, struct conn *c, uint32_t events);
/* reason: &s->st.closed_* counter or NULL. */
void conn_close(struct mbtcp_server *s, struct conn *c, _Atomic uint64_t *reason);
void conn_sweep(struct mbtcp_server *s);
void conn_free_dead(struct mbtcp_server *s);

#endif
