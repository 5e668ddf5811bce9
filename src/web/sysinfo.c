/* SPDX-License-Identifier: MIT */
/* sysinfo.c — /proc/self readers for the runtime metrics and the thread list. */
#include "bmsgw/sysinfo.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int sysinfo_parse_stat(const char *line, long ticks_per_s, struct sysinfo_task *out)
{
    const char *open = strchr(line, '('), *close = strrchr(line, ')');
    unsigned long utime, stime;
    char state;
    memset(out, 0, sizeof(*out));
    if (!open || !close || close < open || ticks_per_s <= 0)
        return -EINVAL;
    out->tid = atoi(line);
    size_t n = (size_t)(close - open - 1);
    if (n >= sizeof(out->name))
        n = sizeof(out->name) - 1;
    memcpy(out->name, open + 1, n);
    /* after ") ": state (field 3) ... utime (14) stime (15) */
    if (sscanf(close + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &utime,
               &stime) != 3)
        return -EINVAL;
    out->state = state;
    out->cpu_user_s = (double)utime / (double)ticks_per_s;
    out->cpu_system_s = (double)stime / (double)ticks_per_s;
    return 0;
}

const char *sysinfo_state_name(char state)
{
    switch (state) {
    case 'R':
        return "running";
    case 'S':
        return "sleeping";
    case 'D':
        return "disk-sleep";
    case 'Z':
        return "zombie";
    case 'T':
        return "stopped";
    case 't':
        return "tracing-stop";
    case 'I':
        return "idle";
    default:
        return "unknown";
    }
}

int sysinfo_self(struct sysinfo_proc *out)
{
    struct rusage ru;
    unsigned long vm_pages = 0, rss_pages = 0;
    memset(out, 0, sizeof(*out));
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -errno;
    out->cpu_user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    out->cpu_system_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return -errno;
    int got = fscanf(f, "%lu %lu", &vm_pages, &rss_pages);
    fclose(f);
    if (got != 2)
        return -EIO;
    long page = sysconf(_SC_PAGESIZE);
    out->vm_bytes = (uint64_t)vm_pages * (uint64_t)page;
    out->rss_bytes = (uint64_t)rss_pages * (uint64_t)page;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            out->threads++;
    if (d)
        closedir(d);
    return 0;
}

static int read_task(int tid, long ticks, struct sysinfo_task *t)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char *ok = fgets(line, sizeof(line), f);
    fclose(f);
    return ok ? sysinfo_parse_stat(line, ticks, t) : -EIO;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

json_t *sysinfo_tasks_json(void)
{
    int tids[256];
    unsigned n = 0;
    long ticks = sysconf(_SC_CLK_TCK);
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d)
        return NULL;
    while ((e = readdir(d)) && n < sizeof(tids) / sizeof(tids[0]))
        if (e->d_name[0] != '.')
            tids[n++] = atoi(e->d_name);
    closedir(d);
    qsort(tids, n, sizeof(int), cmp_int);
    json_t *arr = json_array();
    for (unsigned i = 0; i < n; i++) {
        struct sysinfo_task t;
        if (read_task(tids[i], ticks, &t) != 0)
            continue; /* the thread ended meanwhile */
        json_array_append_new(arr, json_pack("{s:i,s:s,s:s,s:f,s:f}", "tid", t.tid, "name", t.name,
                                             "state", sysinfo_state_name(t.state), "cpu_user_s",
                                             t.cpu_user_s, "cpu_system_s", t.cpu_system_s));
    }
    return arr;
}
