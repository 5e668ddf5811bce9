/* SPDX-License-Identifier: MIT */
/* http.h — the "http" service: REST API, /metrics and the dashboard over libmicrohttpd. */
#ifndef BMSGW_HTTP_H
#define BMSGW_HTTP_H

#include "bmsgw/service.h"

/*
 * Listens on http.bind:http.port with a small pool of libmicrohttpd threads; a housekeeping
 * thread reports progress, samples the chart history every 10 s and applies live keys. Loads or
 * creates the API token (http.api_token_file) at start. Requests are answered as rest.h says;
 * other paths are the dashboard's files from http.web_root and Chart.js from http.chartjs_dir
 * (under /chart.js/).
 */
extern const struct service_ops http_service;

#endif
