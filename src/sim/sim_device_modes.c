/* SPDX-License-Identifier: MIT */
/* sim_device_modes.c — "bmsgw-sim mega|tescom|pack12s|testpattern": each device behind its map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/clock.h"
#include "bmsgw/config.h"
#include "sim_devices_int.h"

static void defaults(struct sim_dev_opts *o, int chemistry)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->bind, sizeof(o->bind), "0.0.0.0");
    o->max_conn = 64;
    o->interval_ms = 1000;
    o->seed = 1;
    o->chemistry = chemistry;
    o->soc_pct = 60;
}

/* Parse, build the model, serve, free. */
static int mode_main(const struct sim_dev_mode *m, struct sim_dev_opts *o, int argc, char **argv,
                     int (*init)(struct sim_dev *, const struct sim_dev_opts *),
                     void (*fini)(struct sim_dev *))
{
    struct sim_dev d = { .mode = m };
    int rc = sim_dev_parse(m, argc, argv, o);
    if (rc >= 0)
        return rc;
    rc = init(&d, o);
    if (rc) {
        fprintf(stderr, "bmsgw-sim %s: cannot set up the device: %s\n", m->name, strerror(-rc));
        return rc == -EINVAL ? 2 : 1;
    }
    pthread_mutex_init(&d.lock, NULL);
    rc = sim_dev_run(&d, o);
    pthread_mutex_destroy(&d.lock);
    fini(&d);
    return rc;
}

/* ---- mega ---------------------------------------------------------------------------------- */

static void mega_step(struct sim_dev *d, double dt_s, int64_t now_ms)
{
    sim_mega_step(d->model, dt_s, now_ms);
}

static void mega_load(struct sim_dev *d, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    (void)now_ms;
    (void)info;
    sim_mega_source(d->model, src);
}

static int mega_write(struct sim_dev *d, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    return sim_mega_write(d->model, w, n, now_ms);
}

static int mega_init(struct sim_dev *d, const struct sim_dev_opts *o)
{
    struct sim_mega_params p;
    struct sim_mega *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    sim_mega_params_default(&p);
    p.chemistry = o->chemistry;
    p.soc_pct = o->soc_pct;
    p.seed = o->seed;
    p.strings = o->strings ? o->strings : p.strings;
    p.cells = o->cells ? o->cells : p.cells;
    p.sensors = o->sensors != UINT32_MAX ? o->sensors : p.sensors;
    int rc = sim_mega_init(m, &p, clock_mono_ms());
    if (rc)
        free(m);
    else
        d->model = m;
    return rc;
}

static void mega_fini(struct sim_dev *d)
{
    sim_mega_free(d->model);
    free(d->model);
}

static const struct sim_dev_mode mega_mode = {
    .name = "mega",
    .kind = MBMAP_MEGA,
    .options = SIM_OPT(OPT_STRINGS) | SIM_OPT(OPT_CELLS) | SIM_OPT(OPT_SENSORS) |
               SIM_OPT(OPT_CHEM) | SIM_OPT(OPT_SOC),
    .help = "  --strings N            strings in parallel, 1..64 (default 24)\n"
            "  --cells N              cells in total, spread over the strings (default 4992)\n"
            "  --sensors N            temperature sensors in total, 0..2304 (default 2304)\n"
            "  --chemistry lfp|nmc    (default lfp)\n"
            "  --soc PCT              initial state of charge (default 60)\n"
            "Writes (fault injection): FC6/FC16 to a cell (0 releases it), a temperature\n"
            "(0x8000 unplugs the sensor, 0x7FFF releases it) or the SOC; coils 100-102.\n",
    .step = mega_step,
    .load = mega_load,
    .write = mega_write,
};

int sim_mega_main(int argc, char **argv)
{
    struct sim_dev_opts o;
    defaults(&o, CFG_CHEM_LFP);
    o.sensors = UINT32_MAX; /* 0 is a valid count */
    return mode_main(&mega_mode, &o, argc, argv, mega_init, mega_fini);
}

/* ---- Tescom -------------------------------------------------------------------------------- */

static void tescom_step(struct sim_dev *d, double dt_s, int64_t now_ms)
{
    (void)now_ms;
    sim_tescom_step(d->model, dt_s);
}

static void tescom_load(struct sim_dev *d, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    (void)now_ms;
    (void)info;
    sim_tescom_source(d->model, src);
}

static int no_write(struct sim_dev *d, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    (void)d;
    (void)w;
    (void)n;
    (void)now_ms;
    return MBMAP_EX_ILLEGAL_ADDRESS;
}

static int tescom_init(struct sim_dev *d, const struct sim_dev_opts *o)
{
    struct sim_tescom *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    int rc = sim_tescom_init(t, o->arms, o->chemistry, o->seed);
    if (rc)
        free(t);
    else
        d->model = t;
    return rc;
}

static void tescom_fini(struct sim_dev *d)
{
    sim_tescom_free(d->model);
    free(d->model);
}

static const struct sim_dev_mode tescom_mode = {
    .name = "tescom",
    .kind = MBMAP_TESCOM,
    .options = SIM_OPT(OPT_ARMS) | SIM_OPT(OPT_CHEM),
    .help = "  --arms A,B,C,D         batteries of arms 1..4, 0..120 each (default 7,0,5,0)\n"
            "  --chemistry lfp|nmc    (default lfp)\n",
    .step = tescom_step,
    .load = tescom_load,
    .write = no_write,
};

int sim_tescom_main(int argc, char **argv)
{
    struct sim_dev_opts o;
    defaults(&o, CFG_CHEM_LFP);
    memcpy(o.arms, (const unsigned[]){ 7, 0, 5, 0 }, sizeof(o.arms));
    return mode_main(&tescom_mode, &o, argc, argv, tescom_init, tescom_fini);
}

/* ---- 12S pack ------------------------------------------------------------------------------ */

static void pack_step(struct sim_dev *d, double dt_s, int64_t now_ms)
{
    (void)now_ms;
    sim_pack12s_step(d->model, dt_s);
}

static void pack_load(struct sim_dev *d, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    (void)now_ms;
    (void)info;
    sim_pack12s_source(d->model, src);
}

static int pack_write(struct sim_dev *d, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    (void)now_ms;
    return sim_pack12s_write(d->model, w, n);
}

static int pack_init(struct sim_dev *d, const struct sim_dev_opts *o)
{
    struct sim_pack12s *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int rc = sim_pack12s_init(s, o->chemistry, o->soc_pct, o->sync_ms / 1000.0, o->seed);
    if (rc)
        free(s);
    else
        d->model = s;
    return rc;
}

static void pack_fini(struct sim_dev *d)
{
    sim_pack12s_free(d->model);
    free(d->model);
}

static const struct sim_dev_mode pack_mode = {
    .name = "pack12s",
    .kind = MBMAP_PACK12S,
    .options = SIM_OPT(OPT_SYNC) | SIM_OPT(OPT_CHEM) | SIM_OPT(OPT_SOC),
    .help = "  --sync-ms N            registers refreshed every N ms, 100..60000 (default 3000)\n"
            "  --chemistry lfp|nmc    (default nmc)\n"
            "  --soc PCT              initial state of charge (default 60)\n"
            "Commands: cmd03 (6452) forces power-off until cmd02 (10077); cmd06 (1642) releases\n"
            "the protections for 2 s with precharge; cmd04 (1596) = 1 turns balancing on.\n",
    .step = pack_step,
    .load = pack_load,
    .write = pack_write,
};

int sim_pack12s_main(int argc, char **argv)
{
    struct sim_dev_opts o;
    defaults(&o, CFG_CHEM_NMC);
    o.sync_ms = 3000;
    return mode_main(&pack_mode, &o, argc, argv, pack_init, pack_fini);
}

/* ---- test pattern -------------------------------------------------------------------------- */

static void tp_load(struct sim_dev *d, void *src, int64_t now_ms, struct mbtcp_data_info *info)
{
    mbmap_testpattern_advance(d->model, now_ms);
    mbmap_testpattern_source(d->model, clock_real_ms() / 1000, src);
    info->valid_until_ms = mbmap_testpattern_next_tick_ms(d->model);
}

static int tp_write(struct sim_dev *d, const struct mbmap_write *w, unsigned n, int64_t now_ms)
{
    mbmap_testpattern_advance(d->model, now_ms);
    return mbmap_testpattern_write(d->model, w, n);
}

static int tp_init(struct sim_dev *d, const struct sim_dev_opts *o)
{
    (void)o;
    struct mbmap_testpattern *tp = calloc(1, sizeof(*tp));
    if (!tp)
        return -ENOMEM;
    mbmap_testpattern_init(tp, clock_mono_ms());
    d->model = tp;
    return 0;
}

static void tp_fini(struct sim_dev *d)
{
    free(d->model);
}

static const struct sim_dev_mode tp_mode = {
    .name = "testpattern",
    .kind = MBMAP_TESTPATTERN,
    .help = "Every value advances once a second from the start; coils are writable.\n",
    .load = tp_load,
    .write = tp_write,
};

int sim_testpattern_main(int argc, char **argv)
{
    struct sim_dev_opts o;
    defaults(&o, CFG_CHEM_LFP);
    return mode_main(&tp_mode, &o, argc, argv, tp_init, tp_fini);
}
