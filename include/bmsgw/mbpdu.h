/* SPDX-License-Identifier: MIT */
/* mbpdu.h — Modbus TCP framing (MBAP) and request PDUs answered from a map image (pure). */
#ifndef BMSGW_MBPDU_H
#define BMSGW_MBPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmsgw/mbmap.h"

/*
 * MBAP header: transaction id (2), protocol id (2, must be 0), length (2: unit id + PDU, 2..254),
 * unit id (1). The framer reads by the length field, so a partial frame waits for its bytes and a
 * frame that can never be valid is reported at once (the stream cannot be resynchronised).
 *
 * Function codes 0x01/0x02/0x03/0x04 (FC4 = FC3), 0x05/0x06/0x0F/0x10; every other code gets
 * exception 0x01. Checks in this order: writes refused (0x01) unless allowed; request length and
 * quantity (0x03); every address declared / writable, whole values (0x02); written values in
 * range (0x03); live data stale (0x04); the owner's verdict on a write.
 */

#define MBAP_HEADER_LEN 7
#define MBPDU_MAX_LEN   253
#define MBAP_MAX_FRAME  (MBAP_HEADER_LEN + MBPDU_MAX_LEN - 1) /* 259: unit id is in the header */

enum mbpdu_fc {
    MBPDU_READ_COILS = 0x01,
    MBPDU_READ_DISCRETE = 0x02,
    MBPDU_READ_HOLDING = 0x03,
    MBPDU_READ_INPUT = 0x04,
    MBPDU_WRITE_COIL = 0x05,
    MBPDU_WRITE_REGISTER = 0x06,
    MBPDU_WRITE_COILS = 0x0F,
    MBPDU_WRITE_REGISTERS = 0x10,
};

/* Length of the complete frame at the start of buf (MBAP_HEADER_LEN + PDU), 0 when more bytes
 * are needed, or -EPROTO when the header can never be valid (protocol id != 0, length field
 * outside 2..254). */
int mbap_frame_len(const uint8_t *buf, size_t len);

/* Applies decoded writes for the target; returns MBMAP_EX_NONE or an exception code. */
typedef int (*mbpdu_write_fn)(void *ctx, const struct mbmap_write *w, unsigned n);

struct mbpdu_target {
    const struct mbmap_image *img; /* rendered from one generation */
    bool stale;                    /* the data behind img is stale */
    bool serve_stale;              /* answer live ranges anyway */
    bool allow_writes;
    bool sim_writes;      /* fields writable in the simulator only are writable */
    mbpdu_write_fn write; /* NULL: every write gets 0x04 */
    void *write_ctx;
    struct mbmap_write *wbuf; /* room for MBMAP_MAX_WRITE_BITS decoded values */
};

/* Answer one request PDU (function code first, len bytes) into resp (MBPDU_MAX_LEN bytes).
 * Returns the response length: 2 for an exception (fc | 0x80, code), else the normal reply. */
size_t mbpdu_answer(const struct mbpdu_target *t, const uint8_t *req, size_t len, uint8_t *resp);

/* An exception response: resp[0] = fc | 0x80, resp[1] = code. Returns 2. */
size_t mbpdu_exception(uint8_t fc, uint8_t code, uint8_t *resp);

bool mbpdu_is_write(uint8_t fc);

#endif
