/* SPDX-License-Identifier: MIT */
/* energy.c — trapezoidal energy integration and the energy file (pure). */
#include "bmsgw/energy.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void energy_step(struct energy_point *prev, int64_t t_ms, double power_w, int max_gap_ms,
                 double *charged_wh, double *discharged_wh)
{
    if (!isfinite(power_w)) {
        prev->valid = false;
        return;
    }
    if (prev->valid && t_ms > prev->t_ms && t_ms - prev->t_ms <= max_gap_ms) {
        double h = (double)(t_ms - prev->t_ms) / 3600000.0;
        double p0 = prev->power_w, p1 = power_w;
        if ((p0 >= 0 && p1 >= 0) || (p0 <= 0 && p1 <= 0)) {
            double wh = (p0 + p1) / 2 * h;
            if (wh >= 0)
                *charged_wh += wh;
            else
                *discharged_wh -= wh;
        } else {
            /* the sign changes inside the interval: two triangles around the zero crossing */
            double f = p0 / (p0 - p1); /* share of the interval before the crossing */
            double first = p0 / 2 * f * h, second = p1 / 2 * (1 - f) * h;
            double in = p0 > 0 ? first : second, out = p0 > 0 ? second : first;
            *charged_wh += in;
            *discharged_wh -= out;
        }
    }
    prev->valid = true;
    prev->t_ms = t_ms;
    prev->power_w = power_w;
}

int energy_max_gap_ms(int poll_interval_ms)
{
    int gap = 4 * poll_interval_ms;
    return gap < 1000 ? 1000 : gap;
}

char *energy_encode(const struct energy_counter *c, unsigned n, int64_t saved_real_ms)
{
    double in = 0, out = 0;
    json_t *strings = json_array();
    for (unsigned i = 0; i < n; i++) {
        in += c[i].charged_wh;
        out += c[i].discharged_wh;
        json_array_append_new(strings,
                              json_pack("{s:s,s:f,s:f}", "name", c[i].name, "charged_wh",
                                        c[i].charged_wh, "discharged_wh", c[i].discharged_wh));
    }
    json_t *o =
        json_pack("{s:i,s:I,s:{s:f,s:f},s:o}", "version", 1, "saved_ms", (json_int_t)saved_real_ms,
                  "system", "charged_wh", in, "discharged_wh", out, "strings", strings);
    char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(o);
    return text;
}

static int fail(char *why, size_t size, const char *msg)
{
    if (why && size)
        snprintf(why, size, "%s", msg);
    return -EINVAL;
}

static bool counter_ok(double v)
{
    return isfinite(v) && v >= 0 && v < 1e15;
}

int energy_decode(const char *text, struct energy_counter *out, unsigned max, char *why,
                  size_t why_size)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr), *strings, *e;
    size_t i;
    int rc = 0;
    if (!o)
        return fail(why, why_size, "not valid JSON");
    if (json_integer_value(json_object_get(o, "version")) != 1) {
        rc = fail(why, why_size, "unknown version (expected 1)");
        goto out;
    }
    strings = json_object_get(o, "strings");
    if (!json_is_array(strings) || json_array_size(strings) > max) {
        rc = fail(why, why_size, "\"strings\" must be an array of at most 64 entries");
        goto out;
    }
    json_array_foreach(strings, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *ci = json_object_get(e, "charged_wh"), *di = json_object_get(e, "discharged_wh");
        if (!name || !*name || strlen(name) >= BMSGW_NAME_MAX || !json_is_number(ci) ||
            !json_is_number(di) || !counter_ok(json_number_value(ci)) ||
            !counter_ok(json_number_value(di))) {
            rc = fail(why, why_size, "an entry needs a name and two non-negative counters");
            goto out;
        }
        snprintf(out[i].name, sizeof(out[i].name), "%s", name);
        out[i].charged_wh = json_number_value(ci);
        out[i].discharged_wh = json_number_value(di);
    }
    rc = (int)json_array_size(strings);
out:
    json_decref(o);
    return rc;
}
