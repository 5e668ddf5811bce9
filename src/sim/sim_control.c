/* SPDX-License-Identifier: MIT */
/* sim_control.c — a simulator's control socket: Unix stream, one command per line, one answer
 * line per command. */
#include "sim_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX 16384

int sim_control_open(struct sim_control *ctl, const char *path)
{
    memset(ctl, 0, sizeof(*ctl));
    ctl->listen_fd = -1;
    for (unsigned i = 0; i < SIM_CONTROL_MAX_CLIENTS; i++)
        ctl->c[i].fd = -1;
    if (!path)
        return 0;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "bmsgw-sim: control socket path too long (at most %zu): %s\n",
                sizeof(sa.sun_path) - 1, path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left behind by an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        int rc = -errno;
        fprintf(stderr, "bmsgw-sim: cannot listen on %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    ctl->listen_fd = fd;
    snprintf(ctl->path, sizeof(ctl->path), "%s", path);
    return 0;
}

void sim_control_close(struct sim_control *ctl)
{
    for (unsigned i = 0; i < SIM_CONTROL_MAX_CLIENTS; i++)
        if (ctl->c[i].fd >= 0)
            close(ctl->c[i].fd);
    if (ctl->listen_fd >= 0) {
        close(ctl->listen_fd);
        unlink(ctl->path);
    }
    ctl->listen_fd = -1;
}

unsigned sim_control_pollfds(struct sim_control *ctl, struct pollfd *pfd)
{
    unsigned n = 0;
    if (ctl->listen_fd < 0)
        return 0;
    pfd[n++] = (struct pollfd){ .fd = ctl->listen_fd, .events = POLLIN };
    for (unsigned i = 0; i < SIM_CONTROL_MAX_CLIENTS; i++)
        pfd[n++] = (struct pollfd){ .fd = ctl->c[i].fd, .events = POLLIN };
    return n;
}

static void drop(struct sim_control_client *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static void answer(struct sim_control_client *c, const char *line, sim_exec_fn exec, void *ctx)
{
    static char reply[REPLY_MAX];
    exec(ctx, line, reply, sizeof(reply) - 1);
    size_t n = strlen(reply);
    reply[n++] = '\n';
    /* answers are short; a client that does not read them is dropped */
    if (send(c->fd, reply, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
        drop(c);
}

static void on_client(struct sim_control_client *c, sim_exec_fn exec, void *ctx)
{
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
    if (r <= 0) {
        if (r == 0 || (errno != EAGAIN && errno != EINTR))
            drop(c);
        return;
    }
    c->len += (size_t)r;
    char *nl;
    while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
        *nl = '\0';
        answer(c, c->buf, exec, ctx);
        size_t used = (size_t)(nl - c->buf) + 1;
        memmove(c->buf, nl + 1, c->len - used);
        c->len -= used;
    }
    if (c->fd >= 0 && c->len == sizeof(c->buf) - 1) {
        const char *msg = "error: line too long\n";
        if (send(c->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* dropped below either way */
        }
        drop(c);
    }
}

void sim_control_handle(struct sim_control *ctl, const struct pollfd *pfd, unsigned n,
                        sim_exec_fn exec, void *ctx)
{
    if (n == 0)
        return;
    for (unsigned i = 0; i + 1 < n && i < SIM_CONTROL_MAX_CLIENTS; i++)
        if (ctl->c[i].fd >= 0 && pfd[i + 1].fd == ctl->c[i].fd &&
            (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
            on_client(&ctl->c[i], exec, ctx);
    if (!(pfd[0].revents & POLLIN))
        return;
    int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < SIM_CONTROL_MAX_CLIENTS; i++) {
        if (ctl->c[i].fd < 0) {
            ctl->c[i].fd = fd;
            ctl->c[i].len = 0;
            return;
        }
    }
    const char *msg = "error: too many control clients\n";
    if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* closing anyway */
    }
    close(fd);
}
