/* SPDX-License-Identifier: MIT */
/* config_store.h — the current configuration, swapped whole on reload, copied out by threads. */
#ifndef BMSGW_CONFIG_STORE_H
#define BMSGW_CONFIG_STORE_H

#include <stdint.h>

#include "bmsgw/config.h"

/*
 * Threads keep their own copy of the configuration and refresh it when the store's generation
 * changed (one atomic load per loop). Reload and the API swap in a fully validated config.
 */
struct config_store;

/* Takes a copy of *initial and the path of the main file (for the API's overlay rebuild). */
struct config_store *config_store_new(const struct bmsgw_config *initial, const char *path);
void config_store_free(struct config_store *s);

/* Copy the current configuration; returns its generation (starts at 1). */
uint64_t config_store_get(struct config_store *s, struct bmsgw_config *out);
uint64_t config_store_generation(struct config_store *s);

/* Swap in a new configuration (already validated). Returns the new generation. */
uint64_t config_store_set(struct config_store *s, const struct bmsgw_config *cfg);

const char *config_store_path(struct config_store *s);

/* Serialise changes: the API and SIGHUP hold this while they read-modify-write the overlay. */
void config_store_lock_changes(struct config_store *s);
void config_store_unlock_changes(struct config_store *s);

#endif
