/* SPDX-License-Identifier: MIT */
/* ctl_views.h — what each bmsctl command shows of each map, as sections of field keys. */
#ifndef BMSGW_CTL_VIEWS_H
#define BMSGW_CTL_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/ctl_query.h"
#include "bmsgw/mbmap.h"

/*
 * A view is what one command shows of one map: titled sections, each a list of field keys of the
 * map's table (never addresses). The same views drive the subcommands, the menu and watch.
 */

/* The commands; the first CTL_VIEW_COUNT read a view. */
enum ctl_cmd {
    CTL_CMD_MAIN = 0,
    CTL_CMD_ALL,
    CTL_CMD_CELLS,
    CTL_CMD_TEMPS,
    CTL_CMD_STRINGS,
    CTL_CMD_STATUS,
    CTL_CMD_COILS,
    CTL_CMD_WATCH,
    CTL_VIEW_COUNT,
    CTL_CMD_WRITE_COIL = CTL_VIEW_COUNT,
    CTL_CMD_WRITE_REG,
    CTL_CMD_TOKEN,
    CTL_CMD_COUNT
};

/* "main", "write-coil", ...; NULL for an unknown command. */
const char *ctl_cmd_name(int cmd);
/* The command of a name, or -1. */
int ctl_cmd_find(const char *name);

/* Section flags. */
enum {
    CTL_S_RANGE = 1u << 0,     /* the command's RANGE selects the items */
    CTL_S_FIRST = 1u << 1,     /* only the first item of each field */
    CTL_S_INSTALLED = 1u << 2, /* items limited to the installed count (ctl_view_count_field) */
};

#define CTL_MAX_SECTIONS 6
#define CTL_MAX_KEYS     16

struct ctl_section {
    const char *title;
    unsigned flags;
    const char *keys[CTL_MAX_KEYS]; /* NULL-terminated; a key ending in '*' matches a prefix */
};

struct ctl_view {
    const char *title;       /* "cell voltages" */
    const char *unavailable; /* non-NULL: the map has nothing for this command, and why */
    unsigned n_sections;
    struct ctl_section sections[CTL_MAX_SECTIONS];
};

/* The view of command cmd (< CTL_VIEW_COUNT) for the map of kind; NULL for bad arguments. */
const struct ctl_view *ctl_view_get(int kind, int cmd);

/* The field whose item k counts the installed items of group k of the CTL_S_INSTALLED fields
 * (Tescom: the battery count of each arm), or NULL. */
const struct mbmap_field *ctl_view_count_field(const struct mbmap *m);

/* The item name RANGE counts in for view ("cell", "battery"), and how many there are; NULL
 * when the view takes no RANGE. */
const char *ctl_view_range_item(const struct mbmap *m, const struct ctl_view *v, unsigned *count);

/* ---- a view turned into selections --------------------------------------------------------- */

#define CTL_MAX_SELS 192

struct ctl_query {
    unsigned n_sel;
    struct ctl_sel sel[CTL_MAX_SELS];
    unsigned n_sections;
    struct {
        const char *title;
        unsigned sel_first, sel_end;
    } sec[CTL_MAX_SECTIONS];
};

/*
 * The selections of view for map m: RANGE (NULL = all) for CTL_S_RANGE sections, counts[k] =
 * installed items of group k (NULL when the map has no count field). Returns 0, or -EINVAL with
 * the reason in err (a bad RANGE).
 */
int ctl_query_build(struct ctl_query *q, const struct mbmap *m, const struct ctl_view *view,
                    const char *range, const uint16_t *counts, char *err, size_t size);

/* What a read gives: values, and which of them belong to each section. */
struct ctl_result {
    struct ctl_values v;
    unsigned n_sections;
    struct {
        const char *title;
        size_t first, end; /* values [first, end) */
    } sec[CTL_MAX_SECTIONS];
};

/* Decode q from img into r (emptied first), then add the values the map's packed registers
 * mean (12S pack: the cell and sensor numbers). Returns 0 or -ENOMEM. */
int ctl_query_decode(const struct ctl_query *q, const struct mbmap *m, const struct ctl_image *img,
                     int word_order, struct ctl_result *r);
void ctl_result_free(struct ctl_result *r);

#endif
