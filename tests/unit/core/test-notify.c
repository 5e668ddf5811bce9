/* SPDX-License-Identifier: MIT */
/* test-notify.c — the sd_notify datagrams and the watchdog interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bmsgw/notify.h"

static void test_not_under_systemd(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(notify_send("READY=1"), 0);
}

static void check_socket(const char *env, struct sockaddr_un *sa, socklen_t len)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    char buf[128];
    assert_int_equal(bind(fd, (struct sockaddr *)sa, len), 0);
    setenv("NOTIFY_SOCKET", env, 1);
    assert_int_equal(notify_send("READY=1"), 1);
    assert_int_equal(notify_sendf("STATUS=%s %d", "bms up", 1), 1);
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    buf[n] = '\0';
    assert_string_equal(buf, "READY=1");
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    buf[n] = '\0';
    assert_string_equal(buf, "STATUS=bms up 1");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void test_path_socket(void **state)
{
    (void)state;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/bmsgw-notify-%d", (int)getpid());
    unlink(sa.sun_path);
    check_socket(sa.sun_path, &sa, sizeof(sa));
    unlink(sa.sun_path);
}

static void test_abstract_socket(void **state)
{
    (void)state;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char name[64];
    int n = snprintf(name, sizeof(name), "@bmsgw-test-%d", (int)getpid());
    memcpy(sa.sun_path, name, (size_t)n);
    sa.sun_path[0] = '\0';
    check_socket(name, &sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n));
}

static void test_watchdog_usec(void **state)
{
    (void)state;
    char pid[16];
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(notify_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "20000000", 1);
    unsetenv("WATCHDOG_PID");
    assert_int_equal(notify_watchdog_usec(), 20000000);
    setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
    assert_int_equal(notify_watchdog_usec(), 0);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(notify_watchdog_usec(), 20000000);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_under_systemd),
        cmocka_unit_test(test_path_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_watchdog_usec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
