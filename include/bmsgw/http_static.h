/* SPDX-License-Identifier: MIT */
/* http_static.h — mapping a URL path to a file of the dashboard or of Chart.js. */
#ifndef BMSGW_HTTP_STATIC_H
#define BMSGW_HTTP_STATIC_H

#include <stddef.h>

/*
 * Resolve path ("/", "/app.js", "/chart.js/chart.min.js") to a file name under web_root or
 * chartjs_dir (pure). Only [A-Za-z0-9._-] segments separated by single slashes are accepted; no
 * segment may start with a dot. Returns 0 with out filled and *content_type set, or -ENOENT.
 */
int http_static_resolve(const char *path, const char *web_root, const char *chartjs_dir, char *out,
                        size_t size, const char **content_type);

#endif
