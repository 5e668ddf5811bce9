/* SPDX-License-Identifier: MIT */
/* http_static.c — safe URL-path-to-file mapping for the dashboard's static files. */
#include "bmsgw/http_static.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".webmanifest", "application/manifest+json" },
    { ".txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (unsigned i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

static bool safe_path(const char *p)
{
    bool seg_start = true;
    if (*p != '/')
        return false;
    for (p++; *p; p++) {
        char c = *p;
        if (c == '/') {
            if (seg_start)
                return false; /* "//" */
            seg_start = true;
            continue;
        }
        if (seg_start && c == '.')
            return false; /* ".." and hidden files */
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
        seg_start = false;
    }
    return !seg_start; /* no trailing slash */
}

int http_static_resolve(const char *path, const char *web_root, const char *chartjs_dir, char *out,
                        size_t size, const char **content_type)
{
    static const char chart_prefix[] = "/chart.js/";
    const char *root = web_root, *rel = path;
    if (strcmp(path, "/") == 0)
        rel = "/index.html";
    else if (strncmp(path, chart_prefix, sizeof(chart_prefix) - 1) == 0) {
        root = chartjs_dir;
        rel = path + sizeof(chart_prefix) - 2;
    }
    if (!safe_path(rel) || !(*content_type = type_of(rel)))
        return -ENOENT;
    int n = snprintf(out, size, "%s%s", root, rel);
    return n > 0 && (size_t)n < size ? 0 : -ENOENT;
}
