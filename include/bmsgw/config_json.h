/* SPDX-License-Identifier: MIT */
/* config_json.h — the configuration as JSON (REST API) and runtime changes to the overlay. */
#ifndef BMSGW_CONFIG_JSON_H
#define BMSGW_CONFIG_JSON_H

#include <jansson.h>

#include "bmsgw/config.h"

/* The effective configuration as a JSON object (groups as objects, lists as arrays, enums as
 * their names). NULL on allocation failure. */
json_t *config_to_json(const struct bmsgw_config *cfg);

/* Apply a partial configuration (JSON object) to *cfg with the file's validator, then the
 * cross-key checks. JSON null members are skipped. err->key names the field
 * ("bms.ports[0].device"). On error *cfg may be half-changed: work on a copy. Returns 0 or -EINVAL.
 */
int config_apply_json(struct bmsgw_config *cfg, json_t *patch, struct cfg_error *err);

/* Merge patch into target: objects recursively, other values replace, null removes the key. */
void config_json_merge(json_t *target, json_t *patch);

/* The overlay file as a JSON object (an empty object when the file does not exist). Returns 0 or
 * -EINVAL/-errno with *err filled. */
int config_overlay_read(const char *path, json_t **out, struct cfg_error *err);

/* Write a JSON object of settings as libconfig text, atomically, mode 0640. Returns 0 or -errno. */
int config_overlay_write(const char *path, json_t *overlay);

/*
 * The API's change: check patch against the current configuration, merge it into the overlay at
 * overlay_path, rebuild base_path + overlay, check everything, then persist the overlay. On
 * success *out is the new effective configuration and restart_keys (comma-separated) lists what
 * needs a restart compared with *current. Returns 0, -EINVAL (*err says which field and why), or
 * -errno when the overlay cannot be written (nothing changed).
 */
int config_update(const char *base_path, const char *overlay_path,
                  const struct bmsgw_config *current, json_t *patch, struct bmsgw_config *out,
                  char *restart_keys, unsigned restart_size, struct cfg_error *err);

#endif
