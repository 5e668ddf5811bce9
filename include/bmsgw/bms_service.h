/* SPDX-License-Identifier: MIT */
/* bms_service.h — the "bms" service: one TinyBMS poller thread per bms.ports entry. */
#ifndef BMSGW_BMS_SERVICE_H
#define BMSGW_BMS_SERVICE_H

#include "bmsgw/service.h"

/*
 * String i of the snapshot is port i: cells at 16*i.., battery sensors at 2*i... Each poller
 * reads the live block every bms.poll_interval_ms, statistics and events every
 * slow_interval_ms, settings at connect, every settings_interval_ms and after writes, identity
 * at connect; it keeps the link state (connecting, up, degraded, down with backoff), reopens
 * the device when it went away and came back, rejects implausible samples, marks the string
 * offline after stale_after_ms without an accepted sample, integrates the energy counters and
 * serves app->bms_cmdq[i] (bms_cmd.h).
 *
 * On the bus: BUS_UART raw frames (source = string index); BUS_EVENT
 *   {"type":"link_up"|"link_down"|"string_online"|"string_offline","string":i,"name":..,
 *    "detail":..} and {"type":"bms_event","string":i,"id":N,"name":..,"severity":..,
 *    "timestamp_s":N} for every new entry of a TinyBMS event log.
 * Energy counters live in <state_dir>/energy.json (written at most once a minute and at stop).
 */
extern const struct service_ops bms_service_ops;

#endif
