/* SPDX-License-Identifier: MIT */
/* mbtcp_service.h — the daemon's Modbus TCP service: the four maps served from the snapshot. */
#ifndef BMSGW_MBTCP_SERVICE_H
#define BMSGW_MBTCP_SERVICE_H

#include <stdint.h>

#include "bmsgw/config.h"
#include "bmsgw/mbtcp.h"
#include "bmsgw/service.h"

/* Service "mbtcp": one server thread for every map of modbus_tcp.maps. Degraded when some map
 * cannot listen, down when none can. Reload applies allow_writes, serve_stale and the timeouts. */
extern const struct service_ops mbtcp_service_ops;

struct snapshot;
struct control;
struct config_store;

/*
 * The data behind the maps in the daemon: a copy of the snapshot taken when its generation
 * changed, staleness from bms.stale_after_ms, the operator blocks; the pack12s command registers
 * and the test pattern live here. Writes: mega coils 100/101 set or release the charge/discharge
 * block, coil 102 requests "acknowledge all alerts", pack12s cmd03 (non-zero) blocks both
 * directions and cmd02 (non-zero) releases them; every command register is stored.
 * Used from the server thread only.
 */
struct mbtcp_gateway;

/* Returns NULL on allocation failure. start_ms is t = 0 of the test pattern. */
struct mbtcp_gateway *mbtcp_gateway_new(struct snapshot *snap, struct control *control,
                                        struct config_store *store, int64_t start_ms);
void mbtcp_gateway_free(struct mbtcp_gateway *g);
void mbtcp_gateway_provider(struct mbtcp_gateway *g, struct mbtcp_provider *out);

/* The server configuration and the live policy from the daemon's configuration. */
void mbtcp_server_cfg_from(struct mbtcp_server_cfg *out, const struct bmsgw_config *cfg);
void mbtcp_policy_from(struct mbtcp_policy *out, const struct cfg_mbtcp *m);

#endif
