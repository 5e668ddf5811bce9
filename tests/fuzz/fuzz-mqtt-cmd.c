/* SPDX-License-Identifier: MIT */
/* fuzz-mqtt-cmd.c — arbitrary MQTT command names and payloads through the command parser: never
 * a crash; an accepted command is always within its documented ranges, a refused one always says,
 * in UTF-8 fit for JSON, why. The first byte picks the command name (one of the known ones or
 * junk), the rest is the payload. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bmsgw/mqtt.h"

static const char *const names[] = { "charge_limit_a", "discharge_limit_a", "ack_alerts", "result",
                                     "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *name = names[data[0] % (sizeof(names) / sizeof(names[0]))];
    int max_ttl = 1 + data[0] * 30;
    struct mqtt_cmd c;
    char why[200] = "";
    int rc = mqtt_cmd_parse(name, data + 1, size - 1, max_ttl, &c, why, sizeof(why));
    if (rc != 0) {
        json_t *reason = json_string(why); /* the reason goes out on P/cmd/result as JSON */
        if (why[0] == '\0' || !reason)
            abort();
        json_decref(reason);
        return 0;
    }
    if (c.kind == MQTT_CMD_ACK_ALERTS)
        return 0;
    if (!isfinite(c.value_a) || c.value_a < 0 || c.ttl_s < 1 || c.ttl_s > max_ttl)
        abort();
    return 0;
}
