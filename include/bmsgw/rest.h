/* SPDX-License-Identifier: MIT */
/* rest.h — the REST API without the HTTP server: route table, checks, JSON errors, handlers. */
#ifndef BMSGW_REST_H
#define BMSGW_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The HTTP server (http.c) turns a request into a struct rest_request and calls rest_begin()
 * once the headers are in: it finds the route (404, 405 with Allow), applies the per-client rate
 * limit of mutating requests (429), the bearer token (401 missing, 403 wrong), the content type
 * (415) and the announced length (413). The server then collects at most REST_BODY_MAX bytes
 * (413 beyond) and calls rest_finish(), which parses the JSON (400 with line and column) and runs
 * the route's handler. Every answer, errors included, is a JSON object; errors are
 * {"error": "<what and why>", "field": "<path>"} ("field" only when one field is at fault).
 */

#define REST_BODY_MAX (32 * 1024)

enum rest_method {
    REST_GET = 1u << 0,
    REST_HEAD = 1u << 1,
    REST_POST = 1u << 2,
    REST_DELETE = 1u << 3,
    REST_PUT = 1u << 4,
    REST_PATCH = 1u << 5,
    REST_OPTIONS = 1u << 6,
    REST_OTHER = 1u << 7,
};

/* What to do after the answer was sent completely. */
enum rest_after {
    REST_AFTER_NOTHING = 0,
    REST_AFTER_EXIT, /* POST /api/system/restart {"target":"gateway"} */
};

struct rest_request {
    unsigned method; /* one enum rest_method */
    const char *path;
    const char *authorization; /* header value or NULL */
    const char *content_type;  /* header value or NULL */
    int64_t content_length;    /* -1 when not announced */
    const char *client;        /* peer address: the rate limit's key */
    /* query arguments ("?limit=20"): value or NULL */
    const char *(*query)(void *cls, const char *name);
    void *query_cls;
    const char *body; /* the whole body (rest_finish only), not NUL-terminated */
    size_t body_len;
};

struct rest_response {
    int status;
    json_t *json; /* body (owned), or NULL */
    char *text;   /* or a text body (malloc'd, owned) */
    size_t text_len;
    const char *content_type; /* of text */
    char allow[64];           /* Allow header of a 405 */
    bool authenticate;        /* add WWW-Authenticate: Bearer (401) */
    int retry_after_s;        /* Retry-After header when > 0 (429) */
    enum rest_after after;
};

/* Request counters, for the runtime metrics. */
struct rest_stats {
    uint64_t requests;
    uint64_t status_2xx;
    uint64_t status_3xx;
    uint64_t status_4xx;
    uint64_t status_5xx;
    uint64_t rate_limited;
    uint64_t auth_failed;
};

struct bmsgw_app;
struct history;
struct rest_api;
struct rest_route;

/* app must outlive the api; history may be NULL (then /api/history answers 503). */
struct rest_api *rest_api_new(struct bmsgw_app *app, struct history *history);
void rest_api_free(struct rest_api *api);

/* The bearer token mutating requests must carry. NULL token: every mutating request is refused
 * with 503 and why_missing as the reason (the token file could not be created). */
void rest_api_set_token(struct rest_api *api, const char *token, const char *why_missing);

/* Returns the route to go on with, or NULL when *rs holds the answer already. */
const struct rest_route *rest_begin(struct rest_api *api, const struct rest_request *rq,
                                    int64_t now_ms, struct rest_response *rs);

/* Parse the body and run the handler; fills *rs. */
void rest_finish(struct rest_api *api, const struct rest_route *r, const struct rest_request *rq,
                 struct rest_response *rs);

/* Count an answer (the server calls it for every response it sends, static files included). */
void rest_count(struct rest_api *api, int status);
void rest_get_stats(struct rest_api *api, struct rest_stats *out);

/* Fill *rs with a JSON error; field may be NULL. */
void rest_error(struct rest_response *rs, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Release the body of a response. */
void rest_response_clear(struct rest_response *rs);

/* The method's bit for a method name ("GET" -> REST_GET; unknown -> REST_OTHER). */
unsigned rest_method_from_name(const char *name);

/* Bearer token check in constant time over the token's length: 0 when header carries token,
 * 401 when the header is missing or not "Bearer <token>", 403 when the token is wrong. */
int rest_check_bearer(const char *header, const char *token);

#endif
