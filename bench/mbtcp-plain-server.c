/* SPDX-License-Identifier: MIT */
/* mbtcp-plain-server.c — the baseline of the Modbus TCP benchmark: a plain single-threaded
 * libmodbus server in the style of libmodbus's own examples (select(), modbus_receive(),
 * modbus_reply()) holding as many registers as the mega map. Bench only: it has every problem
 * the daemon's server avoids (select() limits, stalls on bad requests). */
#include <errno.h>
#include <modbus.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define REGISTERS 30009

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mbtcp-plain-server PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    modbus_mapping_t *map = modbus_mapping_new(0, 0, REGISTERS, REGISTERS);
    if (!ctx || !map)
        return 1;
    for (int i = 0; i < REGISTERS; i++)
        map->tab_registers[i] = map->tab_input_registers[i] = (uint16_t)i;
    int server = modbus_tcp_listen(ctx, 128);
    if (server < 0) {
        fprintf(stderr, "mbtcp-plain-server: %s\n", modbus_strerror(errno));
        return 1;
    }
    fd_set refset, rdset;
    FD_ZERO(&refset);
    FD_SET(server, &refset);
    int fdmax = server;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        rdset = refset;
        if (select(fdmax + 1, &rdset, NULL, NULL, NULL) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (int fd = 0; fd <= fdmax; fd++) {
            if (!FD_ISSET(fd, &rdset))
                continue;
            if (fd == server) {
                int c = accept(server, NULL, NULL);
                if (c >= 0 && c < FD_SETSIZE) {
                    FD_SET(c, &refset);
                    fdmax = c > fdmax ? c : fdmax;
                } else if (c >= 0) {
                    close(c);
                }
                continue;
            }
            modbus_set_socket(ctx, fd);
            int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                modbus_reply(ctx, query, rc, map);
            } else if (rc == -1) {
                close(fd);
                FD_CLR(fd, &refset);
            }
        }
    }
}
