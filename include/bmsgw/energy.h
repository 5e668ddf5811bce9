/* SPDX-License-Identifier: MIT */
/* energy.h — energy counters: trapezoidal integration of V x I, and their file. */
#ifndef BMSGW_ENERGY_H
#define BMSGW_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/model.h"

/* The previous sample of an integration. */
struct energy_point {
    bool valid;
    int64_t t_ms;
    double power_w; /* + = charging */
};

/*
 * Integrate from *prev to (t_ms, power_w) with the trapezoid rule; an interval whose power
 * changes sign is split at the zero crossing, so charged and discharged energy stay apart. An
 * interval longer than max_gap_ms, or going back in time, is not integrated (the link was lost:
 * nothing is known about it). A non-finite power breaks the integration. Updates *prev. Pure.
 */
void energy_step(struct energy_point *prev, int64_t t_ms, double power_w, int max_gap_ms,
                 double *charged_wh, double *discharged_wh);

/* The longest gap integrated for a poll period: "a few polls". */
int energy_max_gap_ms(int poll_interval_ms);

/* One named counter pair (a string, by its configured name). */
struct energy_counter {
    char name[BMSGW_NAME_MAX];
    double charged_wh;
    double discharged_wh;
};

#define ENERGY_FILE     "energy.json"
#define ENERGY_FILE_MAX 65536
#define ENERGY_MAX      64

/* The file's text (heap, free() it): {"version":1,"saved_ms":...,"system":{...},"strings":[...]}
 * where system holds the sums. NULL on allocation failure. */
char *energy_encode(const struct energy_counter *c, unsigned n, int64_t saved_real_ms);

/* Parse the file. Returns the number of counters, or -EINVAL with why filled (not JSON, wrong
 * version, a negative or non-finite value, a name too long, more than max entries). */
int energy_decode(const char *text, struct energy_counter *out, unsigned max, char *why,
                  size_t why_size);

#endif
