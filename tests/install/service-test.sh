#!/bin/sh
# SPDX-License-Identifier: MIT
# The installed bmsgw.service under a real systemd (PID 1 in Debian's kernel under qemu, amd64
# or arm64; tests/install/guest.py): started by systemd at boot with the shipped unit and
# /etc/bmsgw.conf. Checks readiness, the identity, capabilities and sandbox of the running
# daemon, its network services, the watchdog (pings, and a kill and restart when they stop),
# reload (good and bad files), a refused configuration at start, TinyBMS to CAN end to end
# (simulator on a serial device, vcan) and a clean stop. One line per check goes to $RESULTS
# ("ok NAME" or "FAIL NAME: why"); the host reads it. Every wait is bounded, generously: the
# guest's CPU is emulated, and a bound is only where the test gives up.
RESULTS=${RESULTS:-/results/service.log}
CONF=/etc/bmsgw.conf
: >"$RESULTS"

ok() { echo "ok $1" >>"$RESULTS"; }
fail() { echo "FAIL $1: $2" >>"$RESULTS"; }
prop() { systemctl show bmsgw -p "$1" --value; }
note() { echo "# $*" >>"$RESULTS"; }

# wait_until SECONDS COMMAND...: true as soon as COMMAND succeeds, false after SECONDS.
wait_until() {
    tries=$(($1 * 10))
    shift
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}
is_active() { [ "$(systemctl is-active bmsgw)" = active ]; }
journal_has() { journalctl -u bmsgw --no-pager -o cat | grep -q -- "$1"; }
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

check_running() {
    if wait_until 120 is_active; then
        ok "active: systemd got READY=1 (Type=notify)"
    else
        fail active "state $(systemctl is-active bmsgw): $(journalctl -u bmsgw --no-pager -o cat | tail -5)"
        return 1
    fi
    pid=$(prop MainPID)
    [ -n "$(prop StatusText)" ] && ok "status text: $(prop StatusText)" ||
        fail "status text" "no STATUS= received"
}

check_identity() {
    uid=$(id -u bmsgw) dialout=$(getent group dialout | cut -d: -f3)
    [ "$(status_field "$pid" Uid | awk '{print $1 $2 $3 $4}')" = "$uid$uid$uid$uid" ] &&
        ok "runs as user bmsgw" || fail user "Uid: $(status_field "$pid" Uid)"
    status_field "$pid" Groups | tr ' ' '\n' | grep -qx "$dialout" &&
        ok "member of dialout" || fail groups "Groups: $(status_field "$pid" Groups)"
    # CAP_NET_BIND_SERVICE is bit 10: 0x400, and nothing else in any set
    bad=""
    for set in CapInh CapPrm CapEff CapBnd CapAmb; do
        [ "$(status_field "$pid" $set)" = 0000000000000400 ] || bad="$bad $set=$(status_field "$pid" $set)"
    done
    [ -z "$bad" ] && ok "capabilities: CAP_NET_BIND_SERVICE only" || fail capabilities "$bad"
    [ "$(status_field "$pid" NoNewPrivs)" = 1 ] && ok "no new privileges" ||
        fail nonewprivs "NoNewPrivs: $(status_field "$pid" NoNewPrivs)"
    [ "$(status_field "$pid" Seccomp)" = 2 ] && ok "system call filter active" ||
        fail seccomp "Seccomp: $(status_field "$pid" Seccomp)"
}

check_sandbox() {
    # ProtectSystem=strict: / is read-only in the daemon's mount namespace; the state folder
    # is writable; /home is not reachable (ProtectHome).
    root_opts=$(awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo")
    state_opts=$(awk '$5 == "/var/lib/bmsgw" {print $6}' "/proc/$pid/mountinfo")
    case "$root_opts" in ro,* | ro) ok "root file system read-only for the daemon" ;;
    *) fail protectsystem "/ mounted $root_opts" ;; esac
    case "$state_opts" in rw,* | rw) ok "state folder writable for the daemon" ;;
    *) fail statedir "/var/lib/bmsgw mounted '$state_opts'" ;; esac
    st=$(stat -c '%U:%G %a' /var/lib/bmsgw)
    [ "$st" = "bmsgw:bmsgw 750" ] && ok "state folder bmsgw:bmsgw 750" || fail statedir "$st"
    st=$(stat -c '%U:%G %a' /run/bmsgw 2>&1)
    [ "$st" = "bmsgw:bmsgw 750" ] && ok "runtime folder bmsgw:bmsgw 750" || fail rundir "$st"
    score=$(systemd-analyze security bmsgw --no-pager 2>&1 | sed -n 's/.*Overall exposure level for bmsgw.service: \([0-9.]*\).*/\1/p')
    note "systemd-analyze security exposure: $score"
    if systemd-analyze security --threshold=19 bmsgw >/dev/null 2>&1; then
        ok "exposure $score (threshold 1.9)"
    else
        fail exposure "systemd-analyze security: $score > 1.9"
    fi
}

listening() { # port: a TCP listener on it (/proc/net/tcp*: local address, state 0A = LISTEN)
    hex=$(printf ':%04X' "$1")
    awk '$4 == "0A" {print $2}' /proc/net/tcp /proc/net/tcp6 | grep -qi "$hex\$"
}

# The network services of the shipped configuration run inside the sandbox: Modbus TCP on
# 502 (the unprivileged daemon got CAP_NET_BIND_SERVICE) and 1502, HTTP on 8080, WebSocket
# on 8081; the HTTP service made its API token in the state folder.
check_network_services() {
    status=$(prop StatusText)
    for entry in "mbtcp 502 1502" "http 8080" "ws 8081"; do
        set -- $entry
        svc=$1
        shift
        case "$status" in
        *"$svc running"*)
            for port; do
                listening "$port" && ok "$svc listens on port $port" ||
                    fail "$svc port" "$svc running but nothing listens on $port"
            done
            ;;
        *"$svc "*) fail "$svc" "not running in the sandbox: $status" ;;
        *) fail "$svc" "not in the daemon's status: $status" ;;
        esac
    done
    case "$status" in
    *"http running"*)
        st=$(stat -c '%U %a' /var/lib/bmsgw/api-token 2>&1)
        [ "$st" = "bmsgw 600" ] && ok "API token made in the state folder (bmsgw, 600)" ||
            fail "api token" "$st"
        ;;
    esac
}

watchdog_stamp() { prop WatchdogTimestampMonotonic; }
check_watchdog_pings() {
    [ "$(prop WatchdogUSec)" = 20s ] && ok "WatchdogSec=20s" || fail watchdog "WatchdogUSec=$(prop WatchdogUSec)"
    first=$(watchdog_stamp)
    if wait_until 30 sh -c "[ \"\$(systemctl show bmsgw -p WatchdogTimestampMonotonic --value)\" != '$first' ]"; then
        ok "watchdog pings arrive"
    else
        fail "watchdog pings" "WatchdogTimestamp stayed at $first for 30 s"
    fi
}

# A frozen daemon stops pinging: systemd must kill it and start a new one.
check_watchdog_restart() {
    mkdir -p /run/systemd/system/bmsgw.service.d
    printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' >/run/systemd/system/bmsgw.service.d/test.conf
    systemctl daemon-reload && systemctl restart bmsgw && wait_until 60 is_active
    old=$(prop MainPID) restarts=$(prop NRestarts)
    kill -STOP "$old"
    if wait_until 60 sh -c "[ \$(systemctl show bmsgw -p NRestarts --value) -gt $restarts ] && [ \$(systemctl is-active bmsgw) = active ]"; then
        ok "frozen daemon killed by the watchdog and restarted"
    else
        fail "watchdog restart" "NRestarts $(prop NRestarts), state $(systemctl is-active bmsgw)"
    fi
    journal_has "Watchdog timeout" && ok "journal: watchdog timeout" ||
        fail "watchdog journal" "no 'Watchdog timeout' in the journal"
    rm -r /run/systemd/system/bmsgw.service.d
    systemctl daemon-reload && systemctl restart bmsgw && wait_until 60 is_active
    pid=$(prop MainPID)
}

check_reload() {
    cp "$CONF" /root/bmsgw.conf.good
    if systemctl reload bmsgw && wait_until 30 journal_has "configuration reloaded"; then
        ok "systemctl reload: configuration reloaded"
    else
        fail reload "reload failed: $(journalctl -u bmsgw --no-pager -o cat | tail -3)"
    fi
    echo 'no_such_key = 1;' >>"$CONF"
    if systemctl reload bmsgw 2>/dev/null; then
        fail "bad reload" "systemctl reload succeeded with an unknown key"
    else
        ok "systemctl reload refuses a bad file"
    fi
    journal_has "no_such_key" && ok "journal names the bad key" ||
        fail "bad reload journal" "no_such_key not in the journal"
    [ "$(prop MainPID)" = "$pid" ] && is_active && ok "still running after the refused reload" ||
        fail "bad reload" "daemon not running with pid $pid"
}

# Still the bad file: a (re)start is refused with 78 and not retried.
check_refused_start() {
    restarts=$(prop NRestarts)
    systemctl restart bmsgw 2>/dev/null
    if wait_until 60 sh -c '[ "$(systemctl is-active bmsgw)" = failed ]' &&
        [ "$(prop ExecMainStatus)" = 78 ]; then
        ok "refused configuration: exit status 78, unit failed"
    else
        fail "refused start" "state $(systemctl is-active bmsgw), status $(prop ExecMainStatus)"
    fi
    sleep 12 # more than twice RestartSec (5 s): a restart would have happened by now
    [ "$(prop NRestarts)" = "$restarts" ] && ok "no restart loop on exit status 78" ||
        fail "restart loop" "NRestarts $restarts -> $(prop NRestarts)"
    cp /root/bmsgw.conf.good "$CONF"
    systemctl reset-failed bmsgw
    systemctl start bmsgw && wait_until 60 is_active && ok "starts again with the fixed file" ||
        fail "start after fix" "$(systemctl is-active bmsgw)"
}

status_has() { systemctl show bmsgw -p StatusText --value | grep -q "$1"; }
can_tx() { cat /sys/class/net/can0/statistics/tx_packets; }

# The path a Pi takes, with stand-ins: vcan for the CAN HAT, the package's simulated TinyBMS
# on a pseudo terminal (char-pts, allowed by a test drop-in) for the USB adapter. The CAN
# service opens can0 when it appears (AF_CAN, netlink), the poller's link comes up, and the
# Victron frames go out on can0.
check_end_to_end() {
    if [ ! -x /usr/bin/bmsgw-sim ]; then
        fail "end to end" "no /usr/bin/bmsgw-sim in the package"
        return
    fi
    if ip link add dev can0 type vcan && ip link set can0 up; then
        ok "vcan can0 created"
    else
        fail vcan "cannot create can0"
        return
    fi
    wait_until 60 status_has "can running" && ok "CAN service opened can0 in the sandbox" ||
        fail "can" "$(prop StatusText)"
    printf '[Service]\nUser=bmsgw\nRuntimeDirectory=bmsgw-sim\nExecStart=%s\n' \
        "/usr/bin/bmsgw-sim tinybms --device /run/bmsgw-sim/ttyBMS --current -20 --quiet" \
        >/run/systemd/system/tinybms-sim.service
    mkdir -p /run/systemd/system/bmsgw.service.d
    printf '[Service]\nDeviceAllow=char-pts rw\n' >/run/systemd/system/bmsgw.service.d/pts.conf
    sed -i 's|device = "/dev/ttyUSB0";|device = "/run/bmsgw-sim/ttyBMS";|' "$CONF"
    systemctl daemon-reload && systemctl start tinybms-sim
    wait_until 60 test -L /run/bmsgw-sim/ttyBMS || fail "simulator" "no /run/bmsgw-sim/ttyBMS"
    systemctl restart bmsgw
    if wait_until 60 status_has "bms running"; then
        ok "TinyBMS link up through the serial device (simulated)"
    else
        fail "bms link" "$(prop StatusText)"
    fi
    tx=$(can_tx)
    if wait_until 60 sh -c "[ \$(cat /sys/class/net/can0/statistics/tx_packets) -ge $((tx + 10)) ]"; then
        ok "Victron CAN frames sent on can0 ($(can_tx) so far)"
    else
        fail "can frames" "tx_packets $tx -> $(can_tx) in 60 s"
    fi
    # the frames themselves (candump -L: "(time) can0 351#..."): limits, SOC, measurements, alarms
    frames=$(timeout 30 candump -L -n 60 can0 2>&1 | awk '{split($3, f, "#"); print f[1]}' | sort -u | tr '\n' ' ')
    missing=""
    for id in 351 355 356 35A 35E 372 373; do
        case " $frames" in *" $id "*) ;; *) missing="$missing $id" ;; esac
    done
    [ -z "$missing" ] && ok "Victron frames on can0: $frames" ||
        fail "victron frames" "missing:$missing (seen: $frames)"
    systemctl stop tinybms-sim
    cp /root/bmsgw.conf.good "$CONF"
    rm /run/systemd/system/bmsgw.service.d/pts.conf
    systemctl daemon-reload
}

check_stop() {
    systemctl stop bmsgw
    [ "$(prop Result)" = success ] && [ "$(prop ExecMainStatus)" = 0 ] &&
        ok "systemctl stop: clean exit" ||
        fail stop "Result $(prop Result), status $(prop ExecMainStatus)"
}

note "test started $(cut -d' ' -f1 /proc/uptime) s after the kernel ($(uname -m), $(nproc) CPUs)"
if check_running; then
    check_identity
    check_sandbox
    check_network_services
    check_watchdog_pings
    check_watchdog_restart
    check_reload
    check_refused_start
    check_end_to_end
    check_stop
fi
journalctl -u bmsgw --no-pager -o short-monotonic >/results/journal.log 2>&1
echo "end" >>"$RESULTS"
