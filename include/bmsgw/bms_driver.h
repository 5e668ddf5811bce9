/* SPDX-License-Identifier: MIT */
/* bms_driver.h — what a BMS type gives the generic poller, in the style of libmodbus's backend
 * table: how its link opens, its poll plan, decoding into the model, settings, commands and its
 * event log. The poller (src/bms/bms_poller.c) keeps everything else: link state, backoff,
 * wake-up of the schedule, staleness, counters, energy. */
#ifndef BMSGW_BMS_DRIVER_H
#define BMSGW_BMS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/model.h"

struct bms_link; /* src/bms/bms_link.h: the port, its counters and last error */
struct cfg_port;

struct bms_link_params {
    int baud;
    char parity; /* 'N', 'E' or 'O', as modbus_new_rtu() takes it */
    int data_bits;
    int stop_bits;
    int slave; /* the Modbus address the link talks to */
};

/* The most series cells and battery sensors one string may have (bms.ports[].cells' maximum). */
#define BMS_STRING_CELLS_MAX   48
#define BMS_STRING_SENSORS_MAX 8
/* The most registers of the live read or of one page. */
#define BMS_REGS_MAX 128

/* What one fast poll says about a string, in the model's terms. */
struct bms_sample {
    uint16_t cell_count;
    uint16_t cell_mv[BMS_STRING_CELLS_MAX];    /* cell 1..cell_count */
    uint8_t cell_flags[BMS_STRING_CELLS_MAX];  /* BMSGW_CELL_* */
    uint16_t sensor_count;                     /* battery sensors, plugged or not */
    int16_t sensor_dc[BMS_STRING_SENSORS_MAX]; /* BMSGW_TEMP_ABSENT when unplugged */
    int16_t mosfet_temp_dc;                    /* BMS internal, BMSGW_TEMP_ABSENT if none */
    double pack_v;
    double current_a; /* + = charging */
    double soc_pct;
    double soh_pct;
    uint8_t state;        /* enum bmsgw_bms_state */
    uint16_t status_code; /* the BMS's own code, shown as is */
    uint32_t lifetime_s;
    uint32_t time_left_s;
};

/* Where a string's cells and sensors sit in the system's flat arrays (assigned at start). */
struct bms_range {
    uint16_t cell_first, cell_count;
    uint16_t sensor_first, sensor_count;
};

/* The pages of the poll plan beside the live read. */
enum bms_page {
    BMS_PAGE_STATS = 0, /* every bms.slow_interval_ms, kept raw in bmsgw_string.stats_reg */
    BMS_PAGE_EVENTS,    /* with the statistics: the event log (decode_events) */
    BMS_PAGE_SETTINGS,  /* at connect, every bms.settings_interval_ms and after a write */
    BMS_PAGE_IDENTITY,  /* once per connection */
    BMS_PAGE_COUNT
};

struct bms_page_def {
    uint16_t first;
    uint16_t count; /* 0: the BMS has no such page; at most BMS_REGS_MAX */
};

/* A named code value of a setting; tables end with name == NULL. */
struct bms_choice {
    int value;
    const char *name;
};

/* One setting of the settings page, as people and the API see it. */
struct bms_setting {
    const char *key;  /* snake_case with unit: "over_voltage_cutoff_mv" */
    const char *name; /* for people: "Over-voltage cutoff" */
    const char *unit; /* "mV", "A", "degC", ... or "" */
    unsigned addr;    /* its first register */
    unsigned words;   /* registers it spans: 1 or 2 */
    bool writable;
    double min, max;                  /* writable: the values allowed */
    const struct bms_choice *choices; /* names of its values, or NULL */
    const void *impl;                 /* the driver's own entry */
};

enum bms_control { BMS_CONTROL_RESET = 0, BMS_CONTROL_CLEAR_EVENTS, BMS_CONTROL_CLEAR_STATS };

/*
 * The link calls (read_live, read, write, control) return 0 or a negative errno and describe a
 * failure in the link's error text: -ENODEV means the device went away (the poller closes the
 * link), -EREMOTEIO that the BMS rejected the request; any other failure counts as a failed
 * cycle. The decode calls are pure.
 */
struct bms_driver {
    const char *name;     /* the value of bms.ports[].type */
    const char *bms_name; /* what the model calls the BMS (bmsgw_string.bms_name) */
    struct bms_link_params link;
    unsigned max_cells; /* series cells one BMS handles */
    unsigned sensors;   /* battery sensors one BMS has */

    /* Open / close the port (l->fd, the counters and l->quirks are reset by open). */
    int (*open)(struct bms_link *l, const struct bms_driver *drv, const struct cfg_port *port,
                char *note, unsigned note_size);
    void (*close)(struct bms_link *l);

    /* The live read of every bms.poll_interval_ms: live_count registers into regs. */
    uint16_t live_count;
    int (*read_live)(struct bms_link *l, uint16_t *regs);
    /* Returns 0, or -EDOM with why saying what makes the sample implausible (never published). */
    int (*decode_live)(const uint16_t *regs, struct bms_sample *out, char *why, size_t why_size);

    /* The other pages: read with read(), kept by apply_page() (not for BMS_PAGE_EVENTS). */
    struct bms_page_def pages[BMS_PAGE_COUNT];
    int (*read)(struct bms_link *l, uint16_t addr, uint16_t count, uint16_t *regs);
    void (*apply_page)(enum bms_page page, const uint16_t *regs, struct bmsgw_string *st,
                       int64_t read_ms);
    /* The event log page decoded, newest first; returns the number of entries. */
    unsigned (*decode_events)(const uint16_t *regs, struct bmsgw_bms_event out[BMSGW_EVENTS_MAX]);
    /* Something to tell the user about the first settings read (into buf), or NULL. */
    const char *(*settings_note)(const uint16_t *regs, char *buf, size_t size);

    /* Settings writes: a raw value for one register of the settings page, checked against the
     * whole page (0, -EINVAL not writable, -ERANGE outside its range; why says which). */
    int (*setting_check)(const uint16_t *settings, unsigned addr, uint16_t raw, char *why,
                         size_t why_size);
    const char *(*setting_key)(unsigned addr); /* its name, or NULL */
    /* The settings for people and the API: entry i (0, 1, ...); false past the last. */
    bool (*setting_at)(unsigned i, struct bms_setting *out);
    /* Its value from the settings page as read (bmsgw_string.settings_reg): 0, or -ENODATA /
     * -EDOM when the registers hold none. */
    int (*setting_value)(const struct bms_setting *s, const uint16_t *page, double *value);
    /* words (s->words registers from s->addr, holding their current contents) with value
     * encoded: 0, or -EINVAL / -ERANGE with why naming what is allowed. */
    int (*setting_encode)(const struct bms_setting *s, double value, uint16_t *words, char *why,
                          size_t why_size);
    int (*write)(struct bms_link *l, uint16_t addr, uint16_t value);
    int (*control)(struct bms_link *l, enum bms_control what);
};

/* The TinyBMS (src/bms/tinybms_driver.c). */
extern const struct bms_driver tinybms_driver;

/* The drivers built in, NULL-terminated; the first is the default (src/bms/bms_drivers.c). */
extern const struct bms_driver *const bms_drivers[];

/* The driver bms.ports[].type of this port selects from the NULL-terminated list (bms_drivers
 * when list is NULL); the first one for an index out of range, which validation never lets
 * through. */
const struct bms_driver *bms_driver_pick(const struct bms_driver *const *list,
                                         const struct cfg_port *port);
const struct bms_driver *bms_driver_of(const struct cfg_port *port);

/* The setting called key (setting_at), false when the driver has none. */
bool bms_setting_find(const struct bms_driver *d, const char *key, struct bms_setting *out);

/* ---- shared by every driver (src/bms/bms_sample.c) ---------------------------------------- */

/* The series cell count of s against the count the string must have (spec/victron-can.md
 * "Safety invariants" 5): expected = 0 accepts any. Returns 0 or -EDOM with why set, naming
 * where the expected count came from (source, e.g. "bms.ports[0].cells"). */
int bms_sample_check_cells(const struct bms_sample *s, unsigned expected, const char *source,
                           char *why, size_t why_size);

/* Publish an accepted sample into string i of sys at its range r: cells (slots of the range
 * above the reported count are zeroed), flags, sensors, values, extremes with positions,
 * sample_ms and online = true; grows sys->cell_count / sensor_count to cover the range. A
 * sample that does not fit its range, or a range outside the system, changes nothing. */
void bms_sample_apply(const struct bms_sample *s, struct bmsgw_system *sys, unsigned i,
                      const struct bms_range *r, const char *bms_name, int64_t sample_ms);

/*
 * Which events of cur[] are new against prev[] (the previous read). Without a baseline (the
 * first read after start) nothing is new. An entry is new when it is not in prev and not older
 * than prev's newest entry (a shifted log does not repeat old events). Writes the new ones to
 * fresh[] oldest first and returns how many.
 */
unsigned bms_events_new(const struct bmsgw_bms_event *prev, unsigned n_prev, bool baseline,
                        const struct bmsgw_bms_event *cur, unsigned n_cur,
                        struct bmsgw_bms_event *fresh);

#endif
