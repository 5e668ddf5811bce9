/* SPDX-License-Identifier: MIT */
/* mbtcp.h — the Modbus TCP server: one epoll loop serving every map's listener. */
#ifndef BMSGW_MBTCP_H
#define BMSGW_MBTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/mbmap.h"

/*
 * One thread, one epoll set: the listeners of every enabled map and their clients. Sockets are
 * non-blocking; each connection assembles MBAP frames in its own buffer, so a partial frame never
 * holds anyone up, and answers are queued per connection. A client that leaves half a frame (or
 * unread answers) for frame_timeout_ms, or sends nothing for idle_timeout_ms, is dropped. Beyond
 * max_connections new clients are closed at once; when descriptors run out a reserve descriptor
 * is used to accept and close, so the loop never spins.
 *
 * Data comes from a provider: the server asks it to fill a map's source struct when the image is
 * older than the provider's data (mbtcp_server_data_changed()) or than info.valid_until_ms, then
 * renders the image and answers every request from it. Writes are decoded and validated against
 * the map and handed to the provider, which owns the data.
 *
 * Thread safety: mbtcp_server_data_changed(), _set_policy() and _stats() may be called from any
 * thread; everything else from the owner (or the server thread once started).
 */

#define MBTCP_MAX_LISTENERS 8

struct mbtcp_listener_cfg {
    int kind;       /* enum mbmap_kind */
    int port;       /* 0 = the map's default port; -1 = any free port (tests) */
    int unit_id;    /* 0 = answer every unit id, else others get exception 0x0B */
    int word_order; /* enum mbmap_word_order */
};

/* What can change while running. */
struct mbtcp_policy {
    bool allow_writes;
    bool serve_stale;
    int idle_timeout_ms;
    int frame_timeout_ms;
};

struct mbtcp_server_cfg {
    char bind[64]; /* numeric IPv4 or IPv6 address */
    int max_connections;
    bool simulator; /* fields writable in the simulator only are writable (fault injection) */
    struct mbtcp_policy policy;
    unsigned n_listeners;
    struct mbtcp_listener_cfg listeners[MBTCP_MAX_LISTENERS];
};

struct mbtcp_data_info {
    bool stale;             /* live ranges answer 0x04 unless serving stale */
    int64_t valid_until_ms; /* load again at this monotonic time even without a change; 0 = no */
};

struct mbtcp_provider {
    /* Fill src (the map's source struct, mbmap->src_size bytes, zeroed) for kind. Called from
     * the server thread; must not block for long. */
    void (*load)(void *ctx, int kind, void *src, int64_t now_ms, struct mbtcp_data_info *info);
    /* Apply validated writes to the data behind kind. Returns MBMAP_EX_NONE or an exception
     * code. The server reloads every image afterwards. */
    int (*write)(void *ctx, int kind, const struct mbmap_write *w, unsigned n, int64_t now_ms);
    void *ctx;
};

struct mbtcp_stats {
    unsigned connections; /* open now */
    uint64_t accepted;
    uint64_t rejected; /* over max_connections or out of descriptors */
    uint64_t requests;
    uint64_t exceptions;
    uint64_t writes;       /* successful write requests */
    uint64_t renders;      /* images rendered */
    uint64_t closed_idle;  /* idle timeout */
    uint64_t closed_stall; /* partial frame or unread answers past frame_timeout_ms */
    uint64_t closed_error; /* invalid MBAP header, socket error */
};

struct mbtcp_server;

/* Returns NULL on allocation failure or an invalid configuration (unknown map kind, too many
 * listeners). The provider is copied. */
struct mbtcp_server *mbtcp_server_new(const struct mbtcp_server_cfg *cfg,
                                      const struct mbtcp_provider *provider);
/* Closes every socket; stops the thread first if it runs. */
void mbtcp_server_free(struct mbtcp_server *s);

/* Bind and listen on every listener. Returns how many listen; for the others
 * mbtcp_server_listener_error() says why. */
unsigned mbtcp_server_listen(struct mbtcp_server *s);
/* The port listener i is bound to, or -1 when it does not listen. */
int mbtcp_server_port(struct mbtcp_server *s, unsigned i);
/* "" or why listener i does not listen ("port 502: Address already in use"). */
const char *mbtcp_server_listener_error(struct mbtcp_server *s, unsigned i);

/* Run the loop in its own thread; progress(ctx) is called at least every 100 ms (may be NULL).
 * Returns 0 or -errno. */
int mbtcp_server_start(struct mbtcp_server *s, void (*progress)(void *ctx), void *ctx);
/* Stop and join the thread (no-op when not started). */
void mbtcp_server_stop(struct mbtcp_server *s);

/* One loop iteration in the caller's thread (tests, fuzzing): waits at most timeout_ms for
 * events, handles them and the timeouts. Returns the number of events handled, or -errno. */
int mbtcp_server_poll(struct mbtcp_server *s, int timeout_ms);
/* Serve an already connected socket as a client of listener i (the server owns fd from now on,
 * also on failure). Returns 0 or -errno. */
int mbtcp_server_adopt(struct mbtcp_server *s, int fd, unsigned i);

/* The provider's data changed: images are reloaded before the next answer. */
void mbtcp_server_data_changed(struct mbtcp_server *s);
void mbtcp_server_set_policy(struct mbtcp_server *s, const struct mbtcp_policy *p);
void mbtcp_server_stats(struct mbtcp_server *s, struct mbtcp_stats *out);

#endif
