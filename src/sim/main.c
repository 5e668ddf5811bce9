/* SPDX-License-Identifier: MIT */
/* main.c — bmsgw-sim: simulated devices for testing the gateway, one sub-command each. */
#include <stdio.h>
#include <string.h>

#include "bmsgw-build.h"
#include "bmsgw/sim_devices.h"
#include "bmsgw/tinybms_sim.h"

struct sim_mode {
    const char *name;
    const char *summary;
    int (*main)(int argc, char **argv); /* argv[0] is the mode's name */
};

/* The device modes, in the order of the usage text. */
static const struct sim_mode modes[] = {
    { "tinybms", "a TinyBMS answering Modbus RTU on a serial device or a PTY", sim_tinybms_main },
    { "mega", "a mega BMS (4992 cells, 2304 sensors) on Modbus TCP", sim_mega_main },
    { "tescom", "a Tescom BMS (arms of batteries) on Modbus TCP", sim_tescom_main },
    { "pack12s", "a 12S pack with protections and commands on Modbus TCP", sim_pack12s_main },
    { "testpattern", "every Modbus data type, advancing each second", sim_testpattern_main },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: bmsgw-sim MODE [options]   (bmsgw-sim MODE --help for its options)\n");
    for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        fprintf(out, "  %-12s %s\n", modes[i].name, modes[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("bmsgw-sim %s\n", BMSGW_VERSION);
        return 0;
    }
    for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(argv[1], modes[i].name) == 0)
            return modes[i].main(argc - 1, argv + 1);
    fprintf(stderr, "bmsgw-sim: unknown mode '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
