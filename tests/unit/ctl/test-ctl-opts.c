/* SPDX-License-Identifier: MIT */
/* test-ctl-opts.c — bmsctl's command line (every error names what is allowed) and token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsgw/ctl.h"
#include "bmsgw/mbmap_maps.h"

static char out_buf[8192], err_buf[1024];

/* Run call with out and err writing into out_buf and err_buf (emptied first). */
#define CAPTURED(call)                                                                             \
    memset(out_buf, 0, sizeof(out_buf));                                                           \
    memset(err_buf, 0, sizeof(err_buf));                                                           \
    FILE *out = fmemopen(out_buf, sizeof(out_buf), "w"), *err = fmemopen(err_buf, 1024, "w");      \
    call;                                                                                          \
    fclose(out);                                                                                   \
    fclose(err)

/* Parse a command line given as one string; out_buf and err_buf get what was printed. */
static int parse(struct ctl_opts *o, const char *line)
{
    static char copy[512];
    char *argv[32] = { "bmsctl" };
    int argc = 1;
    snprintf(copy, sizeof(copy), "%s", line);
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && argc < 31;
         t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    CAPTURED(int rc = ctl_opts_parse(o, argc, argv, out, err));
    return rc;
}

static void test_defaults_and_ports(void **state)
{
    (void)state;
    struct ctl_opts o;
    assert_int_equal(parse(&o, "main"), -1);
    assert_int_equal(o.cmd, CTL_CMD_MAIN);
    assert_string_equal(o.link.host, "127.0.0.1");
    assert_int_equal(o.link.port, 502);
    assert_int_equal(o.link.unit, 1);
    assert_int_equal(o.link.timeout_ms, 1000);
    assert_ptr_equal(o.map, &mbmap_mega);
    assert_int_equal(o.format, CTL_FMT_TEXT);
    assert_int_equal(o.layout.cells_per_string, 208);
    assert_int_equal(o.layout.sensors_per_string, 96);
    assert_int_equal(parse(&o, "--map tescom status --json"), -1); /* options after the command */
    assert_int_equal(o.link.port, 1502);
    assert_int_equal(o.format, CTL_FMT_JSON);
    assert_int_equal(parse(&o, "-m testpattern -p 15020 -H ::1 -u 0 -t 250 --word-order cdab "
                               "--csv all"),
                     -1);
    assert_int_equal(o.link.port, 15020);
    assert_string_equal(o.link.host, "::1");
    assert_int_equal(o.link.unit, 0);
    assert_int_equal(o.link.timeout_ms, 250);
    assert_int_equal(o.word_order, MBMAP_WORDS_CDAB);
    assert_int_equal(o.format, CTL_FMT_CSV);
    assert_int_equal(parse(&o, ""), -1);
    assert_int_equal(o.cmd, -1); /* the menu */
    assert_int_equal(parse(&o, "cells 1-16,100"), -1);
    assert_int_equal(o.nargs, 1);
    assert_string_equal(o.args[0], "1-16,100");
    assert_int_equal(parse(&o, "strings --cells-per-string 16"), -1);
    assert_int_equal(o.layout.sensors_per_string, 0); /* 2304 x 16 / 4992 is not whole */
    assert_int_equal(parse(&o, "watch -i 0.5 -n 3"), -1);
    assert_true(o.interval_s == 0.5);
    assert_int_equal(o.count, 3);
    assert_int_equal(parse(&o, "write-reg --yes temperature:3 -- -5.5"), -1);
    assert_int_equal(o.nargs, 2);
    assert_string_equal(o.args[1], "-5.5");
    assert_true(o.yes);
}

static void check_usage(const char *line, const char *msg)
{
    struct ctl_opts o;
    assert_int_equal(parse(&o, line), CTL_EXIT_USAGE);
    if (!strstr(err_buf, msg))
        fail_msg("'%s': expected '%s' in '%s'", line, msg, err_buf);
}

static void test_usage_errors(void **state)
{
    (void)state;
    check_usage("frobnicate", "unknown command 'frobnicate'");
    check_usage("-p 0 main", "-p must be 1..65535 (got '0')");
    check_usage("-p x main", "-p must be 1..65535 (got 'x')");
    check_usage("-u 256 main", "-u must be 0..255");
    check_usage("-t 5 main", "-t must be 10..60000");
    check_usage("--map big main", "--map must be mega, tescom, pack12s or testpattern (got 'big')");
    check_usage("--word-order badc main", "--word-order must be abcd or cdab");
    check_usage("--bogus main", "unknown option '--bogus'");
    check_usage("main -p", "option '-p' needs a value");
    check_usage("-i 3 main", "-i/--interval applies to the watch command only");
    check_usage("--yes write-coil 100 1", "--yes applies to the write-reg command only");
    check_usage("-c /etc/x main", "-c/--config applies to the token command only");
    check_usage("watch -i 0", "-i must be 0.1..3600 seconds (got '0')");
    check_usage("main extra", "wrong arguments for main: usage: bmsctl [options] main");
    check_usage("cells 1 2", "usage: bmsctl [options] cells [RANGE]");
    check_usage("write-coil 100", "usage: bmsctl [options] write-coil COIL 0|1");
    check_usage("write-reg soc", "usage: bmsctl [options] write-reg REG VALUE...");
    check_usage("write-reg soc -5", "unknown option '-5' (a negative value goes after --)");
    check_usage("strings --cells-per-string 5000", "--cells-per-string must be 1..4992");
}

static void test_help_and_version(void **state)
{
    (void)state;
    struct ctl_opts o;
    assert_int_equal(parse(&o, "--help"), 0);
    assert_non_null(strstr(out_buf, "usage: bmsctl [options] [COMMAND [ARGS]]"));
    assert_non_null(strstr(out_buf, "write-reg REG VALUE"));
    assert_non_null(strstr(out_buf, "Exit status: 0 ok, 1 Modbus or I/O error, 2 usage error."));
    assert_int_equal(parse(&o, "main --version"), 0);
    assert_memory_equal(out_buf, "bmsctl ", 7);
    assert_int_equal(ctl_default_sensors_per_string(208), 96);
    assert_int_equal(ctl_default_sensors_per_string(4992), 2304);
    assert_int_equal(ctl_default_sensors_per_string(16), 0);
}

/* ---- token --------------------------------------------------------------------------------- */

struct token_dir {
    char dir[64], conf[96], token[96];
};

static void token_setup(struct token_dir *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/bmsctl-token-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->conf, sizeof(t->conf), "%s/bmsgw.conf", t->dir);
    snprintf(t->token, sizeof(t->token), "%s/api-token", t->dir);
    FILE *f = fopen(t->conf, "w");
    assert_non_null(f);
    fprintf(f, "state_dir = \"%s\";\nhttp = { api_token_file = \"%s\"; };\n", t->dir, t->token);
    fclose(f);
}

static int run_token(const char *conf, int format)
{
    CAPTURED(int rc = ctl_token(conf, format, out, err));
    return rc;
}

static void test_token(void **state)
{
    (void)state;
    struct token_dir t;
    token_setup(&t);
    /* no token yet: said so, and the file is not made */
    assert_int_equal(run_token(t.conf, CTL_FMT_TEXT), CTL_EXIT_IO);
    assert_non_null(strstr(err_buf, "no API token at"));
    assert_int_equal(access(t.token, F_OK), -1);
    FILE *f = fopen(t.token, "w");
    fputs("  0123456789abcdef0123 \n", f);
    fclose(f);
    chmod(t.token, 0600);
    assert_int_equal(run_token(t.conf, CTL_FMT_TEXT), CTL_EXIT_OK);
    assert_string_equal(out_buf, "0123456789abcdef0123\n");
    assert_string_equal(err_buf, "");
    assert_int_equal(run_token(t.conf, CTL_FMT_JSON), CTL_EXIT_OK);
    assert_non_null(strstr(out_buf, "{\"token\":\"0123456789abcdef0123\",\"file\":\""));
    chmod(t.token, 0644);
    assert_int_equal(run_token(t.conf, CTL_FMT_TEXT), CTL_EXIT_OK);
    assert_non_null(strstr(err_buf, "is readable by other users"));
    f = fopen(t.token, "w");
    fputs("short\n", f);
    fclose(f);
    assert_int_equal(run_token(t.conf, CTL_FMT_TEXT), CTL_EXIT_IO);
    assert_non_null(strstr(err_buf, "holds no usable token"));
    /* a configuration that does not load */
    assert_int_equal(run_token("/nonexistent/bmsgw.conf", CTL_FMT_TEXT), CTL_EXIT_IO);
    assert_non_null(strstr(err_buf, "/nonexistent/bmsgw.conf"));
    unlink(t.token);
    unlink(t.conf);
    rmdir(t.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_ports),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
