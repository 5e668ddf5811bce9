/* SPDX-License-Identifier: MIT */
/* rest_alerts.c — the alerts endpoints: the active alerts, the history, acknowledging. */
#include "rest_internal.h"

#include <errno.h>
#include <string.h>

#include "bmsgw/alerts.h"
#include "bmsgw/app.h"

/* The alerts object, or NULL with a 503 in *rs. */
static struct alerts *alerts_or_503(struct rest_api *api, struct rest_response *rs)
{
    struct alerts *al = api->app->alerts;
    if (!al)
        rest_error(rs, 503, NULL, "the alerts service is not running");
    return al;
}

void rest_h_alerts_active(struct rest_api *api, const struct rest_request *rq, json_t *body,
                          struct rest_response *rs)
{
    struct alerts *al = alerts_or_503(api, rs);
    if (al)
        rest_ok(rs, alerts_active_json(al));
}

void rest_h_alerts_history(struct rest_api *api, const struct rest_request *rq, json_t *body,
                           struct rest_response *rs)
{
    long limit;
    if (rest_query_int(rq, "limit", 1, ALERTS_HISTORY_MAX, 100, &limit, rs))
        return;
    struct alerts *al = alerts_or_503(api, rs);
    if (al)
        rest_ok(rs, alerts_history_json(al, (unsigned)limit));
}

void rest_h_alerts_history_delete(struct rest_api *api, const struct rest_request *rq, json_t *body,
                                  struct rest_response *rs)
{
    struct alerts *al = alerts_or_503(api, rs);
    if (!al)
        return;
    alerts_clear_history(al);
    rest_ok(rs, json_pack("{s:b}", "cleared", 1));
}

void rest_h_alerts_ack(struct rest_api *api, const struct rest_request *rq, json_t *body,
                       struct rest_response *rs)
{
    json_t *jid = json_object_get(body, "id");
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "id") != 0) {
            rest_error(rs, 422, key,
                       "unknown key %s: send {} to acknowledge every alert or "
                       "{\"id\": N} for one",
                       key);
            return;
        }
    }
    if (jid && (!json_is_integer(jid) || json_integer_value(jid) < 1 ||
                json_integer_value(jid) > UINT32_MAX)) {
        rest_error(rs, 422, "id", "id must be the positive integer of an active alert");
        return;
    }
    struct alerts *al = alerts_or_503(api, rs);
    if (!al)
        return;
    uint32_t id = jid ? (uint32_t)json_integer_value(jid) : 0;
    int n = alerts_acknowledge(al, id);
    if (n == -ENOENT)
        rest_error(rs, 404, "id", "no active alert has id %u", id);
    else
        rest_ok(rs, json_pack("{s:i}", "acknowledged", n));
}
