/* SPDX-License-Identifier: MIT */
/* rest_bms.c — the settings of each string's BMS, as its driver describes them: listing them live
 * and writing one with read-back. */
#include "rest_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/app.h"
#include "bmsgw/bms_cmd.h"
#include "bmsgw/bms_driver.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/config_store.h"
#include "bmsgw/log.h"
#include "bmsgw/service.h"
#include "bmsgw/status_json.h"

#define WRITE_TIMEOUT_MS 2000

static int configured_strings(struct rest_api *api)
{
    int n = 0;
    while (n < CFG_MAX_PORTS && api->app->bms_cmdq[n])
        n++;
    return n;
}

/* The driver of string i: the one its poller uses, or before the poller ran, the one the
 * configuration selects (bms.ports[i].type; the default for a port it does not have). */
static const struct bms_driver *driver_of(struct rest_api *api, const struct bmsgw_string *st,
                                          int i)
{
    if (st->driver)
        return st->driver;
    struct cfg_port port = { 0 };
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (cfg && api->app->config) {
        config_store_get(api->app->config, cfg);
        if (i >= 0 && i < cfg->bms.port_count)
            port = cfg->bms.ports[i];
    }
    free(cfg);
    return bms_driver_pick(api->app->bms_drivers, &port);
}

static json_t *choices_json(const struct bms_setting *r)
{
    if (!r->choices)
        return json_null();
    json_t *arr = json_array();
    for (const struct bms_choice *c = r->choices; c->name; c++)
        json_array_append_new(arr, json_pack("{s:i,s:s}", "value", c->value, "name", c->name));
    return arr;
}

static json_t *reg_json(const struct bms_driver *d, const struct bms_setting *r,
                        const struct bmsgw_string *st)
{
    double v = NAN;
    bool known = st->settings_valid && d->setting_value(r, st->settings_reg, &v) == 0;
    bool rw = r->writable;
    return json_pack(
        "{s:i,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:o}", "addr", r->addr, "key", r->key, "name", r->name,
        "unit", r->unit, "value", known ? json_rounded(v, 6) : json_null(), "min",
        rw ? json_rounded(r->min, 6) : json_null(), "max",
        rw ? json_rounded(r->max, 6) : json_null(), "writable", rw, "choices", choices_json(r));
}

void rest_h_bms_registers(struct rest_api *api, const struct rest_request *rq, json_t *body,
                          struct rest_response *rs)
{
    long n;
    int strings = configured_strings(api);
    if (strings == 0) {
        rest_error(rs, 503, NULL, "no BMS is configured (bms.ports)");
        return;
    }
    if (rest_query_int(rq, "string", 1, strings, 1, &n, rs))
        return;
    struct bmsgw_system *sys = rest_system_copy(api, rs);
    if (!sys)
        return;
    const struct bmsgw_string *st = &sys->strings[n - 1];
    const struct bms_driver *d = driver_of(api, st, (int)n - 1);
    json_t *regs = json_array();
    struct bms_setting r;
    for (unsigned i = 0; d && d->setting_at && d->setting_at(i, &r); i++)
        json_array_append_new(regs, reg_json(d, &r, st));
    int64_t now = clock_mono_ms();
    rest_ok(rs, json_pack("{s:i,s:s,s:o,s:b,s:b,s:o,s:o}", "string", (int)n, "name", st->name,
                          "bms", d ? json_string(d->bms_name) : json_null(), "online", st->online,
                          "settings_valid", st->settings_valid, "settings_age_ms",
                          st->settings_valid ? json_age_or_null(now, st->settings_ms) : json_null(),
                          "registers", regs));
    free(sys);
}

/* Validate {"string":N,"key":"...","value":X}: fills r from the string's driver, or answers a
 * 422 and returns false. */
static bool parse_write(struct rest_api *api, const struct bmsgw_system *sys, json_t *body,
                        int *string, double *value, struct bms_setting *r, struct rest_response *rs)
{
    static const char *const allowed[] = { "string", "key", "value" };
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool ok = false;
        for (unsigned i = 0; i < 3; i++)
            ok |= strcmp(k, allowed[i]) == 0;
        if (!ok) {
            rest_error(rs, 422, k, "unknown key %s (expected string, key, value)", k);
            return false;
        }
    }
    int strings = configured_strings(api);
    json_t *js = json_object_get(body, "string"), *jv = json_object_get(body, "value");
    const char *key = json_string_value(json_object_get(body, "key"));
    if (!json_is_integer(js) || json_integer_value(js) < 1 || json_integer_value(js) > strings) {
        rest_error(rs, 422, "string", "string must be an integer 1..%d", strings);
        return false;
    }
    *string = (int)json_integer_value(js) - 1;
    const struct bms_driver *d = driver_of(api, &sys->strings[*string], *string);
    if (!key || !bms_setting_find(d, key, r)) {
        rest_error(rs, 422, "key",
                   "key must name a settings register of the string's %s (see GET "
                   "/api/bms/registers)",
                   d->bms_name);
        return false;
    }
    if (!json_is_number(jv)) {
        rest_error(rs, 422, "value", "value must be a number in %s",
                   r->unit[0] ? r->unit : "units");
        return false;
    }
    *value = json_number_value(jv);
    return true;
}

static int write_words(struct rest_api *api, int si, const struct bms_setting *r,
                       const uint16_t *words, const uint16_t *before, uint16_t *readback,
                       struct cmdq_req *req)
{
    for (unsigned w = 0; w < r->words && w < 2; w++) {
        readback[w] = words[w];
        if (words[w] == before[w] && r->words > 1)
            continue; /* the other half of a 32-bit value: unchanged */
        *req = (struct cmdq_req){ .op = BMS_CMD_WRITE_SETTING,
                                  .arg = { (int32_t)(r->addr + w), words[w] } };
        int rc = cmdq_call(api->app->bms_cmdq[si], req, WRITE_TIMEOUT_MS);
        if (rc == 0 || rc == -EBADMSG)
            readback[w] = (uint16_t)req->out[0]; /* what the BMS holds now */
        if (rc)
            return rc;
    }
    return 0;
}

void rest_h_bms_write(struct rest_api *api, const struct rest_request *rq, json_t *body,
                      struct rest_response *rs)
{
    int si;
    double value, got;
    char why[200];
    struct bms_setting set, *r = &set;
    struct bmsgw_system *sys = rest_system_copy(api, rs);
    if (!sys)
        return;
    if (!parse_write(api, sys, body, &si, &value, r, rs) || rest_bms_running(api, rs)) {
        free(sys);
        return;
    }
    const struct bmsgw_string *st = &sys->strings[si];
    const struct bms_driver *d = driver_of(api, st, si);
    uint16_t before[2] = { 0 }, words[2], readback[2];
    unsigned first = d->pages[BMS_PAGE_SETTINGS].first;
    unsigned off = r->addr - first;
    bool valid = st->settings_valid && r->addr >= first && r->words <= 2 &&
                 off + r->words <= BMSGW_SETTINGS_COUNT;
    if (valid)
        memcpy(before, &st->settings_reg[off], sizeof(uint16_t) * (r->words > 1 ? 2 : 1));
    free(sys);
    if (!valid) {
        rest_error(rs, 503, NULL, "the settings of string %d have not been read yet", si + 1);
        return;
    }
    memcpy(words, before, sizeof(words));
    int rc = d->setting_encode(r, value, words, why, sizeof(why));
    if (rc) {
        rest_error(rs, 422, "value", "%s", why);
        return;
    }
    struct cmdq_req req = { 0 };
    rc = write_words(api, si, r, words, before, readback, &req);
    if (rc && rc != -EBADMSG) {
        int status = rest_bms_cmd_status(rc);
        rest_error(rs, status, status == 422 ? "value" : NULL, "writing %s of string %d: %s",
                   r->key, si + 1, req.msg[0] ? req.msg : strerror(-rc));
        return;
    }
    uint16_t page[BMSGW_SETTINGS_COUNT] = { 0 };
    memcpy(&page[off], readback, sizeof(uint16_t) * (r->words > 1 ? 2 : 1));
    if (d->setting_value(r, page, &got) != 0)
        got = NAN;
    log_notice("%s string %d: %s set to %g %s through the API (read back %g)", d->bms_name, si + 1,
               r->key, value, r->unit, got);
    if (rc == -EBADMSG) {
        rest_error(rs, 502, NULL, "%s of string %d was written but reads back %g %s", r->key,
                   si + 1, got, r->unit);
        return;
    }
    rest_ok(rs, json_pack("{s:i,s:s,s:i,s:o,s:s}", "string", si + 1, "key", r->key, "addr", r->addr,
                          "value", json_rounded(got, 6), "unit", r->unit));
}
