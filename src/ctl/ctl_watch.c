/* SPDX-License-Identifier: MIT */
/* ctl_watch.c — bmsctl watch: a live table that redraws, highlights changes and alarms. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bmsgw/clock.h"
#include "bmsgw/ctl.h"

/* What watch changes and gives back: signals, the terminal's mode, the cursor. */
struct watch {
    struct ctl_session *s;
    int sfd;
    sigset_t old_mask;
    bool screen; /* redraw in place on a terminal */
    int key_fd;  /* a terminal to read 'q' from, or -1 */
    struct termios old_tio;
    struct ctl_result r[2];
    unsigned cur;   /* r[cur] is the newest reading */
    bool have_prev; /* r[cur ^ 1] holds the reading before */
    char error[512];
    long refresh;
};

static int watch_begin(struct watch *w, struct ctl_session *s)
{
    sigset_t mask;
    memset(w, 0, sizeof(*w));
    w->s = s;
    w->key_fd = -1;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &mask, &w->old_mask) != 0)
        return -errno;
    w->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (w->sfd < 0) {
        int rc = -errno;
        sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
        return rc;
    }
    w->screen = s->o->format == CTL_FMT_TEXT && isatty(fileno(s->out));
    if (w->screen && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &w->old_tio) == 0) {
        struct termios raw = w->old_tio;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO); /* keys one by one; Ctrl-C still signals */
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
            w->key_fd = STDIN_FILENO;
    }
    if (w->screen)
        fputs("\033[?25l\033[H\033[2J", s->out); /* hide the cursor, clear */
    return 0;
}

static void watch_end(struct watch *w)
{
    if (w->screen) {
        fputs("\033[0m\033[?25h", w->s->out);
        fflush(w->s->out);
    }
    if (w->key_fd >= 0)
        tcsetattr(w->key_fd, TCSANOW, &w->old_tio);
    close(w->sfd); /* a signal that came in was read from it, so none is left pending */
    sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
    ctl_result_free(&w->r[0]);
    ctl_result_free(&w->r[1]);
}

/* One reading into r[cur ^ 1]; failures are kept as text for the screen. Returns 0 or 1. */
static int watch_read(struct watch *w, int64_t *time_ms)
{
    char *msg = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&msg, &len), *saved = w->s->err;
    unsigned next = w->cur ^ 1;
    w->s->err = err ? err : saved;
    int rc = ctl_session_read(w->s, CTL_CMD_WATCH, NULL, &w->r[next], time_ms);
    w->s->err = saved;
    if (err)
        fclose(err);
    w->error[0] = 0;
    if (rc && msg)
        snprintf(w->error, sizeof(w->error), "%.*s", (int)strcspn(msg, "\n"), msg);
    free(msg);
    if (rc == 0) {
        w->have_prev = w->refresh > 0 && w->r[w->cur].v.n > 0;
        w->cur = next;
    }
    return rc ? 1 : 0;
}

static void clock_text(int64_t time_ms, char *buf, size_t size)
{
    time_t t = (time_t)(time_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
}

/* The screen (or, off a terminal, the next block of text). */
static void draw_text(struct watch *w, int64_t time_ms)
{
    struct ctl_session *s = w->s;
    const struct ctl_result *r = &w->r[w->cur];
    struct ctl_text_style st = { .color = s->color,
                                 .prev = w->have_prev ? &w->r[w->cur ^ 1].v : NULL };
    char *frame = NULL, when[16];
    size_t len = 0;
    FILE *f = open_memstream(&frame, &len);
    if (!f)
        return;
    clock_text(time_ms, when, sizeof(when));
    fprintf(f, "bmsctl watch: %s at %s:%d (unit %d), every %g s, %s, refresh %ld%s\n",
            s->o->map->title, s->o->link.host, s->o->link.port, s->o->link.unit, s->o->interval_s,
            when, w->refresh, w->key_fd >= 0 ? "; q or Ctrl-C quits" : "");
    for (unsigned k = 0; k < r->n_sections; k++)
        ctl_text_section(f, r->sec[k].title, &r->v, r->sec[k].first, r->sec[k].end, &st);
    if (w->error[0])
        fprintf(f, "\n%s%s (retrying)%s\n", s->color ? "\033[1;31m" : "", w->error,
                s->color ? "\033[0m" : "");
    fclose(f);
    if (w->screen) {
        fputs("\033[H", s->out);
        for (char *p = frame; *p; p++) { /* clear what is left of each line */
            if (*p == '\n')
                fputs("\033[K", s->out);
            fputc(*p, s->out);
        }
        fputs("\033[J", s->out);
    } else {
        fprintf(s->out, "%s%s", w->refresh > 1 ? "\n" : "", frame);
    }
    free(frame);
    fflush(s->out);
}

static void draw(struct watch *w, int64_t time_ms, bool ok)
{
    struct ctl_session *s = w->s;
    const struct ctl_result *r = &w->r[w->cur];
    if (s->o->format == CTL_FMT_TEXT) {
        draw_text(w, time_ms);
    } else if (!ok) {
        fprintf(s->err, "%s\n", w->error);
    } else if (s->o->format == CTL_FMT_JSON) {
        ctl_print_result(s, CTL_CMD_WATCH, r, time_ms);
    } else {
        if (w->refresh == 1)
            ctl_csv_header(s->out, true);
        for (unsigned k = 0; k < r->n_sections; k++)
            ctl_csv_rows(s->out, &r->v, r->sec[k].first, r->sec[k].end, time_ms);
        fflush(s->out);
    }
}

/* Wait until deadline_ms; false when asked to stop (a signal, or q on the terminal). */
static bool watch_wait(struct watch *w, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - clock_mono_ms();
        if (left <= 0)
            return true;
        struct pollfd p[2] = { { .fd = w->sfd, .events = POLLIN },
                               { .fd = w->key_fd, .events = POLLIN } };
        int n = poll(p, w->key_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR)
            return false;
        if (n > 0 && (p[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(w->sfd, &si, sizeof(si)) > 0)
                return false;
        }
        if (n > 0 && w->key_fd >= 0 && (p[1].revents & POLLIN)) {
            char c;
            if (read(w->key_fd, &c, 1) == 1 && (c == 'q' || c == 'Q'))
                return false;
        }
    }
}

int ctl_watch(struct ctl_session *s, double interval_s, long count)
{
    struct watch w;
    int last = 0;
    if (watch_begin(&w, s) != 0) {
        fprintf(s->err, "bmsctl: watch: cannot set up signal handling: %s\n", strerror(errno));
        return CTL_EXIT_IO;
    }
    for (;;) {
        int64_t start = clock_mono_ms(), time_ms = clock_real_ms();
        w.refresh++;
        last = watch_read(&w, &time_ms);
        draw(&w, time_ms, last == 0);
        if (count && w.refresh >= count)
            break;
        if (!watch_wait(&w, start + (int64_t)(interval_s * 1000)))
            break;
    }
    watch_end(&w);
    if (s->o->format == CTL_FMT_TEXT && !count)
        fputc('\n', s->out);
    return last ? CTL_EXIT_IO : CTL_EXIT_OK;
}
