/* SPDX-License-Identifier: MIT */
/* notify.h — the systemd notification protocol (READY, STATUS, WATCHDOG, STOPPING). */
#ifndef BMSGW_NOTIFY_H
#define BMSGW_NOTIFY_H

#include <stdint.h>

/* Send one datagram ("READY=1", "STATUS=...", ...) to $NOTIFY_SOCKET. Returns 1 when sent, 0 when
 * not running under a service manager, or -errno. */
int notify_send(const char *msg);

/* Like notify_send with a printf format (e.g. "STATUS=%s"). */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval the service manager expects for this process, in microseconds, or 0 when
 * the watchdog is off ($WATCHDOG_USEC, checked against $WATCHDOG_PID). */
uint64_t notify_watchdog_usec(void);

#endif
