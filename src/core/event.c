/* SPDX-License-Identifier: MIT */
/* event.c — typed bus events: names, the JSON encoder, publishing and taking them off a message. */
#include "bmsgw/event.h"

#include <string.h>

#include "bmsgw/bus.h"

_Static_assert(sizeof(struct bmsgw_event) <= BUS_DATA_MAX, "an event must fit a bus message");

static const char *const type_names[BMSGW_EV_COUNT] = {
    [BMSGW_EV_LINK_UP] = "link_up",
    [BMSGW_EV_LINK_DOWN] = "link_down",
    [BMSGW_EV_STRING_ONLINE] = "string_online",
    [BMSGW_EV_STRING_OFFLINE] = "string_offline",
    [BMSGW_EV_BMS_EVENT] = "bms_event",
    [BMSGW_EV_CAN_STATE] = "can_state",
    [BMSGW_EV_CONFIG_CHANGED] = "config_changed",
    [BMSGW_EV_BMS_RESET] = "bms_reset",
    [BMSGW_EV_RESTART] = "restart",
};

const char *bmsgw_event_type_name(enum bmsgw_event_type t)
{
    return (unsigned)t < BMSGW_EV_COUNT ? type_names[t] : NULL;
}

void bmsgw_event_set_text(char *dst, unsigned size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
        n--; /* cut before a character, not inside one */
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A fixed text field as a JSON string (never reads past the field). */
static json_t *field(const char *s, size_t size)
{
    return json_stringn(s, strnlen(s, size));
}
#define FIELD(f) field((f), sizeof(f))

static json_t *body_json(const struct bmsgw_event *e, json_t *o, int string_base)
{
    json_t *str = json_integer((json_int_t)e->string + string_base);
    switch (e->type) {
    case BMSGW_EV_LINK_UP:
    case BMSGW_EV_LINK_DOWN:
    case BMSGW_EV_STRING_ONLINE:
    case BMSGW_EV_STRING_OFFLINE:
        json_object_set_new(o, "string", str);
        json_object_set_new(o, "name", FIELD(e->link.name));
        json_object_set_new(o, "detail", FIELD(e->link.detail));
        return o;
    case BMSGW_EV_BMS_EVENT:
        json_object_set_new(o, "string", str);
        json_object_set_new(o, "id", json_integer(e->bms.id));
        json_object_set_new(o, "name", FIELD(e->bms.name));
        json_object_set_new(o, "severity", FIELD(e->bms.severity));
        json_object_set_new(o, "timestamp_s", json_integer((json_int_t)e->bms.timestamp_s));
        return o;
    case BMSGW_EV_CAN_STATE:
        json_decref(str);
        json_object_set_new(o, "interface", FIELD(e->can.interface));
        json_object_set_new(o, "link", json_string(bmsgw_link_state_name(e->can.link)));
        json_object_set_new(o, "bus", json_string(bmsgw_can_bus_state_name(e->can.bus)));
        json_object_set_new(o, "sending", json_boolean(e->can.sending));
        json_object_set_new(o, "detail", FIELD(e->can.detail));
        return o;
    case BMSGW_EV_CONFIG_CHANGED:
        json_decref(str);
        if (e->config.source[0])
            json_object_set_new(o, "source", FIELD(e->config.source));
        json_object_set_new(o, "detail", FIELD(e->config.detail));
        return o;
    case BMSGW_EV_BMS_RESET:
        json_object_set_new(o, "string", str);
        json_object_set_new(o, "detail", FIELD(e->text.detail));
        return o;
    case BMSGW_EV_RESTART:
        json_decref(str);
        if (e->text.target[0])
            json_object_set_new(o, "target", FIELD(e->text.target));
        json_object_set_new(o, "detail", FIELD(e->text.detail));
        return o;
    default:
        json_decref(str);
        json_decref(o);
        return NULL;
    }
}

json_t *bmsgw_event_to_json(const struct bmsgw_event *e, int string_base, int64_t t_ms)
{
    const char *name = bmsgw_event_type_name((enum bmsgw_event_type)e->type);
    json_t *o = name ? json_object() : NULL;
    if (!o)
        return NULL;
    json_object_set_new(o, "type", json_string(name));
    o = body_json(e, o, string_base);
    if (o && t_ms)
        json_object_set_new(o, "t_ms", json_integer((json_int_t)t_ms));
    return o;
}

void bmsgw_event_publish(struct bus *b, const struct bmsgw_event *e)
{
    bus_publish_bytes(b, BUS_EVENT, BUS_DIR_NONE, e->string, 0, e, sizeof(*e));
}

bool bmsgw_event_from_msg(const struct bus_msg *m, struct bmsgw_event *out)
{
    if (m->topic != BUS_EVENT || m->len != sizeof(*out))
        return false;
    memcpy(out, m->data, sizeof(*out));
    return bmsgw_event_type_name((enum bmsgw_event_type)out->type) != NULL;
}
