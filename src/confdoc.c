/* SPDX-License-Identifier: MIT */
/* confdoc.c — writes the shipped bmsgw.conf or the bmsgw.conf(5) key reference from the schema. */
#include <stdio.h>
#include <string.h>

#include "bmsgw/config_schema.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--conf") == 0) {
        cfg_write_conf(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--man-keys") == 0) {
        cfg_write_man_keys(stdout);
        return 0;
    }
    fprintf(stderr, "usage: bmsgw-confdoc --conf | --man-keys\n");
    return 2;
}
