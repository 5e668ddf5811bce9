/* SPDX-License-Identifier: MIT */
/* service.c — service "mbtcp": the server thread over the gateway's data, started by the daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/clock.h"
#include "bmsgw/config_store.h"
#include "bmsgw/log.h"
#include "bmsgw/mbtcp_service.h"
#include "bmsgw/snapshot.h"

struct mbtcp_svc {
    struct mbtcp_gateway *gw;
    struct mbtcp_server *srv;
    bool watching;
};

static bool svc_enabled(const struct bmsgw_config *cfg)
{
    return cfg->mbtcp.enabled && cfg->mbtcp.map_count > 0;
}

static void on_commit(uint64_t generation, void *ctx)
{
    (void)generation;
    mbtcp_server_data_changed(ctx);
}

static void on_progress(void *ctx)
{
    service_progress(ctx);
}

static void svc_free(struct service *svc)
{
    struct mbtcp_svc *m = svc->priv;
    if (!m)
        return;
    if (m->srv)
        mbtcp_server_stop(m->srv);
    if (m->watching)
        snapshot_watch_remove(svc->app->snap, on_commit, m->srv);
    mbtcp_server_free(m->srv);
    mbtcp_gateway_free(m->gw);
    free(m);
    svc->priv = NULL;
}

/* "mega on 502, tescom on 1502" and the first listener error into buf. */
static unsigned describe(struct mbtcp_server *srv, const struct mbtcp_server_cfg *sc, char *ok,
                         size_t ok_size, char *err, size_t err_size)
{
    unsigned n = 0;
    size_t used = 0;
    ok[0] = err[0] = 0;
    for (unsigned i = 0; i < sc->n_listeners; i++) {
        int port = mbtcp_server_port(srv, i);
        if (port < 0) {
            if (!err[0])
                snprintf(err, err_size, "%s", mbtcp_server_listener_error(srv, i));
            continue;
        }
        if (used < ok_size)
            used += (size_t)snprintf(ok + used, ok_size - used, "%s%s on %d", n ? ", " : "",
                                     mbmap_get(sc->listeners[i].kind)->name, port);
        n++;
    }
    return n;
}

static int svc_start(struct service *svc)
{
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct mbtcp_svc *m = calloc(1, sizeof(*m));
    struct mbtcp_server_cfg sc;
    struct mbtcp_provider prov;
    char ok[160], err[120];
    int rc = -ENOMEM;
    svc->priv = m;
    if (!cfg || !m)
        goto fail;
    config_store_get(svc->app->config, cfg);
    mbtcp_server_cfg_from(&sc, cfg);
    m->gw = mbtcp_gateway_new(svc->app->snap, svc->app->control, svc->app->config, clock_mono_ms());
    if (!m->gw)
        goto fail;
    mbtcp_gateway_provider(m->gw, &prov);
    m->srv = mbtcp_server_new(&sc, &prov);
    if (!m->srv)
        goto fail;
    mbtcp_server_listen(m->srv);
    unsigned n = describe(m->srv, &sc, ok, sizeof(ok), err, sizeof(err));
    if (n == 0) {
        rc = -EADDRNOTAVAIL;
        service_set_state(svc, SERVICE_DOWN, "no map can listen: %s", err);
        goto out;
    }
    rc = snapshot_watch_add(svc->app->snap, on_commit, m->srv);
    m->watching = rc == 0;
    if (rc == 0)
        rc = mbtcp_server_start(m->srv, on_progress, svc);
    if (rc)
        goto fail;
    log_notice("Modbus TCP: serving %s (writes %s)", ok,
               cfg->mbtcp.allow_writes ? "allowed" : "refused");
    if (n < sc.n_listeners)
        service_set_state(svc, SERVICE_DEGRADED, "%s", err);
    else
        service_set_state(svc, SERVICE_RUNNING, NULL);
    free(cfg);
    return 0;
fail:
    service_set_state(svc, SERVICE_DOWN, "cannot start: %s", strerror(-rc));
out:
    svc_free(svc);
    free(cfg);
    return rc;
}

static int svc_stop(struct service *svc, int timeout_ms)
{
    (void)timeout_ms;
    svc_free(svc);
    service_set_state(svc, SERVICE_STOPPED, NULL);
    return 0;
}

static void svc_reload(struct service *svc, const struct bmsgw_config *cfg)
{
    struct mbtcp_svc *m = svc->priv;
    struct mbtcp_policy p;
    if (!m || !m->srv)
        return;
    mbtcp_policy_from(&p, &cfg->mbtcp);
    mbtcp_server_set_policy(m->srv, &p);
}

const struct service_ops mbtcp_service_ops = {
    .name = "mbtcp",
    .enabled = svc_enabled,
    .start = svc_start,
    .stop = svc_stop,
    .reload = svc_reload,
    .watchdog_ms = 5000,
};
