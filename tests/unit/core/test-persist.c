/* SPDX-License-Identifier: MIT */
/* test-persist.c — atomic replace, bounded reads, and no torn file after kill -9 mid-write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bmsgw/clock.h"
#include "bmsgw/persist.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/bmsgw-persist-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    return rmdir(g_dir);
}

static unsigned count_files(void)
{
    unsigned n = 0;
    DIR *d = opendir(g_dir);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_write_read(void **state)
{
    (void)state;
    char path[128], *data;
    size_t len;
    struct stat st;
    snprintf(path, sizeof(path), "%s/a.json", g_dir);
    assert_int_equal(persist_read(path, &data, &len, 100), -ENOENT);
    assert_int_equal(persist_write(path, "{\"x\":1}", 7, 0600), 0);
    assert_int_equal(persist_read(path, &data, &len, 100), 0);
    assert_int_equal(len, 7);
    assert_string_equal(data, "{\"x\":1}");
    free(data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(persist_write(path, "2", 1, 0644), 0);
    assert_int_equal(persist_read(path, &data, &len, 100), 0);
    assert_string_equal(data, "2");
    free(data);
    assert_int_equal(persist_read(path, &data, &len, 0), -EFBIG);
    assert_int_equal(count_files(), 1); /* no temporary file left */
}

static void test_write_fails_cleanly(void **state)
{
    (void)state;
    assert_int_equal(persist_write("/nonexistent-dir/x", "1", 1, 0600), -ENOENT);
}

/* A document that checks itself: "n=<k> pad=<k repeated> end=<k>". */
static size_t make_doc(char *buf, size_t size, unsigned k)
{
    int n = snprintf(buf, size, "n=%u pad=", k);
    size_t pad = 2000 + (k % 7) * 3000; /* sizes vary, so a mix of two would show */
    for (size_t i = 0; i < pad && (size_t)n < size - 32; i++)
        buf[n++] = (char)('a' + k % 26);
    n += snprintf(buf + n, size - (size_t)n, " end=%u", k);
    return (size_t)n;
}

static bool doc_valid(const char *s, size_t len)
{
    unsigned k, k2;
    const char *end = strstr(s, " end=");
    if (sscanf(s, "n=%u pad=", &k) != 1 || !end || sscanf(end, " end=%u", &k2) != 1 || k != k2)
        return false;
    char expect[32000];
    size_t n = make_doc(expect, sizeof(expect), k);
    return n == len && memcmp(expect, s, n) == 0;
}

static void test_kill9_never_leaves_torn_file(void **state)
{
    (void)state;
    char path[128], buf[32000];
    snprintf(path, sizeof(path), "%s/state.json", g_dir);
    size_t n = make_doc(buf, sizeof(buf), 0);
    assert_int_equal(persist_write(path, buf, n, 0600), 0);

    srand((unsigned)time(NULL));
    for (int round = 0; round < 25; round++) {
        struct stat before, now;
        assert_int_equal(stat(path, &before), 0);
        now = before;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            static char cbuf[32000];
            for (unsigned k = 1;; k++) {
                size_t cn = make_doc(cbuf, sizeof(cbuf), k + (unsigned)round * 100000u);
                if (persist_write(path, cbuf, cn, 0600) != 0)
                    _exit(3);
            }
        }
        /* the child is writing (it renamed a first file over the old one), however late it
         * started on a busy machine; then a random moment in its writing */
        for (int64_t end = clock_mono_ms() + 30000; clock_mono_ms() < end; clock_sleep_ms(1))
            if (stat(path, &now) == 0 && now.st_ino != before.st_ino)
                break;
        assert_true(now.st_ino != before.st_ino);
        struct timespec ts = { 0, (long)(1 + rand() % 20) * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));

        char *data;
        size_t len;
        assert_int_equal(persist_read(path, &data, &len, sizeof(buf)), 0);
        assert_true(len > 0);
        if (!doc_valid(data, len))
            fail_msg("round %d: torn file of %zu bytes", round, len);
        free(data);
    }
}

/* The validity check itself must reject a truncated document. */
static void test_detector_rejects_truncation(void **state)
{
    (void)state;
    char buf[32000];
    size_t n = make_doc(buf, sizeof(buf), 5);
    assert_true(doc_valid(buf, n));
    buf[n - 1] = '\0';
    assert_false(doc_valid(buf, n - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
        cmocka_unit_test(test_write_fails_cleanly),
        cmocka_unit_test(test_detector_rejects_truncation),
        cmocka_unit_test_setup_teardown(test_kill9_never_leaves_torn_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
