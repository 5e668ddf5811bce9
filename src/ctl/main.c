/* SPDX-License-Identifier: MIT */
/* main.c — bmsctl: a Modbus TCP master for the bmsgw register maps. */
#include <stdio.h>
#include <unistd.h>

#include "bmsgw/ctl.h"

int main(int argc, char **argv)
{
    struct ctl_opts o;
    struct ctl_session s;
    int rc = ctl_opts_parse(&o, argc, argv, stdout, stderr);
    if (rc >= 0)
        return rc;
    if (o.cmd < 0 && !(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
        fprintf(stderr, "bmsctl: no command given (the menu needs a terminal; bmsctl --help "
                        "lists the commands)\n");
        return CTL_EXIT_USAGE;
    }
    if (o.cmd == CTL_CMD_TOKEN)
        return ctl_token(o.config, o.format, stdout, stderr);
    if (ctl_session_init(&s, &o, stdout, stderr) != 0) {
        fprintf(stderr, "bmsctl: out of memory\n");
        return CTL_EXIT_IO;
    }
    rc = o.cmd < 0 ? ctl_menu(&s, stdin) : ctl_run(&s, o.cmd, o.nargs, o.args);
    ctl_session_deinit(&s);
    return rc;
}
