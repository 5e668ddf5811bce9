/* SPDX-License-Identifier: MIT */
/* log.c — formatting, thread tags, journald/syslog output and the asynchronous writer. */
#include "bmsgw/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 480
#define TAG_MAX      24
#define QUEUE_LEN    256

struct entry {
    int level;
    int64_t real_ms;
    char tag[TAG_MAX];
    char line[LINE_MAX_LEN];
};

static _Atomic int g_level = LOG_INFO;
static enum log_target g_target = LOG_TARGET_STDERR;
static bool g_journal;
static log_sink_fn g_sink;
static void *g_sink_ctx;
static _Thread_local char t_tag[TAG_MAX] = "main";

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct entry g_queue[QUEUE_LEN];
static unsigned q_head, q_len;
static bool q_async, q_stop;
static pthread_t q_thread;
static _Atomic uint64_t g_dropped;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[8] = {
    [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_open(enum log_target target, int level)
{
    g_target = target;
    g_level = level;
    g_journal = getenv("JOURNAL_STREAM") != NULL;
    if (target == LOG_TARGET_SYSLOG)
        openlog("bmsgw", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
    g_level = level;
}

int log_get_level(void)
{
    return g_level;
}

void log_set_sink(log_sink_fn fn, void *ctx)
{
    pthread_mutex_lock(&out_lock);
    g_sink = fn;
    g_sink_ctx = ctx;
    pthread_mutex_unlock(&out_lock);
}

int log_level_from_name(const char *name)
{
    for (int i = 0; i < 8; i++)
        if (level_names[i] && strcmp(level_names[i], name) == 0)
            return i;
    return -1;
}

const char *log_level_name(int level)
{
    if (level < 0 || level > 7 || !level_names[level])
        return "unknown";
    return level_names[level];
}

void log_set_thread(const char *tag)
{
    snprintf(t_tag, sizeof(t_tag), "%s", tag);
}

static void write_entry(const struct entry *e)
{
    char buf[LINE_MAX_LEN + 96];
    int n;

    pthread_mutex_lock(&out_lock);
    if (g_sink) {
        g_sink(e->level, e->tag, e->line, g_sink_ctx);
    } else if (g_target == LOG_TARGET_SYSLOG) {
        syslog(e->level, "[%s] %s", e->tag, e->line);
    } else {
        if (g_journal) {
            n = snprintf(buf, sizeof(buf), "<%d>[%s] %s\n", e->level, e->tag, e->line);
        } else {
            time_t sec = (time_t)(e->real_ms / 1000);
            struct tm tm;
            char ts[32];
            localtime_r(&sec, &tm);
            strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
            n = snprintf(buf, sizeof(buf), "%s.%03d %-7s [%s] %s\n", ts, (int)(e->real_ms % 1000),
                         log_level_name(e->level), e->tag, e->line);
        }
        if (n > (int)sizeof(buf) - 1)
            n = (int)sizeof(buf) - 1;
        if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
            /* nowhere left to report it */
        }
    }
    pthread_mutex_unlock(&out_lock);
}

static void *writer_main(void *arg)
{
    (void)arg;
    struct entry e;
    uint64_t reported = 0;

    pthread_mutex_lock(&q_lock);
    for (;;) {
        while (q_len == 0 && !q_stop)
            pthread_cond_wait(&q_cond, &q_lock);
        if (q_len == 0 && q_stop)
            break;
        e = g_queue[q_head];
        q_head = (q_head + 1) % QUEUE_LEN;
        q_len--;
        pthread_mutex_unlock(&q_lock);
        write_entry(&e);
        uint64_t dropped = atomic_load(&g_dropped);
        if (dropped != reported) {
            struct entry d = { .level = LOG_WARNING, .real_ms = e.real_ms, .tag = "log" };
            snprintf(d.line, sizeof(d.line), "%llu log messages dropped (queue full)",
                     (unsigned long long)(dropped - reported));
            reported = dropped;
            write_entry(&d);
        }
        pthread_mutex_lock(&q_lock);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

int log_start_async(void)
{
    pthread_mutex_lock(&q_lock);
    if (q_async) {
        pthread_mutex_unlock(&q_lock);
        return 0;
    }
    q_stop = false;
    int rc = pthread_create(&q_thread, NULL, writer_main, NULL);
    if (rc == 0)
        q_async = true;
    pthread_mutex_unlock(&q_lock);
    return -rc;
}

void log_stop_async(void)
{
    pthread_mutex_lock(&q_lock);
    if (!q_async) {
        pthread_mutex_unlock(&q_lock);
        return;
    }
    q_stop = true;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
    pthread_join(q_thread, NULL);
    pthread_mutex_lock(&q_lock);
    q_async = false;
    pthread_mutex_unlock(&q_lock);
}

uint64_t log_dropped(void)
{
    return atomic_load(&g_dropped);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    struct entry e;
    va_list ap;

    e.level = level;
    e.real_ms = clock_real_ms();
    memcpy(e.tag, t_tag, sizeof(e.tag));
    va_start(ap, fmt);
    vsnprintf(e.line, sizeof(e.line), fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&q_lock);
    if (!q_async) {
        pthread_mutex_unlock(&q_lock);
        write_entry(&e);
        return;
    }
    if (q_len == QUEUE_LEN) {
        atomic_fetch_add(&g_dropped, 1);
    } else {
        g_queue[(q_head + q_len) % QUEUE_LEN] = e;
        q_len++;
        pthread_cond_signal(&q_cond);
    }
    pthread_mutex_unlock(&q_lock);
}

bool log_ratelimit_pass(struct log_ratelimit *rl, int64_t now_ms, int interval_ms,
                        unsigned *suppressed)
{
    bool pass;
    pthread_mutex_lock(&rl_lock);
    if (rl->last_ms == 0 || now_ms - rl->last_ms >= interval_ms) {
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
        rl->last_ms = now_ms;
        pass = true;
    } else {
        rl->suppressed++;
        *suppressed = 0;
        pass = false;
    }
    pthread_mutex_unlock(&rl_lock);
    return pass;
}
