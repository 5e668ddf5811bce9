/* SPDX-License-Identifier: MIT */
/* bms_drivers.c — the BMS drivers built in, and the names bms.ports[].type accepts. */
#include "bmsgw/bms_driver.h"
#include "bmsgw/config.h"

#include <string.h>

/* The first is the default of bms.ports[].type. Adding a driver: its files and one line here. */
const struct bms_driver *const bms_drivers[] = {
    &tinybms_driver,
    NULL,
};

unsigned cfg_bms_driver_count(void)
{
    return sizeof(bms_drivers) / sizeof(bms_drivers[0]) - 1;
}

const char *cfg_bms_driver_name(unsigned d)
{
    return d < cfg_bms_driver_count() ? bms_drivers[d]->name : NULL;
}

unsigned cfg_bms_driver_max_cells(unsigned d)
{
    return d < cfg_bms_driver_count() ? bms_drivers[d]->max_cells : 0;
}

const struct bms_driver *bms_driver_pick(const struct bms_driver *const *list,
                                         const struct cfg_port *port)
{
    if (!list)
        list = bms_drivers;
    unsigned n = 0;
    while (list[n])
        n++;
    unsigned d = port->type >= 0 ? (unsigned)port->type : 0;
    return list[d < n ? d : 0];
}

const struct bms_driver *bms_driver_of(const struct cfg_port *port)
{
    return bms_driver_pick(bms_drivers, port);
}

bool bms_setting_find(const struct bms_driver *d, const char *key, struct bms_setting *out)
{
    for (unsigned i = 0; d->setting_at && d->setting_at(i, out); i++)
        if (strcmp(out->key, key) == 0)
            return true;
    return false;
}
