/* SPDX-License-Identifier: MIT */
/* sim_io.h — what every bmsgw-sim device shares: a serial port or a PTY of its own, the line
 * control socket and the scenario timeline. */
#ifndef BMSGW_SIM_IO_H
#define BMSGW_SIM_IO_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Executes one control line; reply gets one line without newline. Returns 0 or -errno. */
typedef int (*sim_exec_fn)(void *ctx, const char *line, char *reply, size_t size);

/* ---- the serial side ---------------------------------------------------------------------- */

struct sim_port {
    int fd;         /* -1 while closed (vanished) */
    int slave_fd;   /* own PTY: the slave end, held open so the master never sees a hang-up */
    bool own_pty;   /* path did not exist: a PTY was created and path links to it */
    char name[128]; /* the device actually used (/dev/pts/N or path) */
    char link[256]; /* own PTY: the symlink to remove on close */
};

/*
 * If path does not exist (or is a dangling symlink), create a PTY in raw mode and symlink path
 * to its slave end; otherwise open path as a serial device, raw 115200 8N1. Returns 0 or -errno.
 */
int sim_port_open(struct sim_port *p, const char *path);
/* Close; an own PTY's symlink is removed (the device "vanishes"). */
void sim_port_close(struct sim_port *p);
/* > 0 bytes read, 0 nothing to read, -EPIPE when the other side hung up. */
ssize_t sim_port_read(struct sim_port *p, void *buf, size_t n);
/* 0, or -errno (a full buffer drops the frame, as a line would). */
int sim_port_write(struct sim_port *p, const void *buf, size_t n);

/* ---- the control socket ------------------------------------------------------------------- */

#define SIM_CONTROL_MAX_CLIENTS 8
#define SIM_CONTROL_MAX_FDS     (1 + SIM_CONTROL_MAX_CLIENTS)
#define SIM_CONTROL_LINE_MAX    256

struct sim_control_client {
    int fd;
    size_t len;
    char buf[SIM_CONTROL_LINE_MAX];
};

struct sim_control {
    int listen_fd; /* -1 without a control socket */
    char path[108];
    struct sim_control_client c[SIM_CONTROL_MAX_CLIENTS];
};

/* Listen on a Unix stream socket at path (NULL: no socket). A stale socket file is replaced.
 * Returns 0 or -errno (printed). */
int sim_control_open(struct sim_control *ctl, const char *path);
void sim_control_close(struct sim_control *ctl);
/* Fill pollfds (at most SIM_CONTROL_MAX_FDS); returns how many. */
unsigned sim_control_pollfds(struct sim_control *ctl, struct pollfd *pfd);
/* After poll(): accept clients, execute complete lines, answer each with one line. */
void sim_control_handle(struct sim_control *ctl, const struct pollfd *pfd, unsigned n,
                        sim_exec_fn exec, void *ctx);

/* ---- the scenario timeline ---------------------------------------------------------------- */

struct sim_step {
    double t_s;
    int line;
    char cmd[SIM_CONTROL_LINE_MAX];
};

struct sim_scenario {
    const char *path;
    struct sim_step *steps;
    size_t n, next;
};

/* Load "<seconds> <control command>" lines ('#' comments, times not decreasing). NULL path =
 * no scenario. Returns 0 or -EINVAL/-errno (printed with the line number). */
int sim_scenario_load(struct sim_scenario *sc, const char *path);
/* Execute the steps due at elapsed_s; errors are printed with their line. */
void sim_scenario_run(struct sim_scenario *sc, double elapsed_s, sim_exec_fn exec, void *ctx);
void sim_scenario_free(struct sim_scenario *sc);

#endif
