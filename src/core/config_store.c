/* SPDX-License-Identifier: MIT */
/* config_store.c — mutex-protected current configuration with a generation counter. */
#include "bmsgw/config_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config_store {
    pthread_mutex_t lock;
    pthread_mutex_t change_lock;
    struct bmsgw_config cfg;
    _Atomic uint64_t generation;
    char path[CFG_PATH_MAX];
};

struct config_store *config_store_new(const struct bmsgw_config *initial, const char *path)
{
    struct config_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->change_lock, NULL);
    s->cfg = *initial;
    s->generation = 1;
    snprintf(s->path, sizeof(s->path), "%s", path ? path : "");
    return s;
}

void config_store_free(struct config_store *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->change_lock);
    free(s);
}

uint64_t config_store_get(struct config_store *s, struct bmsgw_config *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->cfg;
    uint64_t g = atomic_load(&s->generation);
    pthread_mutex_unlock(&s->lock);
    return g;
}

uint64_t config_store_generation(struct config_store *s)
{
    return atomic_load(&s->generation);
}

uint64_t config_store_set(struct config_store *s, const struct bmsgw_config *cfg)
{
    pthread_mutex_lock(&s->lock);
    s->cfg = *cfg;
    uint64_t g = atomic_fetch_add(&s->generation, 1) + 1;
    pthread_mutex_unlock(&s->lock);
    return g;
}

const char *config_store_path(struct config_store *s)
{
    return s->path;
}

void config_store_lock_changes(struct config_store *s)
{
    pthread_mutex_lock(&s->change_lock);
}

void config_store_unlock_changes(struct config_store *s)
{
    pthread_mutex_unlock(&s->change_lock);
}
