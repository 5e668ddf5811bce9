/* SPDX-License-Identifier: MIT */
/* victron_dbc.c — docs/victron-bms.dbc written from the frame table. */
#include "bmsgw/victron.h"

static const uint16_t rx_ids[] = { VICTRON_ID_KEEPALIVE, VICTRON_ID_INVERTER };

static void write_signal(FILE *out, const struct victron_signal *s, const char *receiver)
{
    if (s->kind == VICTRON_SIG_ASCII) {
        /* DBC has no text type: one 8-bit signal per character */
        for (unsigned k = 0; k < s->bits / 8u; k++)
            fprintf(out, " SG_ %s_c%u : %u|8@1+ (1,0) [0|255] \"\" %s\n", s->name, k + 1,
                    s->start_bit + 8 * k, receiver);
        return;
    }
    fprintf(out, " SG_ %s : %u|%u@1%c (%.10g,%.10g) [%.10g|%.10g] \"%s\" %s\n", s->name,
            s->start_bit, s->bits, s->kind == VICTRON_SIG_SIGNED ? '-' : '+', s->scale, s->offset,
            s->min, s->max, s->unit, receiver);
}

static void write_message(FILE *out, const struct victron_frame *f, const char *sender,
                          const char *receiver)
{
    fprintf(out, "BO_ %u %s: %u %s\n", f->id, f->name, f->dlc ? f->dlc : VICTRON_DLC, sender);
    for (unsigned i = 0; i < f->n_signals; i++)
        write_signal(out, &f->signals[i], receiver);
    fprintf(out, "\n");
}

static void write_values(FILE *out, const struct victron_frame *f)
{
    for (unsigned i = 0; i < f->n_signals; i++)
        if (f->signals[i].kind == VICTRON_SIG_FIELD2)
            fprintf(out, "VAL_ %u %s 0 \"%s\" 1 \"%s\" 2 \"%s\" 3 \"%s\" ;\n", f->id,
                    f->signals[i].name, victron_field2_name(0), victron_field2_name(1),
                    victron_field2_name(2), victron_field2_name(3));
}

void victron_write_dbc(FILE *out)
{
    fprintf(out, "VERSION \"bmsgw victron-can\"\n\n"
                 "NS_ :\n\tCM_\n\tBA_DEF_\n\tBA_\n\tVAL_\n\tBA_DEF_DEF_\n\n"
                 "BS_:\n\n"
                 "BU_: BMSGW GX\n\n");
    for (unsigned i = 0; i < BMSGW_CAN_FRAME_COUNT; i++)
        write_message(out, &victron_frames[i], "BMSGW", "GX");
    for (unsigned i = 0; i < sizeof(rx_ids) / sizeof(rx_ids[0]); i++)
        write_message(out, victron_frame_by_id(rx_ids[i]), "GX", "BMSGW");

    fprintf(out, "CM_ \"Victron CAN-bus BMS frames sent by bmsgw (500 kbit/s, 11-bit IDs, "
                 "little-endian). Generated from the frame table; see spec/victron-can.md.\";\n");
    fprintf(out, "CM_ BU_ BMSGW \"The gateway (the BMS side)\";\n");
    fprintf(out, "CM_ BU_ GX \"Victron GX device (Cerbo GX, Venus OS)\";\n");
    for (unsigned i = 0; i < BMSGW_CAN_FRAME_COUNT; i++)
        fprintf(out, "CM_ BO_ %u \"%s\";\n", victron_frames[i].id, victron_frames[i].title);
    for (unsigned i = 0; i < sizeof(rx_ids) / sizeof(rx_ids[0]); i++)
        fprintf(out, "CM_ BO_ %u \"%s\";\n", rx_ids[i], victron_frame_by_id(rx_ids[i])->title);

    fprintf(out, "BA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 60000;\n"
                 "BA_DEF_DEF_ \"GenMsgCycleTime\" 0;\n");
    for (unsigned i = 0; i < BMSGW_CAN_FRAME_COUNT; i++)
        fprintf(out, "BA_ \"GenMsgCycleTime\" BO_ %u %u;\n", victron_frames[i].id,
                victron_frames[i].period_ms);
    for (unsigned i = 0; i < BMSGW_CAN_FRAME_COUNT; i++)
        write_values(out, &victron_frames[i]);
}
