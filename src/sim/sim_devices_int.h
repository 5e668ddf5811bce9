/* SPDX-License-Identifier: MIT */
/* sim_devices_int.h — the runner shared by bmsgw-sim's Modbus TCP device modes. */
#ifndef BMSGW_SIM_DEVICES_INT_H
#define BMSGW_SIM_DEVICES_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmsgw/mbtcp.h"
#include "bmsgw/sim_devices.h"

/* Long options; the device options come last, in the order of their bits. */
enum sim_dev_opt {
    OPT_BIND = 256,
    OPT_PORT,
    OPT_UNIT,
    OPT_WORDS,
    OPT_READ_ONLY,
    OPT_MAX_CONN,
    OPT_INTERVAL,
    OPT_SEED,
    OPT_QUIET,
    OPT_CHEM, /* first device option */
    OPT_SOC,
    OPT_STRINGS,
    OPT_CELLS,
    OPT_SENSORS,
    OPT_ARMS,
    OPT_SYNC,
};

#define SIM_OPT(o) (1u << ((o)-OPT_CHEM)) /* a device option a mode accepts */

struct sim_dev_opts {
    char bind[64];
    int port; /* 0 = the map's default */
    int unit_id;
    int word_order;
    bool read_only;
    int max_conn;
    int interval_ms;
    uint64_t seed;
    bool quiet;
    int chemistry;
    double soc_pct;
    unsigned strings, cells, sensors;
    unsigned arms[MBMAP_TESCOM_ARMS];
    int sync_ms;
};

struct sim_dev;

struct sim_dev_mode {
    const char *name;
    int kind;         /* enum mbmap_kind */
    unsigned options; /* SIM_OPT() of the device options it takes */
    const char *help; /* their lines in the usage text */
    /* Called with the device lock held. */
    void (*step)(struct sim_dev *d, double dt_s, int64_t now_ms);
    void (*load)(struct sim_dev *d, void *src, int64_t now_ms, struct mbtcp_data_info *info);
    int (*write)(struct sim_dev *d, const struct mbmap_write *w, unsigned n, int64_t now_ms);
};

struct sim_dev {
    const struct sim_dev_mode *mode;
    pthread_mutex_t lock; /* the model: physics clock vs. server thread */
    void *model;
};

/* Parse argv into o (which holds the mode's defaults). Returns -1 to go on, or an exit status. */
int sim_dev_parse(const struct sim_dev_mode *m, int argc, char **argv, struct sim_dev_opts *o);
/* Serve d until SIGINT/SIGTERM. Returns the exit status. */
int sim_dev_run(struct sim_dev *d, const struct sim_dev_opts *o);

#endif
