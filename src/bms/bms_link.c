/* SPDX-License-Identifier: MIT */
/* bms_link.c — the serial port of a BMS link (libmodbus), opened and closed through its driver. */
#include "bms_link.h"

#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <string.h>

int bms_link_open_serial(struct bms_link *l, const struct bms_driver *drv,
                         const struct cfg_port *port, char *note, unsigned note_size)
{
    const struct bms_link_params *lp = &drv->link;
    modbus_t *ctx =
        modbus_new_rtu(port->device, lp->baud, lp->parity, lp->data_bits, lp->stop_bits);
    if (!ctx) {
        snprintf(l->error, sizeof(l->error), "cannot set up %s: %s", port->device, strerror(errno));
        return -EINVAL;
    }
    modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE);
    modbus_set_slave(ctx, lp->slave);
    if (modbus_connect(ctx) < 0) {
        int err = errno;
        snprintf(l->error, sizeof(l->error), "cannot open %s: %s", port->device, strerror(err));
        modbus_free(ctx);
        return -err;
    }
    if (port->rs485 && modbus_rtu_set_serial_mode(ctx, MODBUS_RTU_RS485) < 0 && note)
        snprintf(note, note_size, "RS485 mode not applicable to %s (%s)", port->device,
                 errno == ENOTTY ? "not an RS485 port" : strerror(errno));
    if (port->rts != CFG_RTS_NONE) {
        modbus_rtu_set_rts(ctx, port->rts == CFG_RTS_UP ? MODBUS_RTU_RTS_UP : MODBUS_RTU_RTS_DOWN);
        if (port->rts_delay_us > 0)
            modbus_rtu_set_rts_delay(ctx, port->rts_delay_us);
    }
    l->ctx = ctx;
    l->fd = modbus_get_socket(ctx);
    modbus_flush(ctx);
    return 0;
}

void bms_link_close_serial(struct bms_link *l)
{
    if (l->ctx) {
        modbus_close(l->ctx);
        modbus_free(l->ctx);
    }
    l->ctx = NULL;
    l->fd = -1;
}

int bms_link_open(struct bms_link *l, const struct bms_driver *drv, const struct cfg_port *port,
                  char *note, unsigned note_size)
{
    if (note && note_size)
        note[0] = '\0';
    l->fd = -1;
    l->quirks = 0;
    int rc = drv->open(l, drv, port, note, note_size);
    l->is_open = rc == 0;
    return rc;
}

void bms_link_close(struct bms_link *l, const struct bms_driver *drv)
{
    if (l->is_open)
        drv->close(l);
    l->is_open = false;
}

bool bms_link_is_open(const struct bms_link *l)
{
    return l->is_open;
}

void bms_link_publish(struct bms_link *l, enum bus_dir dir, const uint8_t *p, size_t n)
{
    if (n && l->bus && bus_has_subscribers(l->bus, BUS_UART))
        bus_publish_bytes(l->bus, BUS_UART, dir, l->source, 0, p, (unsigned)n);
}
