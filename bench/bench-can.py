#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""CAN timing of the gateway on vcan0 (in Debian's kernel under qemu, tests/vm/run-vm, unless
--inside; under the emulated CPU the figures are those of a slow machine, and the baseline
beside each one is measured in the same guest):

- send-time jitter per frame over 60 s: |gap - nominal period|, p50 / p99 / max, next to the
  same figures of can-utils' cangen sending one frame every 1000 ms on the same bus (baseline);
- end-to-end latency from a simulator value change (the current) to the first 0x356 carrying
  it, p50 / p99, next to the expectation poll_interval/2 + period/2;
- CPU time per minute of the CAN thread, next to the whole daemon's.

usage: bench-can.py BUILD_DIR SOURCE_DIR [--inside OUT] [--seconds N]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
import canlib  # noqa: E402
from bmsgwtest import Daemon, TinyBMS, config  # noqa: E402

SECONDS = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60
BASELINE_ID = 0x123


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def jitter(frames, cid, period_s):
    t = [f[0] for f in frames if f[1] == cid]
    dev = [abs((b - a) - period_s) * 1000.0 for a, b in zip(t, t[1:])]
    return {"n": len(dev), "p50_ms": pct(dev, 50), "p99_ms": pct(dev, 99),
            "max_ms": max(dev) if dev else float("nan")}


def latency(cap, dbc, sim, n):
    out = []
    for i in range(n):
        amps = 5.0 if i % 2 == 0 else 7.5
        t0 = time.time()
        sim.ctl.ok(f"set current {amps}")
        f = cap.wait_for(lambda fr: fr[1] == 0x356 and
                         abs(dbc.decode(0x356, fr[3])["current_a"] - amps) < 0.05, 5, since=t0)
        if f:
            out.append((f[0] - t0) * 1000.0)
        time.sleep(0.37)  # de-correlate from the frame period
    return out


def inside(out):
    folder = tempfile.mkdtemp(prefix="bench-can-")  # TMPDIR: a tmpfs in the guest (sockets)
    device = os.path.join(folder, "tinybms")
    dbc = canlib.Dbc(os.path.join(SOURCE, "docs", "victron-bms.dbc"))
    cap = canlib.Capture()
    sim = TinyBMS(BUILD, folder, device, ("--seed", "1"))
    daemon = Daemon(BUILD, folder, config(folder, [("house", device)], can='interface = "vcan0";'),
                    ready=60)
    res = {}
    try:
        if not cap.wait_for(lambda f: f[1] == 0x351, 120):
            raise SystemExit("no frames from the gateway")
        base = subprocess.Popen(["cangen", "vcan0", "-g", "1000", "-I", f"{BASELINE_ID:X}",
                                 "-L", "8", "-D", "i"])
        cpu0, proc0, t0 = daemon.thread_cpu_s("can"), daemon.process_cpu_s(), time.time()
        time.sleep(SECONDS)
        cpu1, proc1, t1 = daemon.thread_cpu_s("can"), daemon.process_cpu_s(), time.time()
        base.terminate()
        base.wait()
        frames = [f for f in cap.snapshot() if t0 <= f[0] <= t1]
        res["jitter"] = {f"0x{cid:03X}": jitter(frames, cid, dbc.cycle_ms[cid] / 1000.0)
                         for cid in sorted(dbc.cycle_ms)}
        res["baseline_cangen_1000ms"] = jitter(frames, BASELINE_ID, 1.0)
        scale = 60.0 / (t1 - t0)
        res["cpu_s_per_min"] = {"can_thread": (cpu1 - cpu0) * scale,
                                "daemon": (proc1 - proc0) * scale}
        lat = latency(cap, dbc, sim, 30)
        res["latency_0x356_ms"] = {"n": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99),
                                   "expected_mean": 250 / 2 + 1000 / 2}
    finally:
        daemon.stop()
        sim.kill()
        cap.close()
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(res, f, indent=1)
    return 0


def report(res):
    b = res["baseline_cangen_1000ms"]
    print(f"send-time jitter over {SECONDS} s, |gap - period| in ms (p50 / p99 / max):")
    print(f"  baseline cangen -g 1000      {b['p50_ms']:7.2f} {b['p99_ms']:7.2f} "
          f"{b['max_ms']:7.2f}  (n={b['n']})")
    for cid, j in res["jitter"].items():
        print(f"  {cid}                        {j['p50_ms']:7.2f} {j['p99_ms']:7.2f} "
              f"{j['max_ms']:7.2f}  (n={j['n']})")
    lat = res["latency_0x356_ms"]
    print(f"latency simulator current change -> 0x356: p50 {lat['p50']:.0f} ms, p99 "
          f"{lat['p99']:.0f} ms (n={lat['n']}; expected mean ~{lat['expected_mean']:.0f} ms "
          f"= poll/2 + period/2)")
    cpu = res["cpu_s_per_min"]
    print(f"CPU per minute: CAN thread {cpu['can_thread']:.3f} s, whole daemon "
          f"{cpu['daemon']:.3f} s")


def main():
    if "--inside" in sys.argv:
        return inside(sys.argv[sys.argv.index("--inside") + 1])
    os.makedirs(os.path.join(BUILD, "tests"), exist_ok=True)
    out = tempfile.mkdtemp(prefix="bench-can-", dir=os.path.join(BUILD, "tests"))
    runner = os.path.join(SOURCE, "tests", "vm", "run-vm")
    r = subprocess.run([runner, out, "/usr/bin/python3", os.path.abspath(__file__), BUILD,
                        SOURCE, "--inside", out, "--seconds", str(SECONDS)],
                       timeout=SECONDS * 3 + 600)
    path = os.path.join(out, "bench.json")
    if r.returncode != 0 or not os.path.exists(path):
        print(f"bench-can: the guest failed (exit {r.returncode}); see {out}", file=sys.stderr)
        return 1
    with open(path) as f:
        report(json.load(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
