/* SPDX-License-Identifier: MIT */
/* can_dbc.c — a protocol's DBC (docs/victron-bms.dbc) written from its frame table. */
#include "bmsgw/can_proto.h"

static void write_signal(FILE *out, const struct can_signal *s, const char *receiver)
{
    if (s->kind == CAN_SIG_ASCII) {
        /* DBC has no text type: one 8-bit signal per character */
        for (unsigned k = 0; k < s->bits / 8u; k++)
            fprintf(out, " SG_ %s_c%u : %u|8@1+ (1,0) [0|255] \"\" %s\n", s->name, k + 1,
                    s->start_bit + 8 * k, receiver);
        return;
    }
    fprintf(out, " SG_ %s : %u|%u@1%c (%.10g,%.10g) [%.10g|%.10g] \"%s\" %s\n", s->name,
            s->start_bit, s->bits, s->kind == CAN_SIG_SIGNED ? '-' : '+', s->scale, s->offset,
            s->min, s->max, s->unit, receiver);
}

static void write_message(FILE *out, const struct can_proto_frame *f, const char *sender,
                          const char *receiver)
{
    fprintf(out, "BO_ %u %s: %u %s\n", f->id, f->name, f->dlc ? f->dlc : CAN_PROTO_DLC, sender);
    for (unsigned i = 0; i < f->n_signals; i++)
        write_signal(out, &f->signals[i], receiver);
    fprintf(out, "\n");
}

static void write_values(FILE *out, const struct can_proto_frame *f)
{
    for (unsigned i = 0; i < f->n_signals; i++)
        if (f->signals[i].kind == CAN_SIG_FIELD2)
            fprintf(out, "VAL_ %u %s 0 \"%s\" 1 \"%s\" 2 \"%s\" 3 \"%s\" ;\n", f->id,
                    f->signals[i].name, can_field2_name(0), can_field2_name(1), can_field2_name(2),
                    can_field2_name(3));
}

void can_proto_write_dbc(const struct can_proto *p, FILE *out)
{
    const char *self = p->dbc_node_self, *peer = p->dbc_node_peer;
    fprintf(out,
            "VERSION \"bmsgw %s-can\"\n\n"
            "NS_ :\n\tCM_\n\tBA_DEF_\n\tBA_\n\tVAL_\n\tBA_DEF_DEF_\n\n"
            "BS_:\n\n"
            "BU_: %s %s\n\n",
            p->name, self, peer);
    for (unsigned i = 0; i < p->n_frames; i++)
        write_message(out, &p->frames[i], self, peer);
    for (unsigned i = 0; i < p->n_rx; i++)
        write_message(out, &p->rx[i], peer, self);

    fprintf(out, "CM_ \"%s\";\n", p->dbc_title);
    fprintf(out, "CM_ BU_ %s \"%s\";\n", self, p->dbc_node_self_title);
    fprintf(out, "CM_ BU_ %s \"%s\";\n", peer, p->dbc_node_peer_title);
    for (unsigned i = 0; i < p->n_frames; i++)
        fprintf(out, "CM_ BO_ %u \"%s\";\n", p->frames[i].id, p->frames[i].title);
    for (unsigned i = 0; i < p->n_rx; i++)
        fprintf(out, "CM_ BO_ %u \"%s\";\n", p->rx[i].id, p->rx[i].title);

    fprintf(out, "BA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 60000;\n"
                 "BA_DEF_DEF_ \"GenMsgCycleTime\" 0;\n");
    for (unsigned i = 0; i < p->n_frames; i++)
        fprintf(out, "BA_ \"GenMsgCycleTime\" BO_ %u %u;\n", p->frames[i].id,
                p->frames[i].period_ms);
    for (unsigned i = 0; i < p->n_frames; i++)
        write_values(out, &p->frames[i]);
}
