/* SPDX-License-Identifier: MIT */
/* sysinfo.h — the daemon's own process and threads as /proc shows them (CPU, RSS, tasks). */
#ifndef BMSGW_SYSINFO_H
#define BMSGW_SYSINFO_H

#include <jansson.h>
#include <stdint.h>

struct sysinfo_proc {
    double cpu_user_s;
    double cpu_system_s;
    uint64_t rss_bytes;
    uint64_t vm_bytes;
    unsigned threads;
};

struct sysinfo_task {
    int tid;
    char name[32];
    char state; /* R, S, D, Z, T, ... */
    double cpu_user_s;
    double cpu_system_s;
};

/* Parse one /proc/.../stat line (pure; the name may hold spaces and parentheses).
 * Returns 0 or -EINVAL. ticks_per_s = sysconf(_SC_CLK_TCK). */
int sysinfo_parse_stat(const char *line, long ticks_per_s, struct sysinfo_task *out);

/* CPU times, resident and virtual size and thread count of this process. Returns 0 or -errno. */
int sysinfo_self(struct sysinfo_proc *out);

/* The process's threads: [{tid, name, state, cpu_user_s, cpu_system_s}], by tid. NULL on error. */
json_t *sysinfo_tasks_json(void);

/* Name of a /proc state letter ("running", "sleeping", "disk-sleep", ...). */
const char *sysinfo_state_name(char state);

#endif
