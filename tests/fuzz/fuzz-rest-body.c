/* SPDX-License-Identifier: MIT */
/* fuzz-rest-body.c — arbitrary request bodies through the REST core (configuration, alert
 * configuration, register writes, acknowledgements, restarts): never a crash, always a JSON
 * answer with a known status, and the configuration in force and on disk always valid. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsgw/app.h"
#include "bmsgw/bus.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/log.h"
#include "bmsgw/rest.h"
#include "bmsgw/service.h"
#include "bmsgw/snapshot.h"

#define TOKEN "fuzz-token-fuzz-token-fuzz-token"

static const char *const paths[] = {
    "/api/config",         "/api/alerts/config",      "/api/bms/registers",
    "/api/system/restart", "/api/alerts/acknowledge",
};

static struct bmsgw_app app;
static struct service_registry services;
static struct rest_api *api;
static char conf_path[256];
static int64_t now_ms;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[] = "/tmp/bmsgw-fuzz-rest-XXXXXX";
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    char text[512];
    if (!cfg || !mkdtemp(dir))
        abort();
    snprintf(conf_path, sizeof(conf_path), "%s/bmsgw.conf", dir);
    snprintf(text, sizeof(text),
             "state_dir = \"%s\";\nhttp = { rate_limit_per_min = 100000; };\n"
             "bms = { ports = ( { name = \"a\"; device = \"/dev/null\"; },"
             " { name = \"b\"; device = \"/dev/zero\"; } ); };\n",
             dir);
    FILE *f = fopen(conf_path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || config_load(cfg, conf_path, "", &err))
        abort();
    log_open(LOG_TARGET_STDERR, LOG_ERR);
    app.config = config_store_new(cfg, conf_path);
    app.snap = snapshot_new();
    app.bus = bus_new();
    app.control = control_new();
    app.services = &services;
    app.exit_efd = -1;
    app.bms_cmdq[0] = cmdq_new(2);
    app.bms_cmdq[1] = cmdq_new(2);
    api = rest_api_new(&app, NULL);
    rest_api_set_token(api, TOKEN, NULL);
    free(cfg);
    return 0;
}

/* What may come back from these routes. */
static bool known_status(int s)
{
    static const int ok[] = { 200, 202, 400, 404, 413, 415, 422, 500, 501, 502, 503, 504 };
    for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (ok[i] == s)
            return true;
    return false;
}

static void check_config(void)
{
    struct bmsgw_config *cur = malloc(sizeof(*cur)), *disk = malloc(sizeof(*disk));
    struct cfg_error err;
    config_store_get(app.config, cur);
    if (config_validate(cur, &err) != 0)
        abort(); /* an invalid configuration was put in force */
    if (config_load(disk, conf_path, NULL, &err) != 0)
        abort(); /* the persisted overlay does not load any more */
    free(cur);
    free(disk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
    struct rest_request rq = {
        .method = REST_POST,
        .path = path,
        .authorization = "Bearer " TOKEN,
        .content_type = "application/json",
        .content_length = (int64_t)(size - 1),
        .client = "fuzz",
        .body = (const char *)data + 1,
        .body_len = size - 1,
    };
    struct rest_response rs = { 0 };
    now_ms += 60000; /* never rate limited */
    const struct rest_route *r = rest_begin(api, &rq, now_ms, &rs);
    if (r)
        rest_finish(api, r, &rq, &rs);
    if (!known_status(rs.status) || !json_is_object(rs.json))
        abort();
    if (rs.status >= 400 && !json_is_string(json_object_get(rs.json, "error")))
        abort();
    if (rs.status == 200 && data[0] % 5 <= 1)
        check_config();
    rest_response_clear(&rs);
    return 0;
}
