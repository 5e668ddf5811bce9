/* SPDX-License-Identifier: MIT */
/* mbmap.h — Modbus register maps as data: declared ranges, typed fields, rendering, decoding. */
#ifndef BMSGW_MBMAP_H
#define BMSGW_MBMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A map is a table of declared address ranges and of typed fields. A field is `count` values of
 * one type laid out every `stride` registers (or bits), optionally repeated in `groups` every
 * `group_stride` (the Tescom arms). Each value comes from a getter over the map's source struct
 * (mbmap_maps.h), in engineering units; the engine scales, rounds, clamps and lays it out.
 *
 * The same tables serve three users: the server renders an image from a source and answers
 * requests from it (mbpdu.h), the simulators fill the sources from their physics, and a client
 * (bmsctl) plans batched reads, decodes raw registers and names values. Nothing re-types an
 * address.
 *
 * Addresses are Modbus PDU addresses (0-based). FC3 and FC4 read the same register table.
 */

/* The maps (same order as enum cfg_map_kind). */
enum mbmap_kind {
    MBMAP_MEGA = 0,
    MBMAP_TESCOM,
    MBMAP_PACK12S,
    MBMAP_TESTPATTERN,
    MBMAP_KIND_COUNT
};

/* The three address spaces: coils (FC1/5/15), discrete inputs (FC2), registers (FC3/4/6/16). */
enum mbmap_table { MBMAP_COILS = 0, MBMAP_DISCRETE, MBMAP_REGS, MBMAP_TABLE_COUNT };

enum mbmap_type {
    MBMAP_U16 = 0,
    MBMAP_S16,
    MBMAP_U32,
    MBMAP_S32,
    MBMAP_F16, /* IEEE 754 half in one register */
    MBMAP_F32,
    MBMAP_F64,
    MBMAP_STRING, /* str_regs registers, two ASCII characters each, first in the high byte */
    MBMAP_BIT,    /* coils and discrete inputs */
};

/* Word order of 32/64-bit values (same values as enum cfg_word_order). */
enum mbmap_word_order {
    MBMAP_WORDS_ABCD = 0, /* most significant word first (Modbus convention) */
    MBMAP_WORDS_CDAB,     /* least significant word first (every word of a 64-bit value) */
};

/* Range flags. */
enum {
    MBMAP_LIVE = 1u << 0, /* battery data: refused with 0x04 while stale (unless serving stale) */
};

/* Field flags. */
enum {
    MBMAP_WRITABLE = 1u << 0,  /* writable where writes are allowed (gateway and simulator) */
    MBMAP_SIM_WRITE = 1u << 1, /* writable in the simulator only (fault injection) */
    MBMAP_ABSENT = 1u << 2,    /* absent_raw marks a value that is not measured */
    MBMAP_ALARM = 1u << 3,     /* a value other than 0 reports an active alarm or warning */
};

/* Modbus exception codes. */
enum mbmap_exception {
    MBMAP_EX_NONE = 0,
    MBMAP_EX_ILLEGAL_FUNCTION = 0x01,
    MBMAP_EX_ILLEGAL_ADDRESS = 0x02,
    MBMAP_EX_ILLEGAL_VALUE = 0x03,
    MBMAP_EX_DEVICE_FAILURE = 0x04,
    MBMAP_EX_GATEWAY_TARGET = 0x0B,
};

/* Protocol quantity limits. */
#define MBMAP_MAX_READ_REGS  125
#define MBMAP_MAX_READ_BITS  2000
#define MBMAP_MAX_WRITE_REGS 123
#define MBMAP_MAX_WRITE_BITS 1968
#define MBMAP_ADDR_SPACE     65536u

struct mbmap_range {
    uint8_t table; /* enum mbmap_table */
    uint8_t flags; /* MBMAP_LIVE */
    uint16_t first;
    uint16_t last; /* inclusive */
    const char *name;
};

struct mbmap_field;

/* The value of (group, item) in engineering units. Returns false when it does not exist (the
 * register then holds absent_raw for MBMAP_ABSENT fields, 0 otherwise). */
typedef bool (*mbmap_get_fn)(const void *src, const struct mbmap_field *f, unsigned group,
                             unsigned item, double *value);
/* The text of a string field (NUL-terminated; longer text is cut at 2 x str_regs characters). */
typedef const char *(*mbmap_str_fn)(const void *src, const struct mbmap_field *f);

struct mbmap_field {
    const char *key;   /* snake_case, unique in the map: "cell_voltage" */
    const char *label; /* for people: "voltage" -> "arm 2 battery 4 voltage" */
    const char *unit;  /* "V", "mV", "A", "%", "degC", "Ah", "" */
    uint8_t table;     /* enum mbmap_table */
    uint8_t type;      /* enum mbmap_type */
    uint8_t flags;     /* MBMAP_WRITABLE, MBMAP_SIM_WRITE, MBMAP_ABSENT */
    uint16_t addr;     /* address of group 0, item 0 */
    uint16_t count;    /* items per group (>= 1) */
    uint16_t stride;   /* registers or bits from one item to the next (>= the value's width) */
    uint16_t groups;   /* 0 or 1 = one group */
    uint16_t group_stride;
    const char *group_label; /* "arm" (NULL when one group) */
    const char *item_label;  /* "cell", "battery", "sensor" (NULL when count == 1) */
    double scale;            /* engineering value = raw x scale (0 means 1) */
    uint16_t str_regs;       /* MBMAP_STRING: registers of the text */
    uint16_t absent_raw;     /* MBMAP_ABSENT: first register of a value that is not measured */
    double min, max;         /* writable fields: accepted engineering values */
    int arg;                 /* free for the getter */
    mbmap_get_fn get;
    mbmap_str_fn get_str;
    const char *const *bit_names; /* a bit-field register: names of bits 0..15 (NULL entries
                                     unused); NULL for a number */
};

struct mbmap {
    const char *name; /* "mega", "tescom", "pack12s", "testpattern" */
    const char *title;
    uint8_t kind;    /* enum mbmap_kind = enum cfg_map_kind (the default port: config.h) */
    size_t src_size; /* size of the source struct the getters read (mbmap_maps.h) */
    const struct mbmap_range *ranges;
    unsigned n_ranges;
    const struct mbmap_field *fields;
    unsigned n_fields;
};

/* The map of a kind (NULL for an unknown kind) and by name ("mega", ...; NULL if unknown). */
const struct mbmap *mbmap_get(int kind);
const struct mbmap *mbmap_find(const char *name);

/* ---- fields: addresses, widths, names ------------------------------------------------------ */

/* Registers one value occupies (1 for bits and 16-bit types, 2, 4, or str_regs). */
unsigned mbmap_field_width(const struct mbmap_field *f);
unsigned mbmap_field_groups(const struct mbmap_field *f);
/* Address of (group, item); -1 when out of the field. */
long mbmap_field_addr(const struct mbmap_field *f, unsigned group, unsigned item);
/* Engineering scale (1 when the table says 0). */
double mbmap_field_scale(const struct mbmap_field *f);
/* The field with this key, or NULL. */
const struct mbmap_field *mbmap_field_find(const struct mbmap *m, const char *key);
/* The field whose value covers addr in table; *group, *item and *offset (register within the
 * value) are set. NULL when no field covers addr (a declared but unused address reads 0). */
const struct mbmap_field *mbmap_locate(const struct mbmap *m, int table, unsigned addr,
                                       unsigned *group, unsigned *item, unsigned *offset);
/* "arm 2 battery 4 voltage", "cell 17 voltage", "SOC" into buf; returns buf. */
const char *mbmap_value_name(const struct mbmap_field *f, unsigned group, unsigned item, char *buf,
                             size_t size);

/* True when [addr, addr + qty) of table lies inside the declared ranges (ranges that touch are
 * one span). */
bool mbmap_declared(const struct mbmap *m, int table, unsigned addr, unsigned qty);

/* ---- batched reads (clients) --------------------------------------------------------------- */

struct mbmap_span {
    uint16_t addr;
    uint16_t qty;
};

/* Split [first, last] of table into the fewest reads of at most max_qty that each lie inside
 * the declared ranges; undeclared addresses are skipped. Writes up to max_out spans; returns
 * how many are needed (may exceed max_out). */
unsigned mbmap_plan_reads(const struct mbmap *m, int table, unsigned first, unsigned last,
                          unsigned max_qty, struct mbmap_span *out, unsigned max_out);

/* Plan reads of table covering every address a < size with need[a] != 0: each read starts at a
 * needed address and reaches as far as max_qty and the declared span allow (greedy, which is the
 * fewest reads), and ends at a needed address. A needed address outside the declared ranges gets
 * reads of its own run of needed addresses (the device answers them with an exception). Writes
 * up to max_out spans; returns how many are needed (may exceed max_out). */
unsigned mbmap_plan_cover(const struct mbmap *m, int table, const uint8_t *need, unsigned size,
                          unsigned max_qty, struct mbmap_span *out, unsigned max_out);

/* ---- value encoding ------------------------------------------------------------------------ */

/* Encode an engineering value into raw registers (mbmap_field_width() of them) in word order:
 * value / scale rounded to nearest and clamped to the type (NaN -> 0 for integers). For bits,
 * regs[0] = 0 or 1. Strings are not encoded here. */
void mbmap_encode(const struct mbmap_field *f, double value, int word_order, uint16_t *regs);
/* Decode raw registers into an engineering value. Returns 1 when the value is the field's
 * absent marker (value then NaN), else 0. */
int mbmap_decode(const struct mbmap_field *f, const uint16_t *regs, int word_order, double *value);
/* Decode a string field's registers into buf (stops at the first NUL). Returns buf. */
const char *mbmap_decode_str(const struct mbmap_field *f, const uint16_t *regs, char *buf,
                             size_t size);

/* The names of the bits set in raw, comma-separated ("charging, balancing"; "" when none, "bit 9"
 * for a set bit without a name) into buf; returns buf. */
const char *mbmap_bit_list(const struct mbmap_field *f, unsigned raw, char *buf, size_t size);

/* IEEE 754 half precision (round to nearest even; overflow -> infinity). */
uint16_t mbmap_half_from_double(double v);
double mbmap_half_to_double(uint16_t h);

/* ---- images: what a server answers from ---------------------------------------------------- */

/* Per-address flags of an image. */
enum {
    MBMAP_A_DECLARED = 1u << 0,
    MBMAP_A_LIVE = 1u << 1,
    MBMAP_A_WRITE = 1u << 2,
    MBMAP_A_SIM_WRITE = 1u << 3,
};

struct mbmap_image {
    const struct mbmap *map;
    int word_order;
    uint32_t size[MBMAP_TABLE_COUNT]; /* highest declared address + 1 */
    uint16_t *regs;                   /* size[MBMAP_REGS] registers */
    uint8_t *bits[2];                 /* coils, discrete inputs: one byte per bit */
    uint8_t *flags[MBMAP_TABLE_COUNT];
};

/* Allocate an image of map with its address flags. Returns 0 or -ENOMEM / -EINVAL. */
int mbmap_image_init(struct mbmap_image *img, const struct mbmap *map, int word_order);
void mbmap_image_deinit(struct mbmap_image *img);

/* Render every field from src (a struct of map->src_size bytes) into the image. Pure. */
void mbmap_render(struct mbmap_image *img, const void *src);

/* Flags of [addr, addr + qty) or-ed and and-ed together: *any gets every flag some address has,
 * *all the flags every address has (0 for addresses past the image). */
void mbmap_image_flags(const struct mbmap_image *img, int table, unsigned addr, unsigned qty,
                       unsigned *any, unsigned *all);

/* ---- writes -------------------------------------------------------------------------------- */

/* One decoded value of a write request, handed to the owner of the data. */
struct mbmap_write {
    const struct mbmap_field *field;
    uint16_t group;
    uint16_t item;
    bool absent;  /* the absent marker was written */
    double value; /* engineering units (0/1 for bits) */
};

/*
 * Turn a write of qty registers (regs) or bits (bits, one byte each) at addr into values. Every
 * address must be writable (MBMAP_A_WRITE, or MBMAP_A_SIM_WRITE when sim) and every value it
 * touches must be written whole (else 0x02); every value must be inside [min, max] (else 0x03).
 * Returns MBMAP_EX_NONE with *n values in out (at most max_out), or the exception code.
 */
int mbmap_write_decode(const struct mbmap_image *img, int table, unsigned addr, unsigned qty,
                       const uint16_t *regs, const uint8_t *bits, bool sim, struct mbmap_write *out,
                       unsigned max_out, unsigned *n);

/* The reference of every map in Markdown (docs/modbus-maps.md). */
void mbmap_write_markdown(FILE *out);

/* Names of enums, for messages: "holding/input registers", "int32", "illegal data address". */
const char *mbmap_table_name(int table);
const char *mbmap_type_name(int type);
const char *mbmap_exception_name(int code);

#endif
