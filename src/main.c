/* SPDX-License-Identifier: MIT */
/* main.c — the bmsgw daemon: arguments, configuration, services, signals, watchdog. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bmsgw-build.h"
#include "bmsgw/app.h"
#include "bmsgw/battery_stages.h"
#include "bmsgw/bus.h"
#include "bmsgw/clock.h"
#include "bmsgw/cmdq.h"
#include "bmsgw/compose.h"
#include "bmsgw/config_store.h"
#include "bmsgw/control.h"
#include "bmsgw/event.h"
#include "bmsgw/log.h"
#include "bmsgw/notify.h"
#include "bmsgw/service.h"
#include "bmsgw/snapshot.h"

enum {
    EXIT_USAGE = 2,
    EXIT_RESTART = 75, /* EX_TEMPFAIL: asked to restart (systemd RestartForceExitStatus=75) */
    EXIT_OSERR = 71,
    EXIT_CONFIG = 78, /* EX_CONFIG */
    STOP_BUDGET_MS = 1800,
};

struct options {
    const char *config_path;
    bool check_only;
    bool foreground;
    bool verbose;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bmsgw [-c FILE] [-f] [-t] [-v] [--version]\n"
            "  -c, --config FILE  configuration file (default %s)\n"
            "  -f, --foreground   stay in the foreground and log to stderr\n"
            "  -t, --test         check the configuration (and its runtime overlay) and exit\n"
            "  -v, --verbose      log debug messages\n"
            "      --version      print the version and exit\n",
            CFG_DEFAULT_FILE);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "foreground", no_argument, NULL, 'f' },
        { "test", no_argument, NULL, 't' },
        { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    *o = (struct options){ .config_path = CFG_DEFAULT_FILE };
    while ((c = getopt_long(argc, argv, "c:ftvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 't':
            o->check_only = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'V':
            printf("bmsgw %s\n", BMSGW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bmsgw: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

static int check_config(const struct options *o)
{
    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    struct cfg_error err;
    char msg[700], overlay[CFG_PATH_MAX + 16];
    if (!cfg)
        return EXIT_OSERR;
    int rc = config_load(cfg, o->config_path, NULL, &err);
    if (rc) {
        fprintf(stderr, "bmsgw: %s\n", cfg_error_str(&err, msg, sizeof(msg)));
    } else {
        config_overlay_path(cfg, overlay, sizeof(overlay));
        printf("%s: configuration OK (runtime overlay %s%s)\n", o->config_path, overlay,
               access(overlay, F_OK) == 0 ? "" : ": none");
    }
    free(cfg);
    return rc ? 1 : 0;
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return 0;
}

struct daemon {
    struct options opt;
    struct bmsgw_app app;
    struct service_registry services;
    struct composer composer;
    int sigfd;
    int tickfd;
    char status[512];
    struct log_ratelimit wd_rl;
};

/* Publish the configured strings so consumers see them before the first poll. */
static void seed_snapshot(struct snapshot *snap, const struct bmsgw_config *cfg)
{
    struct bmsgw_system *sys = snapshot_write_begin(snap);
    sys->string_count = (uint16_t)cfg->bms.port_count;
    for (int i = 0; i < cfg->bms.port_count; i++) {
        struct bmsgw_string *st = &sys->strings[i];
        snprintf(st->name, sizeof(st->name), "%s", cfg->bms.ports[i].name);
        st->link.state = BMSGW_LINK_CONNECTING;
        st->link.since_ms = clock_mono_ms();
        st->mosfet_temp_dc = BMSGW_TEMP_ABSENT;
    }
    snapshot_write_commit(snap, clock_mono_ms());
}

static int app_create(struct daemon *d, const struct bmsgw_config *cfg)
{
    struct bmsgw_app *a = &d->app;
    memset(a, 0, sizeof(*a));
    a->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    a->config = config_store_new(cfg, d->opt.config_path);
    a->snap = snapshot_new();
    a->bus = bus_new();
    a->control = control_new();
    a->services = &d->services;
    a->start_ms = clock_mono_ms();
    a->start_real_ms = clock_real_ms();
    if (a->exit_efd < 0 || !a->config || !a->snap || !a->bus || !a->control)
        return -ENOMEM;
    for (int i = 0; i < cfg->bms.port_count; i++)
        if (!(a->bms_cmdq[i] = cmdq_new(8)))
            return -ENOMEM;
    composer_init(&d->composer, a->config, a->control);
    int rc = battery_stages_register(&d->composer);
    if (rc < 0)
        return rc;
    snapshot_set_composer(a->snap, composer_run, &d->composer);
    seed_snapshot(a->snap, cfg);
    return 0;
}

static void app_destroy(struct daemon *d)
{
    struct bmsgw_app *a = &d->app;
    for (int i = 0; i < CFG_MAX_PORTS; i++)
        cmdq_free(a->bms_cmdq[i]);
    control_free(a->control);
    bus_free(a->bus);
    snapshot_free(a->snap);
    config_store_free(a->config);
    if (a->exit_efd >= 0)
        close(a->exit_efd);
}

static int setup_fds(struct daemon *d)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* blocked before any thread starts, so only this thread ever sees them */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -EINVAL;
    signal(SIGPIPE, SIG_IGN);
    d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d->sigfd < 0)
        return -errno;

    uint64_t wd_usec = notify_watchdog_usec();
    int64_t tick_ms = wd_usec ? (int64_t)(wd_usec / 2000) : 1000;
    if (tick_ms > 1000)
        tick_ms = 1000;
    if (tick_ms < 50)
        tick_ms = 50;
    struct itimerspec its = {
        .it_interval = { .tv_sec = tick_ms / 1000, .tv_nsec = (tick_ms % 1000) * 1000000L },
        .it_value = { .tv_sec = tick_ms / 1000, .tv_nsec = (tick_ms % 1000) * 1000000L },
    };
    d->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->tickfd < 0 || timerfd_settime(d->tickfd, 0, &its, NULL) < 0)
        return -errno;
    return 0;
}

/* A config_changed event without a source (a reload). */
static void publish_event(struct daemon *d, enum bmsgw_event_type type, const char *detail)
{
    struct bmsgw_event e = { .type = (uint8_t)type, .string = -1 };
    bmsgw_event_set_text(e.config.detail, sizeof(e.config.detail), detail);
    bmsgw_event_publish(d->app.bus, &e);
}

static void reload(struct daemon *d)
{
    struct bmsgw_config *fresh = malloc(sizeof(*fresh)), *old = malloc(sizeof(*old));
    struct cfg_error err;
    char msg[700], keys[512];

    if (!fresh || !old)
        goto out;
    if (config_load(fresh, d->opt.config_path, NULL, &err) != 0) {
        log_err("reload failed, keeping the running configuration: %s",
                cfg_error_str(&err, msg, sizeof(msg)));
        goto out;
    }
    config_store_lock_changes(d->app.config);
    config_store_get(d->app.config, old);
    if (config_restart_keys(old, fresh, keys, sizeof(keys)) > 0)
        log_warn("reload: these changes take effect after a restart: %s", keys);
    uint64_t gen = config_store_set(d->app.config, fresh);
    config_store_unlock_changes(d->app.config);
    if (!d->opt.verbose)
        log_set_level(config_log_syslog_level(fresh));
    services_reload(&d->services, fresh);
    log_notice("configuration reloaded from %s (generation %llu)", d->opt.config_path,
               (unsigned long long)gen);
    publish_event(d, BMSGW_EV_CONFIG_CHANGED, "reloaded (SIGHUP)");
out:
    free(fresh);
    free(old);
}

static void tick(struct daemon *d, bool watchdog)
{
    char status[sizeof(d->status)];
    int64_t now = clock_mono_ms();
    const char *stuck = services_unhealthy(&d->services, now);

    if (watchdog && !stuck)
        notify_send("WATCHDOG=1");
    else if (stuck) {
        unsigned supp;
        if (log_ratelimit_pass(&d->wd_rl, now, 10000, &supp))
            log_err("service %s made no progress within its watchdog time%s", stuck,
                    watchdog ? "; not pinging the systemd watchdog" : "");
    }
    services_summary(&d->services, status, sizeof(status));
    if (strcmp(status, d->status) != 0) {
        memcpy(d->status, status, sizeof(status));
        notify_sendf("STATUS=%s", status);
        log_info("services: %s", status);
    }
}

/* Returns the exit status. */
static int main_loop(struct daemon *d)
{
    bool watchdog = notify_watchdog_usec() != 0;
    struct pollfd pfd[3] = {
        { .fd = d->sigfd, .events = POLLIN },
        { .fd = d->tickfd, .events = POLLIN },
        { .fd = d->app.exit_efd, .events = POLLIN },
    };
    for (;;) {
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("poll: %s", strerror(errno));
            return EXIT_OSERR;
        }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    notify_send("RELOADING=1");
                    reload(d);
                    notify_send("READY=1");
                } else {
                    log_notice("%s received, stopping", strsignal((int)si.ssi_signo));
                    return 0;
                }
            }
        }
        if (pfd[1].revents & POLLIN) {
            uint64_t expirations;
            if (read(d->tickfd, &expirations, sizeof(expirations)) > 0)
                tick(d, watchdog);
        }
        if (pfd[2].revents & POLLIN) {
            log_notice("restart requested, stopping (exit status %d asks for a restart)",
                       EXIT_RESTART);
            return EXIT_RESTART;
        }
    }
}

static void warn_state_dir(const struct bmsgw_config *cfg)
{
    struct stat st;
    if (stat(cfg->state_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        log_warn("state_dir %s does not exist: energy counters, alert history and runtime "
                 "changes will not be kept",
                 cfg->state_dir);
    else if (access(cfg->state_dir, W_OK) != 0)
        log_warn("state_dir %s is not writable: energy counters, alert history and runtime "
                 "changes will not be kept",
                 cfg->state_dir);
}

static int run(struct daemon *d, const struct bmsgw_config *cfg)
{
    int rc = app_create(d, cfg);
    if (rc) {
        log_err("cannot set up: %s", strerror(-rc));
        return EXIT_OSERR;
    }
    rc = setup_fds(d);
    if (rc) {
        log_err("cannot set up signals and timers: %s", strerror(-rc));
        return EXIT_OSERR;
    }
    log_start_async();
    warn_state_dir(cfg);
    services_init(&d->services, &d->app, bmsgw_service_table);
    unsigned running = services_start(&d->services, cfg);
    log_notice("bmsgw %s started: %u of %u services running", BMSGW_VERSION, running,
               d->services.count);
    tick(d, false);
    notify_send("READY=1");
    int status = main_loop(d);
    notify_send("STOPPING=1");
    services_stop(&d->services, STOP_BUDGET_MS);
    services_deinit(&d->services);
    log_notice("stopped");
    log_stop_async();
    return status;
}

int main(int argc, char **argv)
{
    static struct daemon d = { .sigfd = -1, .tickfd = -1 };
    struct cfg_error err;
    char msg[700];

    int rc = parse_args(argc, argv, &d.opt);
    if (rc >= 0)
        return rc;
    if (d.opt.check_only)
        return check_config(&d.opt);

    struct bmsgw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return EXIT_OSERR;
    log_open(d.opt.foreground ? LOG_TARGET_STDERR : LOG_TARGET_SYSLOG,
             d.opt.verbose ? LOG_DEBUG : LOG_INFO);
    if (config_load(cfg, d.opt.config_path, NULL, &err) != 0) {
        log_err("refusing to start: %s", cfg_error_str(&err, msg, sizeof(msg)));
        free(cfg);
        return EXIT_CONFIG;
    }
    if (!d.opt.verbose)
        log_set_level(config_log_syslog_level(cfg));
    if (!d.opt.foreground && daemonize() < 0) {
        log_err("cannot detach: %s", strerror(errno));
        free(cfg);
        return EXIT_OSERR;
    }
    int status = run(&d, cfg);
    free(cfg);
    app_destroy(&d);
    if (d.sigfd >= 0)
        close(d.sigfd);
    if (d.tickfd >= 0)
        close(d.tickfd);
    return status;
}
