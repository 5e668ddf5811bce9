/* SPDX-License-Identifier: MIT */
/* sim_port.c — a simulator's serial side: an existing device, or a PTY of its own behind a
 * symlink (removing the symlink and closing the PTY is how a device "vanishes"). */
#include "sim_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static int raw_mode(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) < 0)
        return -errno;
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}

static int open_pty(struct sim_port *p, const char *path)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (m < 0)
        return -errno;
    const char *sn = NULL;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || !(sn = ptsname(m)))
        goto fail;
    snprintf(p->name, sizeof(p->name), "%s", sn);
    p->slave_fd = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->slave_fd < 0 || raw_mode(p->slave_fd) < 0)
        goto fail;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        unlink(path); /* a dangling link left behind by an earlier run */
    if (symlink(p->name, path) < 0)
        goto fail;
    snprintf(p->link, sizeof(p->link), "%s", path);
    p->fd = m;
    p->own_pty = true;
    return 0;
fail:;
    int rc = -errno;
    if (p->slave_fd >= 0)
        close(p->slave_fd);
    p->slave_fd = -1;
    close(m);
    return rc ? rc : -EIO;
}

int sim_port_open(struct sim_port *p, const char *path)
{
    struct stat st;
    p->fd = p->slave_fd = -1;
    p->own_pty = false;
    p->link[0] = '\0';
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return -errno;
        return open_pty(p, path);
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = raw_mode(fd);
    if (rc) {
        close(fd);
        return rc;
    }
    snprintf(p->name, sizeof(p->name), "%s", path);
    p->fd = fd;
    return 0;
}

void sim_port_close(struct sim_port *p)
{
    if (p->link[0]) {
        char target[PATH_MAX];
        ssize_t n = readlink(p->link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strcmp(target, p->name) == 0) /* only our own link */
                unlink(p->link);
        }
        p->link[0] = '\0';
    }
    if (p->fd >= 0)
        close(p->fd);
    if (p->slave_fd >= 0)
        close(p->slave_fd);
    p->fd = p->slave_fd = -1;
}

ssize_t sim_port_read(struct sim_port *p, void *buf, size_t n)
{
    if (p->fd < 0)
        return 0;
    ssize_t r = read(p->fd, buf, n);
    if (r > 0)
        return r;
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return -EPIPE;
}

int sim_port_write(struct sim_port *p, const void *buf, size_t n)
{
    if (p->fd < 0)
        return -ENODEV;
    ssize_t w = write(p->fd, buf, n);
    if (w < 0)
        return -errno;
    return (size_t)w == n ? 0 : -EAGAIN;
}
