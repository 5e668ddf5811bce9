/* SPDX-License-Identifier: MIT */
/* history.c — a mutex-protected ring of system samples, encoded as JSON columns. */
#include "bmsgw/history.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "bmsgw/status_json.h"

struct history {
    pthread_mutex_t lock;
    unsigned cap, head, len;
    struct history_sample *ring;
};

struct history *history_new(unsigned capacity)
{
    struct history *h = calloc(1, sizeof(*h));
    if (!h || capacity == 0 || !(h->ring = calloc(capacity, sizeof(*h->ring)))) {
        free(h);
        return NULL;
    }
    h->cap = capacity;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

void history_free(struct history *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->lock);
    free(h->ring);
    free(h);
}

void history_sample_from_system(const struct bmsgw_system *sys, bool fresh, int64_t now_real_ms,
                                struct history_sample *out)
{
    const struct bmsgw_aggregate *a = &sys->agg;
    bool cells = fresh && a->min_cell.string >= 0;
    bool temps = fresh && a->temp_count > 0;
    bool lim = sys->limits.valid;

    out->t_ms = now_real_ms;
    out->soc_pct = fresh ? (float)a->soc_pct : NAN;
    out->pack_v = fresh ? (float)a->pack_v : NAN;
    out->current_a = fresh ? (float)a->current_a : NAN;
    out->power_w = fresh ? (float)(a->pack_v * a->current_a) : NAN;
    out->min_cell_mv = cells ? a->min_cell_mv : NAN;
    out->max_cell_mv = cells ? a->max_cell_mv : NAN;
    out->min_temp_c = temps ? (float)(a->min_temp_dc / 10.0) : NAN;
    out->max_temp_c = temps ? (float)(a->max_temp_dc / 10.0) : NAN;
    out->cvl_v = lim ? (float)sys->limits.cvl_v : NAN;
    out->ccl_a = lim ? (float)sys->limits.ccl_a : NAN;
    out->dcl_a = lim ? (float)sys->limits.dcl_a : NAN;
}

void history_add(struct history *h, const struct history_sample *s)
{
    pthread_mutex_lock(&h->lock);
    if (h->len < h->cap) {
        h->ring[(h->head + h->len) % h->cap] = *s;
        h->len++;
    } else {
        h->ring[h->head] = *s;
        h->head = (h->head + 1) % h->cap;
    }
    pthread_mutex_unlock(&h->lock);
}

unsigned history_count(struct history *h)
{
    pthread_mutex_lock(&h->lock);
    unsigned n = h->len;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* The float columns, as data: JSON name, offset in the sample, decimals. */
static const struct column {
    const char *name;
    size_t offset;
    int decimals;
} columns[] = {
    { "soc_pct", offsetof(struct history_sample, soc_pct), 2 },
    { "pack_voltage_v", offsetof(struct history_sample, pack_v), 3 },
    { "current_a", offsetof(struct history_sample, current_a), 2 },
    { "power_w", offsetof(struct history_sample, power_w), 1 },
    { "min_cell_mv", offsetof(struct history_sample, min_cell_mv), 0 },
    { "max_cell_mv", offsetof(struct history_sample, max_cell_mv), 0 },
    { "min_temperature_c", offsetof(struct history_sample, min_temp_c), 1 },
    { "max_temperature_c", offsetof(struct history_sample, max_temp_c), 1 },
    { "cvl_v", offsetof(struct history_sample, cvl_v), 2 },
    { "ccl_a", offsetof(struct history_sample, ccl_a), 1 },
    { "dcl_a", offsetof(struct history_sample, dcl_a), 1 },
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

json_t *history_to_json(struct history *h, int64_t since_real_ms)
{
    /* copy the samples out, then encode without the lock: history_add never waits for JSON */
    pthread_mutex_lock(&h->lock);
    unsigned n = 0;
    struct history_sample *copy = malloc((h->len ? h->len : 1) * sizeof(*copy));
    for (unsigned i = 0; copy && i < h->len; i++) {
        const struct history_sample *s = &h->ring[(h->head + i) % h->cap];
        if (s->t_ms >= since_real_ms)
            copy[n++] = *s;
    }
    pthread_mutex_unlock(&h->lock);
    if (!copy)
        return NULL;

    json_t *root = json_object(), *t = json_array(), *col[NCOLUMNS];
    for (unsigned c = 0; c < NCOLUMNS; c++)
        col[c] = json_array();
    for (unsigned i = 0; i < n; i++) {
        const struct history_sample *s = &copy[i];
        json_array_append_new(t, json_integer(s->t_ms));
        for (unsigned c = 0; c < NCOLUMNS; c++) {
            float v = *(const float *)((const char *)s + columns[c].offset);
            json_array_append_new(col[c], json_rounded(v, columns[c].decimals));
        }
    }
    free(copy);
    json_object_set_new(root, "interval_s", json_integer(HISTORY_INTERVAL_MS / 1000));
    json_object_set_new(root, "t_ms", t);
    for (unsigned c = 0; c < NCOLUMNS; c++)
        json_object_set_new(root, columns[c].name, col[c]);
    return root;
}
