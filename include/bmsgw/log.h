/* SPDX-License-Identifier: MIT */
/* log.h — the daemon's one logging API: levels, thread tags, journald prefixes, rate limits. */
#ifndef BMSGW_LOG_H
#define BMSGW_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include "bmsgw/clock.h"
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

enum log_target {
    LOG_TARGET_STDERR = 0, /* journald "<N>" prefixes when JOURNAL_STREAM is set, else timestamps */
    LOG_TARGET_SYSLOG,
};

/* A sink replaces the output (tests). level is a syslog level, line has no newline. */
typedef void (*log_sink_fn)(int level, const char *tag, const char *line, void *ctx);

void log_open(enum log_target target, int level);
void log_set_level(int level);
int log_get_level(void);
void log_set_sink(log_sink_fn fn, void *ctx);

/* Level names: "error", "warning", "notice", "info", "debug". Returns -1 for an unknown name. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

/* Tag of the calling thread ("main", "bms:house", "can", ...), copied; at most 23 characters. */
void log_set_thread(const char *tag);

/* Hand writing over to a background thread so a slow journal never blocks a service thread;
 * when its queue is full, messages are dropped and counted. Returns 0 or -errno. */
int log_start_async(void);
/* Flush the queue and stop the thread (writing becomes synchronous again). */
void log_stop_async(void);
/* Messages dropped because the queue was full. */
uint64_t log_dropped(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

/* Rate limiting for repeats: one message per interval; the next one that passes says how many
 * were suppressed. */
struct log_ratelimit {
    int64_t last_ms;
    unsigned suppressed;
};

/* True when a message may be logged now; *suppressed gets the count held back since the last. */
bool log_ratelimit_pass(struct log_ratelimit *rl, int64_t now_ms, int interval_ms,
                        unsigned *suppressed);

#define log_ratelimited(level, interval_ms, fmt, ...)                                              \
    do {                                                                                           \
        static struct log_ratelimit rl_;                                                           \
        unsigned supp_;                                                                            \
        if (log_ratelimit_pass(&rl_, clock_mono_ms(), (interval_ms), &supp_)) {                    \
            if (supp_)                                                                             \
                log_msg((level), fmt " (%u similar messages suppressed)", ##__VA_ARGS__, supp_);   \
            else                                                                                   \
                log_msg((level), fmt, ##__VA_ARGS__);                                              \
        }                                                                                          \
    } while (0)

#endif
