/* SPDX-License-Identifier: MIT */
/* can_link.c — the SocketCAN raw socket and libsocketcan calls behind struct can_link_ops. */
#include "bmsgw/can.h"

#include <errno.h>
#include <libsocketcan.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(int err, char *why, size_t size, const char *fmt, const char *a, const char *b)
{
    snprintf(why, size, fmt, a, b);
    return -err;
}

/* Only the protocol's received IDs (standard frames, no RTR) and the error frames. */
static int set_filters(int fd, const uint32_t *rx_ids, unsigned n_rx)
{
    struct can_filter f[CAN_PROTO_RX_MAX];
    unsigned n = n_rx < CAN_PROTO_RX_MAX ? n_rx : CAN_PROTO_RX_MAX;
    for (unsigned i = 0; i < n; i++)
        f[i] = (struct can_filter){ .can_id = rx_ids[i],
                                    .can_mask = CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG };
    can_err_mask_t err = CAN_ERR_BUSOFF | CAN_ERR_CRTL | CAN_ERR_RESTARTED | CAN_ERR_BUSERROR |
                         CAN_ERR_PROT | CAN_ERR_ACK | CAN_ERR_TX_TIMEOUT;
    if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, f, n * sizeof(f[0])) < 0 ||
        setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &err, sizeof(err)) < 0)
        return -errno;
    return 0;
}

static int iface_up(int fd, const char *ifname)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    return (ifr.ifr_flags & IFF_UP) ? 0 : -ENETDOWN;
}

static int sc_open(void *ctx, const char *ifname, const uint32_t *rx_ids, unsigned n_rx, char *why,
                   size_t size)
{
    (void)ctx;
    int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) {
        int e = errno;
        if (e == EAFNOSUPPORT || e == EPROTONOSUPPORT)
            return fail(e, why, size, "CAN not supported by the kernel (%s%s)", strerror(e), "");
        return fail(e, why, size, "CAN socket: %s%s", strerror(e), "");
    }
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0) {
        close(fd);
        return fail(ENODEV, why, size, "interface %s missing%s", ifname, "");
    }
    int rc = set_filters(fd, rx_ids, n_rx);
    struct sockaddr_can addr = { .can_family = AF_CAN, .can_ifindex = (int)idx };
    if (!rc && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        rc = -errno;
    if (rc) {
        close(fd);
        return fail(-rc, why, size, "interface %s: %s", ifname, strerror(-rc));
    }
    rc = iface_up(fd, ifname);
    if (rc) {
        close(fd);
        return fail(-rc, why, size, "interface %s is down%s", ifname, "");
    }
    return fd;
}

static void sc_close(void *ctx, int fd)
{
    (void)ctx;
    if (fd >= 0)
        close(fd);
}

static int sc_send(void *ctx, int fd, const struct can_frame_io *f)
{
    (void)ctx;
    struct can_frame cf;
    memset(&cf, 0, sizeof(cf));
    cf.can_id = f->id & CAN_SFF_MASK;
    cf.len = f->dlc;
    memcpy(cf.data, f->data, f->dlc);
    ssize_t n = write(fd, &cf, sizeof(cf));
    if (n < 0)
        return -errno;
    return n == (ssize_t)sizeof(cf) ? 0 : -EIO;
}

static int sc_recv(void *ctx, int fd, struct can_frame_io *f)
{
    (void)ctx;
    struct can_frame cf;
    ssize_t n = read(fd, &cf, sizeof(cf));
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    if (n != (ssize_t)sizeof(cf))
        return -EIO;
    memset(f, 0, sizeof(*f));
    f->error = (cf.can_id & CAN_ERR_FLAG) != 0;
    f->id = f->error ? cf.can_id & CAN_ERR_MASK : cf.can_id & CAN_EFF_MASK;
    f->dlc = cf.len <= 8 ? cf.len : 8;
    memcpy(f->data, cf.data, f->dlc);
    return 1;
}

/* A virtual interface (vcan) has no controller: no state, no bit timing, nothing to restart.
 * Asking libsocketcan anyway only prints "no link data found" on stderr. */
static bool iface_virtual(const char *ifname)
{
    char path[64], real[PATH_MAX];
    snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
    if (!realpath(path, real))
        return false;
    return strncmp(real, "/sys/devices/virtual/", 21) == 0;
}

/* libsocketcan answers -1 without a dependable errno: treat a failure as "does not apply"
 * unless errno says otherwise. */
static int sc_errno(void)
{
    return errno && errno != ENOENT ? -errno : -EOPNOTSUPP;
}

static int sc_get_state(void *ctx, const char *ifname, uint8_t *bus_state)
{
    (void)ctx;
    int st;
    if (iface_virtual(ifname))
        return -EOPNOTSUPP;
    errno = 0;
    if (can_get_state(ifname, &st) < 0)
        return sc_errno();
    switch (st) {
    case CAN_STATE_ERROR_ACTIVE:
        *bus_state = BMSGW_CAN_BUS_ERROR_ACTIVE;
        break;
    case CAN_STATE_ERROR_WARNING:
        *bus_state = BMSGW_CAN_BUS_ERROR_WARNING;
        break;
    case CAN_STATE_ERROR_PASSIVE:
        *bus_state = BMSGW_CAN_BUS_ERROR_PASSIVE;
        break;
    case CAN_STATE_BUS_OFF:
        *bus_state = BMSGW_CAN_BUS_OFF;
        break;
    default:
        *bus_state = BMSGW_CAN_BUS_STOPPED;
        break;
    }
    return 0;
}

static int sc_get_bitrate(void *ctx, const char *ifname, uint32_t *bitrate)
{
    (void)ctx;
    struct can_bittiming bt;
    if (iface_virtual(ifname))
        return -EOPNOTSUPP;
    errno = 0;
    if (can_get_bittiming(ifname, &bt) < 0)
        return sc_errno();
    *bitrate = bt.bitrate;
    return 0;
}

/* The interface must be down to change its bit timing: stop, set, start. */
static int sc_set_bitrate(void *ctx, const char *ifname, uint32_t bitrate)
{
    uint32_t now_bitrate = 0;
    int rc = sc_get_bitrate(ctx, ifname, &now_bitrate);
    if (rc < 0 || now_bitrate == bitrate)
        return rc; /* no bit timing (vcan): does not apply */
    errno = 0;
    if (can_do_stop(ifname) < 0)
        return sc_errno();
    errno = 0;
    rc = can_set_bitrate(ifname, bitrate) < 0 ? sc_errno() : 0;
    errno = 0;
    if (can_do_start(ifname) < 0 && rc == 0)
        rc = sc_errno();
    return rc;
}

static int sc_restart(void *ctx, const char *ifname)
{
    (void)ctx;
    if (iface_virtual(ifname))
        return -EOPNOTSUPP;
    errno = 0;
    return can_do_restart(ifname) < 0 ? sc_errno() : 0;
}

static const struct can_link_ops socketcan_ops = {
    .open = sc_open,
    .close = sc_close,
    .send = sc_send,
    .recv = sc_recv,
    .get_state = sc_get_state,
    .get_bitrate = sc_get_bitrate,
    .set_bitrate = sc_set_bitrate,
    .restart = sc_restart,
};

const struct can_link_ops *can_link_socketcan(void)
{
    return &socketcan_ops;
}
