/* SPDX-License-Identifier: MIT */
/* rest_internal.h — what the REST route table and its handler files share (private to src/web). */
#ifndef BMSGW_REST_INTERNAL_H
#define BMSGW_REST_INTERNAL_H

#include <pthread.h>

#include "bmsgw/auth.h"
#include "bmsgw/model.h"
#include "bmsgw/ratelimit.h"
#include "bmsgw/rest.h"

/* body: the parsed JSON body (an empty body is {}), NULL for routes without a body. */
typedef void (*rest_handler_fn)(struct rest_api *api, const struct rest_request *rq, json_t *body,
                                struct rest_response *rs);

struct rest_route {
    const char *path;
    unsigned method; /* one enum rest_method (HEAD is served by the GET route) */
    rest_handler_fn fn;
    bool body; /* reads a JSON body */
};

struct rest_api {
    struct bmsgw_app *app;
    struct history *history;
    pthread_mutex_t lock; /* everything below */
    char token[AUTH_TOKEN_MAX];
    bool have_token;
    char token_error[200];
    struct ratelimit limiter;
    struct rest_stats stats;
    uint64_t cfg_generation; /* of the cached http keys below */
    bool read_requires_token;
    int rate_limit_per_min;
    int stale_after_ms;
};

/* 200 with j as the body. */
void rest_ok(struct rest_response *rs, json_t *j);

/* An integer query argument in min..max (def when absent). Returns 0, or -1 with a 422 in *rs. */
int rest_query_int(const struct rest_request *rq, const char *name, long min, long max, long def,
                   long *out, struct rest_response *rs);

/* bms.stale_after_ms of the configuration in force (cached per configuration generation). */
int rest_stale_after_ms(struct rest_api *api);

/* A heap copy of the current system (free() it), or NULL with a 500 in *rs. */
struct bmsgw_system *rest_system_copy(struct rest_api *api, struct rest_response *rs);

/* HTTP status of a bms_cmd.h result (422 range/invalid, 503 link down or busy, 504 timeout,
 * 502 the BMS failed). */
int rest_bms_cmd_status(int rc);

/* 0 when the BMS service runs, else -1 with a 503 in *rs. */
int rest_bms_running(struct rest_api *api, struct rest_response *rs);

/* The handlers, by file. */
void rest_h_status(struct rest_api *, const struct rest_request *, json_t *,
                   struct rest_response *);
void rest_h_history(struct rest_api *, const struct rest_request *, json_t *,
                    struct rest_response *);
void rest_h_runtime(struct rest_api *, const struct rest_request *, json_t *,
                    struct rest_response *);
void rest_h_prometheus(struct rest_api *, const struct rest_request *, json_t *,
                       struct rest_response *);
void rest_h_bus_metrics(struct rest_api *, const struct rest_request *, json_t *,
                        struct rest_response *);
void rest_h_can_status(struct rest_api *, const struct rest_request *, json_t *,
                       struct rest_response *);

void rest_h_config_get(struct rest_api *, const struct rest_request *, json_t *,
                       struct rest_response *);
void rest_h_config_post(struct rest_api *, const struct rest_request *, json_t *,
                        struct rest_response *);
void rest_h_alerts_config_get(struct rest_api *, const struct rest_request *, json_t *,
                              struct rest_response *);
void rest_h_alerts_config_post(struct rest_api *, const struct rest_request *, json_t *,
                               struct rest_response *);

void rest_h_alerts_active(struct rest_api *, const struct rest_request *, json_t *,
                          struct rest_response *);
void rest_h_alerts_history(struct rest_api *, const struct rest_request *, json_t *,
                           struct rest_response *);
void rest_h_alerts_history_delete(struct rest_api *, const struct rest_request *, json_t *,
                                  struct rest_response *);
void rest_h_alerts_ack(struct rest_api *, const struct rest_request *, json_t *,
                       struct rest_response *);

void rest_h_bms_registers(struct rest_api *, const struct rest_request *, json_t *,
                          struct rest_response *);
void rest_h_bms_write(struct rest_api *, const struct rest_request *, json_t *,
                      struct rest_response *);
void rest_h_config_schema(struct rest_api *, const struct rest_request *, json_t *,
                          struct rest_response *);

void rest_h_tasks(struct rest_api *, const struct rest_request *, json_t *, struct rest_response *);
void rest_h_modules(struct rest_api *, const struct rest_request *, json_t *,
                    struct rest_response *);
void rest_h_restart(struct rest_api *, const struct rest_request *, json_t *,
                    struct rest_response *);
void rest_h_ota(struct rest_api *, const struct rest_request *, json_t *, struct rest_response *);

#endif
