#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The safety invariants of spec/victron-can.md end to end: bmsgw-sim tinybms on PTYs -> bmsgw
-> vcan0 -> capture, decoded with docs/victron-bms.dbc.

Like test_can_vcan.py it boots Debian's kernel under qemu (tests/vm/run-vm) and runs itself
inside with --inside; the guest writes OUT/results.json, the host part prints and checks it.

Scenarios (each: the time from the simulator command to the first 0x351 with CCL = 0, which
must carry CVL <= the pack voltage; the 0x35A field of the condition active while it blocks;
the 0x372 counts; CCL held at 0 for recover_hold_s after the condition clears, then ramped):
  1 cell over-voltage (a cell at the 3.65 V cutoff), repeated for p50/max
  2 low temperature while charging (both sensors at -5 C, charging)
  3 over-temperature (a sensor at 65 C, over the 60 C cutoff: CCL = DCL = 0)
  4 a BMS fault event (0x06 charging over-current) and the fault status (CCL = DCL = 0)
  5 both sensors unplugged: 0 < CCL <= no_sensor_charge_factor x max (BMS internal sensor)
  6 register 315 = 4200 mV (less safe than LFP's 3650): refused, a 3.70 V cell still blocks
  7 one of two strings dropping out: CCL/DCL scale to one string, 0x372 online 2 -> 1
  8 stale data: on_stale = "silence" (no frame after stale_after_ms + a period) and "block"
    (CCL = DCL = 0, CVL <= min(last CVL sent, last pack voltage), the general alarm)
Over every frame of every run: CVL > 0 and <= N x (OV - 50 mV); CCL = 0 => CVL <= V on the
same frame; CVL rises at most cvl_slew_mv_per_s, CCL/DCL at most ccl_ramp_a_per_s.

usage: test_can_safety.py BUILD_DIR SOURCE_DIR [--inside OUT]
"""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
import bmsgwtest  # noqa: E402
import canlib  # noqa: E402
from bmsgwtest import Daemon, TinyBMS, config, http_get_json, rest_keys  # noqa: E402

CELLS = 16
POLL_S, SLOW_S, STALE_S, PERIOD_S = 0.25, 1.0, 3.0, 1.0  # poll, events read, stale, 0x351
HOLD_S, RAMP_A_S, SLEW_V_S = 3, 10.0, 0.5
MAX_CCL, MAX_DCL = 50.0, 100.0  # per string
NO_SENSOR_F = 0.1
CAP_V = CELLS * (3.650 - 0.050)
# what the emulated guest needs beyond the detection period to compute and send (one urgent
# 0x351); the measured stalls of the run are added on top
SLACK_S = 0.6
LATENCY_S = 0.5  # sample-to-frame delay allowed in the rate checks
# the controller integrates the time between two samples (up to LIMITS_MAX_STEP_MS) in one step:
# a sample delayed by a loaded host brings up to that much ramp into one frame
MAX_STEP_S = 2.0
GIVE_UP = 60
BMS_KEYS = (f"poll_interval_ms = {int(POLL_S * 1000)}; stale_after_ms = {int(STALE_S * 1000)}; "
            f"slow_interval_ms = {int(SLOW_S * 1000)}; settings_interval_ms = 5000; "
            "reconnect_min_ms = 200; reconnect_max_ms = 1000;")
LIMITS = (f"limits = {{ cvl_slew_mv_per_s = {int(SLEW_V_S * 1000)}; recover_hold_s = {HOLD_S}; "
          f"ccl_ramp_a_per_s = {RAMP_A_S}; }};\n")


class Run:
    """One daemon with its simulators, the shared capture and the results."""

    def __init__(self, ctx, name, n_strings, can_keys=""):
        self.ctx, self.name, self.n = ctx, name, n_strings
        self.cap, self.dbc, self.stalls = ctx["cap"], ctx["dbc"], ctx["stalls"]
        self.res = ctx["res"]
        self.folder = tempfile.mkdtemp(prefix=f"can-safety-{name}-")
        self.devices = [os.path.join(self.folder, f"tinybms{i + 1}") for i in range(n_strings)]
        self.sims = [self.sim(i) for i in range(n_strings)]
        self.port = bmsgwtest.free_port()
        self.t_start = time.time()
        ports = [(f"s{i + 1}", d) for i, d in enumerate(self.devices)]
        cfg = config(self.folder, ports, bms=BMS_KEYS, can='interface = "vcan0"; ' + can_keys,
                     http=rest_keys(self.folder, self.port), extra=LIMITS)
        self.daemon = Daemon(BUILD, self.folder, cfg, ready=GIVE_UP)
        bmsgwtest.wait_port(self.port, GIVE_UP, self.daemon.proc)

    def sim(self, i):
        return TinyBMS(BUILD, self.folder, self.devices[i], ("--seed", str(i + 1)),
                       name=f"sim{i + 1}")

    def check(self, name, ok):
        self.res["checks"][f"{self.name}: {name}"] = bool(ok)
        return ok

    def d(self, f):
        return self.dbc.decode(f[1], f[3])

    def frames(self, cid, t0, t1=None):
        return [f for f in self.cap.snapshot()
                if f[1] == cid and f[0] >= t0 and (t1 is None or f[0] <= t1)]

    def wait351(self, pred, since, timeout=GIVE_UP):
        return self.cap.wait_for(lambda f: f[1] == 0x351 and pred(self.d(f)), timeout, since)

    def steady(self, since, timeout=GIVE_UP, n=None):
        n = self.n if n is None else n
        return self.wait351(lambda d: abs(d["ccl_a"] - n * MAX_CCL) < 0.05 and
                            abs(d["dcl_a"] - n * MAX_DCL) < 0.05 and
                            abs(d["cvl_v"] - CELLS * 3.45) < 0.05, since, timeout)

    def pack_v_around(self, t):
        """The pack voltage of 0x356 just before and just after t (the larger of the two)."""
        vs = [f for f in self.cap.snapshot() if f[1] == 0x356]
        before = [self.d(f)["voltage_v"] for f in vs if f[0] <= t][-1:]
        after = [self.d(f)["voltage_v"] for f in vs if f[0] > t][:1]
        return max(before + after) if before or after else None

    def stop(self):
        rc = self.daemon.stop()
        for s in self.sims:
            if s.proc.poll() is None:
                s.kill()
        self.t_stop = time.time()
        self.check("daemon exit status 0", rc == 0)
        self.res.setdefault("daemon_logs", {})[self.name] = self.daemon.text()[-5000:]
        check_invariants(self)


def check_invariants(r):
    """Every 0x351 of the run: CVL in (0, cap]; CCL = 0 => CVL <= V; rises rate-limited."""
    fr = r.frames(0x351, r.t_start, r.t_stop)
    bad = {"cvl 0 or above cap": [], "ccl 0 with cvl above V": [], "cvl rise": [],
           "ccl rise": [], "dcl rise": []}
    prev = None
    for f in fr:
        d = r.d(f)
        if not 0 < d["cvl_v"] <= CAP_V + 1e-6:
            bad["cvl 0 or above cap"].append((f[0] - r.t_start, d))
        if d["ccl_a"] == 0:
            v = r.pack_v_around(f[0])
            if v is None or d["cvl_v"] > v + 0.011:
                bad["ccl 0 with cvl above V"].append((round(f[0] - r.t_start, 3), d, v))
        if prev:
            dt = f[0] - prev[0] + max(LATENCY_S + r.stalls.stalled(prev[0], f[0]), MAX_STEP_S)
            p = r.d(prev)
            for key, rate, name in (("cvl_v", SLEW_V_S, "cvl rise"), ("ccl_a", RAMP_A_S,
                                    "ccl rise"), ("dcl_a", RAMP_A_S, "dcl rise")):
                if d[key] - p[key] > rate * dt + 0.1 + 1e-6:
                    bad[name].append((round(f[0] - r.t_start, 3), p[key], d[key],
                                      round(f[0] - prev[0], 3)))
        prev = f
    r.res.setdefault("invariants", {})[r.name] = {k: v[:5] for k, v in bad.items()}
    r.res["invariants"][r.name]["frames_0x351"] = len(fr)
    for k, v in bad.items():
        r.check(f"every 0x351: no {k}", not v)


def alarm_fields_active(r, t0, t1, fields, out):
    al = r.frames(0x35A, t0, t1)
    wrong = [(round(f[0] - t0, 3), {k: r.d(f)[k] for k in fields}) for f in al
             if any(r.d(f)[k] != 1 for k in fields)]
    out["0x35A_frames"], out["0x35A_not_active"] = len(al), wrong[:3]
    return bool(al) and not wrong


def recovery(r, name, out, t_clear, strings=1, dcl=False):
    """CCL stays 0 for recover_hold_s after the condition clears, then ramps to its max."""
    pos = r.wait351(lambda d: d["ccl_a"] > 0, t_clear)
    out["ccl_back_after_s"] = pos and round(pos[0] - t_clear, 3)
    lower = HOLD_S - POLL_S - 0.1 - r.stalls.stalled(t_clear - 2, t_clear)
    r.check(f"{name}: CCL held at 0 for recover_hold_s", pos and pos[0] - t_clear >= lower)
    if pos:
        first = r.d(pos)["ccl_a"]
        out["first_ccl_a"] = first
        r.check(f"{name}: CCL ramps up (first CCL > 0 is a ramp step)", first <= RAMP_A_S * (
            PERIOD_S + POLL_S + LATENCY_S + r.stalls.stalled(t_clear, pos[0])) + 0.1)
    if dcl:
        dpos = r.wait351(lambda d: d["dcl_a"] > 0, t_clear)
        out["dcl_back_after_s"] = dpos and round(dpos[0] - t_clear, 3)
        r.check(f"{name}: DCL held at 0 for recover_hold_s",
                dpos and dpos[0] - t_clear >= lower)
    st = r.steady(t_clear, n=strings)
    out["steady_after_s"] = st and round(st[0] - t_clear, 3)
    r.check(f"{name}: back to steady CCL/DCL/CVL", st)
    return st


def block(r, name, sim, set_cmds, clear_cmds, fields, detect_s, dcl=False, strings=1,
          online=1):
    """A condition that stops charging (and discharging with dcl): timing, CVL <= V on the
    first blocking 0x351, the 0x35A fields while it blocks, 0x372, then the recovery."""
    out = {"detect_period_s": detect_s}
    r.res["scenarios"].setdefault(name, []).append(out)
    before = r.frames(0x356, time.time() - 2 * PERIOD_S)
    out["current_before_a"] = before and r.d(before[-1])["current_a"]
    t0 = time.time()
    for c in set_cmds:
        sim.ctl.ok(c)
    v_sim = sim.ctl.get()["pack_v"]
    f0 = r.wait351(lambda d: d["ccl_a"] == 0 and (not dcl or d["dcl_a"] == 0), t0)
    out["pack_v_sim"] = v_sim
    if not r.check(f"{name}: CCL 0{' and DCL 0' if dcl else ''} seen", f0):
        return out
    d0 = r.d(f0)
    v = max(v_sim, r.pack_v_around(f0[0]) or 0)
    stalled = r.stalls.stalled(t0, f0[0])
    out.update(block_after_s=round(f0[0] - t0, 3), stalled_s=round(stalled, 3),
               first_block=d0, pack_v=v, bound_s=round(detect_s + SLACK_S + stalled, 3),
               n351_before=len(r.frames(0x351, t0, f0[0] - 1e-6)))
    r.check(f"{name}: first CCL 0 within the detection period + one urgent send",
            f0[0] - t0 <= detect_s + SLACK_S + stalled)
    # the detecting sample comes at most detect_s after the command: 0x351 sent before it
    # carry the old limits, the next one is the urgent block
    r.check(f"{name}: at most one 0x351 after the detecting sample is not blocking",
            out["n351_before"] <= math.ceil((detect_s + stalled) / PERIOD_S))
    r.check(f"{name}: CVL <= pack voltage on the first CCL 0 frame",
            0 < d0["cvl_v"] <= v + 0.011)
    # it keeps blocking: three more 0x351 periods
    later = r.cap.wait_for(lambda f: f[1] == 0x351 and f[0] > f0[0] + 2.5 * PERIOD_S,
                           GIVE_UP, f0[0])
    t1 = later[0] if later else time.time()
    held = r.frames(0x351, f0[0], t1)
    r.check(f"{name}: CCL stays 0{' and DCL 0' if dcl else ''} while the condition holds",
            held and all(r.d(f)["ccl_a"] == 0 and (not dcl or r.d(f)["dcl_a"] == 0)
                         for f in held))
    r.check(f"{name}: 0x35A {'+'.join(fields)} active while it blocks",
            alarm_fields_active(r, f0[0], t1, fields, out))
    m = [r.d(f) for f in r.frames(0x372, f0[0] + 0.01, t1)]
    out["0x372"] = m[-1] if m else None
    r.check(f"{name}: 0x372 online {online}, blocking charge "
            f"{strings}{', discharge ' + str(strings) if dcl else ''}",
            m and all(x["modules_online"] == online and x["modules_blocking_charge"] == strings
                      and (not dcl or x["modules_blocking_discharge"] == strings) for x in m))
    t_clear = time.time()
    for c in clear_cmds:
        sim.ctl.ok(c)
    recovery(r, name, out, t_clear, strings=online, dcl=dcl)
    return out


def no_sensor(r, sim):
    """Both battery sensors unplugged: charging derated, not stopped (BMS internal sensor)."""
    name = "5 no battery sensor"
    out = {}
    r.res["scenarios"][name] = [out]
    t0 = time.time()
    sim.ctl.ok("unplug temp 1")
    sim.ctl.ok("unplug temp 2")
    limit = NO_SENSOR_F * MAX_CCL
    f0 = r.wait351(lambda d: d["ccl_a"] <= limit + 1e-6, t0)
    if not r.check(f"{name}: CCL <= {limit} A seen", f0):
        return
    stalled = r.stalls.stalled(t0, f0[0])
    out.update(derated_after_s=round(f0[0] - t0, 3), stalled_s=round(stalled, 3),
               first=r.d(f0))
    r.check(f"{name}: derated within the detection period + one urgent send",
            f0[0] - t0 <= POLL_S + SLACK_S + stalled)
    later = r.cap.wait_for(lambda f: f[1] == 0x351 and f[0] > f0[0] + 2.5 * PERIOD_S,
                           GIVE_UP, f0[0])
    held = [r.d(f)["ccl_a"] for f in r.frames(0x351, f0[0], later and later[0])]
    out["ccl_a_while_unplugged"] = sorted(set(held))
    r.check(f"{name}: 0 < CCL <= {NO_SENSOR_F} x max while unplugged",
            held and all(0 < c <= limit + 1e-6 for c in held))
    m = [r.d(f) for f in r.frames(0x372, f0[0] + 0.01, later and later[0])]
    out["0x372"] = m[-1] if m else None
    r.check(f"{name}: 0x372 online 1, none blocking charge", m and all(
        x["modules_online"] == 1 and x["modules_blocking_charge"] == 0 for x in m))
    t_clear = time.time()
    sim.ctl.ok("plug temp 1")
    sim.ctl.ok("plug temp 2")
    st = r.steady(t_clear)
    out["steady_after_s"] = st and round(st[0] - t_clear, 3)
    r.check(f"{name}: back to steady after plugging", st)


def refused_register(r, sim):
    """Register 315 = 4200 mV on LFP: refused (warning alert), the configured 3.65 V acts."""
    name = "6 register 315 less safe"
    sim.ctl.ok("set reg 315 4200")
    t0 = time.time()

    def refused():
        lim = http_get_json(r.port, "/api/status")["limits"]
        return [x for x in lim["refused"] if x["bms_value"] == 4200 and
                x["config_value"] == 3650] or None
    try:
        seen = bmsgwtest.wait_until("register 315 refused", refused, GIVE_UP)
    except AssertionError:
        seen = None
    refused_after = round(time.time() - t0, 3)
    r.check(f"{name}: the register is refused (4200 vs 3650 in /api/status)", seen)

    def alert():
        return [a for a in http_get_json(r.port, "/api/alerts/active")
                if a["type"] == "bms_setting_refused"] or None
    try:
        al = bmsgwtest.wait_until("the refused-setting alert", alert, GIVE_UP)
    except AssertionError:
        al = None
    r.check(f"{name}: a warning alert names both values", al and al[0]["severity"] == "warning"
            and "4200" in al[0]["message"] and "3650" in al[0]["message"])
    out = block(r, name, sim, ["set cell 5 3700"], ["release cell 5"], ["alarm_high_voltage",
                "alarm_general"], POLL_S)
    out["refused_after_s"] = refused_after if seen else None
    out["alert"] = al and al[0]["message"]
    sim.ctl.ok("set reg 315 3650")


def silence(r, sim):
    """on_stale = silence: no frame after stale_after_ms + one period; back on answer."""
    name = "8a stale, silence"
    out = {}
    r.res["scenarios"][name] = [out]
    t0 = time.time()
    sim.ctl.ok("fault noreply on")
    deadline = time.monotonic() + GIVE_UP
    last_t = None
    while time.monotonic() < deadline:
        now = time.time()
        last_t = max((f[0] for f in r.cap.snapshot() if f[0] > t0), default=t0)
        if now - last_t >= 2.0 + r.stalls.stalled(last_t, now):
            break
        time.sleep(0.05)
    stalled = r.stalls.stalled(t0, last_t)
    time.sleep(2)
    after = [f for f in r.cap.snapshot() if f[0] > last_t]
    out.update(last_frame_after_s=round(last_t - t0, 3), stalled_s=round(stalled, 3),
               frames_later=len(after))
    r.check(f"{name}: silent within stale_after_ms + one period",
            last_t - t0 <= STALE_S + PERIOD_S + 0.1 + stalled)
    r.check(f"{name}: stays silent", not after)
    t_clear = time.time()
    sim.ctl.ok("fault noreply off")
    back = r.cap.wait_for(lambda f: f[1] == 0x351, GIVE_UP, t_clear)
    out["resumed_after_s"] = back and round(back[0] - t_clear, 3)
    if r.check(f"{name}: frames resume", back):
        out["first_after_resume"] = r.d(back)
        r.check(f"{name}: resumes with CCL 0", r.d(back)["ccl_a"] == 0)
        recovery(r, name, out, t_clear, dcl=True)


def block_stale(r, sims):
    """on_stale = block: CCL = DCL = 0, CVL never above the last CVL sent nor the last V."""
    name = "8b stale, block"
    out = {}
    r.res["scenarios"][name] = [out]
    t0 = time.time()
    last351 = r.d(r.frames(0x351, 0)[-1])
    for s in sims:
        s.ctl.ok("fault noreply on")
    f0 = r.wait351(lambda d: d["ccl_a"] == 0 and d["dcl_a"] == 0, t0)
    if not r.check(f"{name}: CCL = DCL = 0 seen", f0):
        return
    last_v = [r.d(f)["voltage_v"] for f in r.frames(0x356, 0, f0[0])][-1]
    stalled = r.stalls.stalled(t0, f0[0])
    out.update(block_after_s=round(f0[0] - t0, 3), stalled_s=round(stalled, 3),
               last_cvl_before=last351["cvl_v"], last_pack_v=last_v, first_block=r.d(f0))
    r.check(f"{name}: blocked within stale_after_ms + one urgent send",
            f0[0] - t0 <= STALE_S + POLL_S + SLACK_S + stalled)
    later = r.cap.wait_for(lambda f: f[1] == 0x351 and f[0] > f0[0] + 3.5 * PERIOD_S,
                           GIVE_UP, f0[0])
    t1 = later[0] if later else time.time()
    held = [r.d(f) for f in r.frames(0x351, f0[0], t1)]
    cap_v = min(last351["cvl_v"], last_v + 0.02)  # 0x356 is 0.01 V and sampled a bit earlier
    out["cvl_while_blocked"] = sorted({d["cvl_v"] for d in held})
    r.check(f"{name}: CCL = DCL = 0 and 0 < CVL <= min(last CVL, last V) while stale",
            held and all(d["ccl_a"] == 0 and d["dcl_a"] == 0 and 0 < d["cvl_v"] <= cap_v
                         for d in held))
    r.check(f"{name}: CVL never rises while stale",
            all(b["cvl_v"] <= a["cvl_v"] for a, b in zip(held, held[1:])))
    r.check(f"{name}: 0x35A general alarm active", alarm_fields_active(
        r, f0[0], t1, ["alarm_general"], out))
    r.check(f"{name}: no 0x356 measurements while stale", not r.frames(0x356, f0[0] + 0.01, t1))
    m = [r.d(f) for f in r.frames(0x372, f0[0] + 0.01, t1)]
    out["0x372"] = m[-1] if m else None
    r.check(f"{name}: 0x372 none online, {r.n} blocking both ways", m and all(
        x["modules_online"] == 0 and x["modules_blocking_charge"] == r.n and
        x["modules_blocking_discharge"] == r.n for x in m))
    t_clear = time.time()
    for s in sims:
        s.ctl.ok("fault noreply off")
    recovery(r, name, out, t_clear, strings=r.n, dcl=True)


def string_drop(r):
    """Two strings, one simulator killed: limits scale to one string, 0x372 counts it."""
    name = "7 one of two strings drops out"
    out = {}
    r.res["scenarios"][name] = [out]
    t0 = time.time()
    r.sims[1].kill()
    f0 = r.wait351(lambda d: d["ccl_a"] <= MAX_CCL + 1e-6 and d["dcl_a"] <= MAX_DCL + 1e-6, t0)
    if not r.check(f"{name}: CCL/DCL of one string seen", f0):
        return
    stalled = r.stalls.stalled(t0, f0[0])
    out.update(scaled_after_s=round(f0[0] - t0, 3), stalled_s=round(stalled, 3),
               first=r.d(f0))
    r.check(f"{name}: scaled within stale_after_ms + one urgent send",
            f0[0] - t0 <= STALE_S + POLL_S + SLACK_S + stalled)
    m = r.cap.wait_for(lambda f: f[1] == 0x372 and r.d(f)["modules_online"] == 1, GIVE_UP, t0)
    out["online_1_after_s"] = m and round(m[0] - t0, 3)
    out["0x372"] = m and r.d(m)
    r.check(f"{name}: 0x372 online 1, offline 1", m and r.d(m)["modules_offline"] == 1)
    later = r.cap.wait_for(lambda f: f[1] == 0x351 and f[0] > f0[0] + 2.5 * PERIOD_S,
                           GIVE_UP, f0[0])
    held = [r.d(f) for f in r.frames(0x351, f0[0], later and later[0])]
    r.check(f"{name}: CCL = {MAX_CCL}, DCL = {MAX_DCL} with one string",
            held and all(abs(d["ccl_a"] - MAX_CCL) < 0.05 and abs(d["dcl_a"] - MAX_DCL) < 0.05
                         for d in held[1:]))
    t_back = time.time()
    r.sims[1] = r.sim(1)
    st = r.steady(t_back)
    out["two_strings_again_after_s"] = st and round(st[0] - t_back, 3)
    r.check(f"{name}: back to two strings", st)


def scenarios_one_string(ctx):
    r = Run(ctx, "one string", 1)
    try:
        sim = r.sims[0]
        r.check("start-up: steady CCL/DCL/CVL", r.steady(r.t_start))
        for _ in range(3):
            block(r, "1 cell over-voltage", sim, ["set cell 5 3650"], ["release cell 5"],
                  ["alarm_high_voltage", "alarm_general"], POLL_S)
        t_chg = time.time()
        sim.ctl.ok("set current 10")
        r.check("charging at 10 A before scenario 2", r.cap.wait_for(
            lambda f: f[1] == 0x356 and r.d(f)["current_a"] > 9.9, GIVE_UP, t_chg))
        block(r, "2 low temperature while charging", sim, ["set temp 1 -5", "set temp 2 -5"],
              ["plug temp 1", "plug temp 2", "set current 0"],
              ["alarm_low_temperature_charge", "alarm_general"], POLL_S)
        block(r, "3 over-temperature", sim, ["set temp 1 65"], ["plug temp 1"],
              ["alarm_high_temperature", "alarm_general"], POLL_S, dcl=True)
        block(r, "4a BMS fault event 0x06", sim, ["event 0x06"], ["event 0x76"],
              ["alarm_bms_internal", "alarm_general"], SLOW_S + POLL_S)
        block(r, "4b BMS fault status", sim, ["set status fault"], ["set status normal"],
              ["alarm_bms_internal", "alarm_general"], POLL_S, dcl=True)
        no_sensor(r, sim)
        refused_register(r, sim)
        silence(r, sim)
    finally:
        r.stop()


def scenarios_two_strings(ctx):
    r = Run(ctx, "two strings, block", 2, can_keys='on_stale = "block";')
    try:
        r.check("start-up: steady CCL/DCL/CVL", r.steady(r.t_start))
        m = r.cap.wait_for(lambda f: f[1] == 0x372 and r.d(f)["modules_online"] == 2, GIVE_UP,
                           r.t_start)
        r.check("0x372 online 2", m)
        string_drop(r)
        block_stale(r, r.sims)
    finally:
        r.stop()


def summary(res):
    """Per scenario: the times measured (p50/max over repeats)."""
    out = {}
    for name, runs in res["scenarios"].items():
        row = {}
        for key in ("block_after_s", "derated_after_s", "scaled_after_s", "last_frame_after_s",
                    "ccl_back_after_s", "steady_after_s"):
            xs = [x[key] for x in runs if isinstance(x.get(key), (int, float))]
            if xs:
                row[key] = {"n": len(xs), "p50": round(statistics.median(xs), 3),
                            "max": round(max(xs), 3)}
        out[name] = row
    return out


def inside(out):
    t_begin = time.time()
    res = {"checks": {}, "scenarios": {}}
    ctx = {"cap": canlib.Capture(), "stalls": canlib.Stalls(), "res": res,
           "dbc": canlib.Dbc(os.path.join(SOURCE, "docs", "victron-bms.dbc"))}
    try:
        for part in (scenarios_one_string, scenarios_two_strings):
            try:
                part(ctx)
            except Exception as e:  # record and go on with the next part
                res["checks"][f"{part.__name__} ran to the end"] = False
                res.setdefault("errors", []).append(f"{part.__name__}: {e!r}")
    finally:
        ctx["cap"].close()
        ctx["stalls"].close()
    res["stalled_total_s"] = round(ctx["stalls"].stalled(0, time.time()), 3)
    res["duration_s"] = round(time.time() - t_begin, 1)
    res["summary"] = summary(res)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    return 0


class SafetyOnVcan(unittest.TestCase):
    def test_safety_scenarios_on_vcan0(self):
        out = tempfile.mkdtemp(prefix="can-safety-", dir=os.path.join(BUILD, "tests"))
        runner = os.path.join(SOURCE, "tests", "vm", "run-vm")
        t0 = time.monotonic()
        r = subprocess.run([runner, out, "/usr/bin/python3", os.path.abspath(__file__), BUILD,
                            SOURCE, "--inside", out], capture_output=True, text=True,
                           timeout=900)
        path = os.path.join(out, "results.json")
        self.assertTrue(os.path.exists(path),
                        f"no results from the guest (exit {r.returncode}): {r.stderr}\n"
                        f"console: {out}/console.log")
        with open(path) as f:
            res = json.load(f)
        print(json.dumps({k: v for k, v in res.items() if k != "daemon_logs"}, indent=1))
        for name, row in res.get("summary", {}).items():
            cols = [f"{k} p50 {v['p50']:.3f} max {v['max']:.3f} (n={v['n']})"
                    for k, v in row.items()]
            print(f"{name:34s} " + "  ".join(cols))
        print(f"guest run {res.get('duration_s')} s, stalled {res.get('stalled_total_s')} s; "
              f"total with the guest's boot: {time.monotonic() - t0:.1f} s")
        failed = [k for k, ok in res["checks"].items() if not ok]
        logs = "\n".join(f"--- {k}\n{v}" for k, v in res.get("daemon_logs", {}).items())
        self.assertEqual(failed, [], logs)
        self.assertEqual(r.returncode, 0, r.stderr)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    if "--inside" in sys.argv:
        sys.exit(inside(sys.argv[sys.argv.index("--inside") + 1]))
    unittest.main(argv=[sys.argv[0]], verbosity=2)
