#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The gateway on a real SocketCAN interface: simulator on a PTY -> bmsgw -> vcan0 -> capture.

On the host this boots Debian's kernel under qemu (tests/vm/run-vm) and runs itself inside with
--inside; the inside part writes its findings to OUT/results.json, which the host part checks.
It never skips: without a bootable kernel it fails, saying why.

Checks: every frame with DLC 8 and its period (+-10 % over the window); values decoded with the DBC match the
simulator's state; a forced cell over-voltage shows in 0x35A and CCL = 0 within two periods;
a BMS that stops answering, and a killed simulator, silence every frame within stale_after_ms +
one period, and the frames resume when it answers / returns; 0x305 / 0x307 "VIC" from the bus
are reported; nothing but the 19 frames is ever sent.

usage: test_can_vcan.py BUILD_DIR SOURCE_DIR [--inside OUT]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
import canlib  # noqa: E402
from bmsgwtest import Daemon, TinyBMS, config  # noqa: E402

IDS = [0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, 0x370, 0x371, 0x372, 0x373, 0x374, 0x375,
       0x376, 0x377, 0x378, 0x379, 0x380, 0x381, 0x382]
STALE_MS = 3000
WINDOW_S = 31  # three sends of the 10 s frame: a stalled guest moves the mean little
VCAN = 'interface = "vcan0";'


def tinybms(folder, device):
    return TinyBMS(BUILD, folder, device, ("--seed", "1"))


def steady(cap, dbc, timeout):
    """Wait until CCL and CVL reached their targets (the start-up ramps are over: CVL starts at
    the pack voltage while CCL is 0 and rises at limits.cvl_slew_mv_per_s)."""
    def done(f):
        if f[1] != 0x351:
            return False
        d = dbc.decode(0x351, f[3])
        return abs(d["ccl_a"] - 50.0) < 0.05 and abs(d["cvl_v"] - 55.2) < 0.05
    return cap.wait_for(done, timeout)


def check_periods(frames, dbc, stalls, res):
    by_id = {}
    for t, cid, dlc, data in frames:
        by_id.setdefault(cid, []).append((t, dlc))
    out = {}
    for cid in IDS:
        seen = by_id.get(cid, [])
        period = dbc.cycle_ms[cid] / 1000.0
        gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:])]
        mean = sum(gaps) / len(gaps) if gaps else None
        out[f"0x{cid:03X}"] = {
            "count": len(seen), "dlc": sorted({d for _, d in seen}), "period_s": period,
            "gap_mean_s": mean, "gap_min_s": min(gaps) if gaps else None,
            "gap_max_s": max(gaps) if gaps else None}
        # the period measured over the window within 10 %, plus what the stalls of this
        # machine during the window can move the first and the last frame by; single gaps
        # carry the scheduling noise of a loaded host (bench-can.py measures the jitter)
        slack = 2 * stalls.stalled(seen[0][0], seen[-1][0]) / len(gaps) if gaps else 0
        out[f"0x{cid:03X}"]["slack_s"] = slack
        res["checks"][f"period 0x{cid:03X}"] = (
            mean is not None and abs(mean - period) <= 0.1 * period + slack
            and all(d == 8 for _, d in seen))
    res["periods"] = out


def check_values(cap, dbc, sim, res):
    truth = sim.ctl.get()
    frames = cap.snapshot()
    last = {}
    for f in frames:
        last[f[1]] = f
    d = {cid: dbc.decode(cid, last[cid][3]) for cid in IDS if cid in last}
    cells = truth["cells_mv"]
    temps = [t for t in truth["temps_c"] if t is not None]
    want = {
        "SOC %": (d[0x355]["soc_pct"], int(truth["soc_pct"] * 100 + 0.5) // 100, 1.0),
        "voltage V": (d[0x356]["voltage_v"], sum(cells) / 1000.0, 0.05),
        "current A": (d[0x356]["current_a"], truth["current_a"], 0.2),
        "temperature C": (d[0x356]["temperature_c"], sum(temps) / len(temps), 0.3),
        "min cell V": (d[0x373]["min_cell_v"], min(cells) / 1000.0, 0.003),
        "max cell V": (d[0x373]["max_cell_v"], max(cells) / 1000.0, 0.003),
        "max temperature C": (d[0x373]["max_temperature_c"], max(temps), 0.7),
        "CVL V": (d[0x351]["cvl_v"], len(cells) * 3.45, 0.05),
        "DVL V": (d[0x351]["dvl_v"], len(cells) * 2.9, 0.05),
        "modules online": (d[0x372]["modules_online"], 1, 0),
    }
    res["values"] = {k: {"can": v[0], "sim": v[1]} for k, v in want.items()}
    for k, (got, exp, tol) in want.items():
        res["checks"][f"value {k}"] = abs(got - exp) <= tol + 1e-9
    res["checks"]["text 0x35E"] = d[0x35E]["manufacturer"] == "TinyBMS"
    res["checks"]["text 0x370/0x371"] = (d[0x370]["battery_name_1_8"] +
                                         d[0x371]["battery_name_9_16"]) == "TinyBMS LFP"
    res["checks"]["0x35A all ok"] = last[0x35A][3] == bytes([0xAA, 0xAA, 0x82, 0x02] * 2)


def check_over_voltage(cap, dbc, sim, stalls, res):
    t0 = time.time()
    sim.ctl.ok("set cell 5 3700")
    alarm = cap.wait_for(lambda f: f[1] == 0x35A and (f[3][0] >> 2) & 3 == 1, 30, since=t0)
    ccl0 = cap.wait_for(lambda f: f[1] == 0x351 and dbc.decode(0x351, f[3])["ccl_a"] == 0, 30,
                        since=t0)
    res["over_voltage"] = {"alarm_after_s": alarm and alarm[0] - t0,
                           "ccl0_after_s": ccl0 and ccl0[0] - t0}
    for name, frame in (("alarm", alarm), ("CCL = 0", ccl0)):
        stalled = frame and stalls.stalled(t0, frame[0])
        res["over_voltage"][f"{name} stalled_s"] = stalled
        res["checks"][f"over-voltage {name} within two periods"] = (
            bool(frame) and frame[0] - t0 <= 2.0 + stalled)
    sim.ctl.ok("release cell 5")


def wait_quiet(cap, since, stalls, quiet_s=2.0, timeout=60):
    """The time of the last of our frames after since once none came for quiet_s (plus what
    the machine stalled meanwhile), or None when they do not stop within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = time.time()
        last_t = max((f[0] for f in cap.snapshot() if f[0] > since and f[1] in IDS),
                     default=since)
        if now - last_t >= quiet_s + stalls.stalled(last_t, now):
            return last_t
        time.sleep(0.1)
    return None


def check_silent(cap, since, stalls, res, name):
    """Silent within stale_after_ms + one period of since (plus the measured stalls), and it
    stays silent."""
    last_t = wait_quiet(cap, since, stalls)
    if last_t is None:
        res[name] = {"last_frame_after_s": None}
        res["checks"][f"{name}: silent within stale_after_ms + one period"] = False
        return
    stalled = stalls.stalled(since, last_t)
    time.sleep(2)
    later = [f for f in cap.snapshot() if f[0] > last_t and f[1] in IDS]
    res[name] = {"last_frame_after_s": last_t - since, "stalled_s": stalled,
                 "frames_later": len(later)}
    res["checks"][f"{name}: silent within stale_after_ms + one period"] = (
        last_t - since <= (STALE_MS + 1000) / 1000.0 + 0.1 + stalled)
    res["checks"][f"{name}: stays silent"] = not later


def check_silence_and_resume(cap, sim_factory, sim, stalls, res):
    """A killed simulator (the serial device gone): silent, then back when it returns."""
    t_kill = time.time()
    sim.kill()
    check_silent(cap, t_kill, stalls, res, "simulator killed")
    t_back = time.time()
    new_sim = sim_factory()
    back = cap.wait_for(lambda f: f[1] == 0x351, 60, since=t_back)
    res["simulator killed"]["resumed_after_s"] = back and back[0] - t_back
    res["checks"]["frames resume when the simulator returns"] = bool(back)
    return new_sim


def check_stale_link(cap, sim, stalls, res):
    """A BMS that stops answering (the link stays open): silent once the data is stale."""
    t0 = time.time()
    sim.ctl.ok("fault noreply on")
    check_silent(cap, t0, stalls, res, "BMS not answering")
    t1 = time.time()
    sim.ctl.ok("fault noreply off")
    back = cap.wait_for(lambda f: f[1] == 0x351, 60, since=t1)
    res["BMS not answering"]["resumed_after_s"] = back and back[0] - t1
    res["checks"]["frames resume when the BMS answers again"] = bool(back)


def check_inverter(cap, daemon, res):
    canlib.send_frame(0x305, b"\0" * 8)
    canlib.send_frame(0x307, b"\x12\x34\0\0VIC\0")
    res["checks"]["0x305 reported as inverter present"] = daemon.saw_log(
        "inverter present: keepalive 0x305 received", 30)
    res["checks"]["0x307 VIC reported as Victron"] = daemon.saw_log(
        "inverter identified as Victron", 30)


def inside(out):
    res = {"checks": {}}
    # TMPDIR is a tmpfs in the guest: the PTY link and the Unix sockets cannot live on 9p
    folder = tempfile.mkdtemp(prefix="can-vcan-")
    device = os.path.join(folder, "tinybms")
    dbc = canlib.Dbc(os.path.join(SOURCE, "docs", "victron-bms.dbc"))
    cap = canlib.Capture()
    stalls = canlib.Stalls()
    sims = [tinybms(folder, device)]
    daemon = Daemon(BUILD, folder, config(folder, [("house", device)], can=VCAN), ready=60)
    try:
        res["checks"]["frames flow (CCL ramped up)"] = bool(steady(cap, dbc, 120))
        t0 = time.time()
        time.sleep(WINDOW_S)
        check_periods([f for f in cap.snapshot() if f[0] >= t0], dbc, stalls, res)
        check_values(cap, dbc, sims[-1], res)
        check_over_voltage(cap, dbc, sims[-1], stalls, res)
        check_inverter(cap, daemon, res)
        check_stale_link(cap, sims[-1], stalls, res)
        sims.append(check_silence_and_resume(
            cap, lambda: tinybms(folder, device), sims[-1], stalls, res))
    finally:
        rc = daemon.stop()
        for s in sims:
            s.kill()
        cap.close()
        stalls.close()
    res["stalled_total_s"] = stalls.stalled(0, time.time())
    sent = [f for f in cap.snapshot() if f[1] not in (0x305, 0x307)]
    strangers = sorted({f[1] for f in sent if f[1] not in IDS})
    res["checks"]["only the 19 frames"] = not strangers
    res["checks"]["no 0x305/0x307 sent by the gateway"] = (
        sum(1 for f in cap.snapshot() if f[1] in (0x305, 0x307)) == 2)
    res["checks"]["daemon exit status 0"] = rc == 0
    res["strangers"] = [hex(i) for i in strangers]
    res["daemon_log"] = daemon.text()[-6000:]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    return 0


class VcanInKernel(unittest.TestCase):
    def test_gateway_on_vcan0(self):
        out = tempfile.mkdtemp(prefix="can-vcan-", dir=os.path.join(BUILD, "tests"))
        runner = os.path.join(SOURCE, "tests", "vm", "run-vm")
        r = subprocess.run([runner, out, "/usr/bin/python3", os.path.abspath(__file__), BUILD,
                            SOURCE, "--inside", out], capture_output=True, text=True,
                           timeout=900)
        path = os.path.join(out, "results.json")
        self.assertTrue(os.path.exists(path),
                        f"no results from the guest (exit {r.returncode}): {r.stderr}\n"
                        f"console: {out}/console.log")
        with open(path) as f:
            res = json.load(f)
        print(json.dumps({k: v for k, v in res.items() if k != "daemon_log"}, indent=1))
        failed = [k for k, ok in res["checks"].items() if not ok]
        self.assertEqual(failed, [], res["daemon_log"])
        self.assertEqual(r.returncode, 0, r.stderr)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    if "--inside" in sys.argv:
        sys.exit(inside(sys.argv[sys.argv.index("--inside") + 1]))
    unittest.main(argv=[sys.argv[0]], verbosity=2)
