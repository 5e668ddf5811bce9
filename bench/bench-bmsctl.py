#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Time for `bmsctl --map mega cells` to read all 4992 cells from bmsgw-sim, next to the same
read done with mbpoll in its best batching (125 registers per request, the protocol's limit; one
request per mbpoll run, since mbpoll reads one range per invocation: 40 runs).

usage: bench-bmsctl.py BUILD_DIR [RUNS]
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from bmsgwtest import free_ports, wait_port  # noqa: E402

BUILD = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
CTL = os.path.join(BUILD, "src", "bmsctl")
SIM = os.path.join(BUILD, "src", "bmsgw-sim")
CELLS, FIRST = 4992, 1010


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def bmsctl_read(port, *extra):
    def run():
        r = subprocess.run([CTL, "-p", str(port), "--map", "mega"] + list(extra) + ["cells"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit(f"bmsctl failed: {r.stderr}")
        run.out = r.stdout
    return run


def mbpoll_read(port):
    def run():
        values = 0
        for first in range(FIRST, FIRST + CELLS, 125):
            n = min(125, FIRST + CELLS - first)
            r = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-0", "-1", "-t", "4",
                                "-r", str(first), "-c", str(n), "-o", "2", "127.0.0.1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"mbpoll failed: {r.stdout}{r.stderr}")
            values += len(re.findall(r"^\[\d+\]:", r.stdout, re.M))
        if values != CELLS:
            sys.exit(f"mbpoll read {values} values, not {CELLS}")
    return run


def report(name, times, baseline=None):
    med = statistics.median(times)
    line = f"{name:<52} median {med:8.1f} ms   min {min(times):8.1f} ms"
    if baseline:
        line += f"   {baseline / med:5.1f}x faster than mbpoll"
    print(line)
    return med


def main():
    port = free_ports(1)[0]
    sim = subprocess.Popen([SIM, "mega", "--bind", "127.0.0.1", "--port", str(port), "--quiet",
                            "--interval-ms", "10000"], stdout=subprocess.DEVNULL)
    try:
        wait_port(port, 20, sim)
        text, js = bmsctl_read(port), bmsctl_read(port, "--json")
        text()
        if not re.search(r"\[4992 of 4992\]", text.out):
            sys.exit("bmsctl did not read 4992 cells")
        ctl_text = [timed(text) for _ in range(RUNS)]
        ctl_json = [timed(js) for _ in range(RUNS)]
        poll = [timed(mbpoll_read(port)) for _ in range(RUNS)]
        one = [timed(lambda: subprocess.run(
            ["mbpoll", "-m", "tcp", "-p", str(port), "-0", "-1", "-r", str(FIRST), "-c", "125",
             "127.0.0.1"], stdout=subprocess.DEVNULL, check=True)) for _ in range(RUNS)]
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=10)
    print(f"reading {CELLS} cells (registers {FIRST}-{FIRST + CELLS - 1}) from bmsgw-sim mega, "
          f"{RUNS} runs each, wall time per complete read:")
    base = report("mbpoll, 40 runs of 125 registers (baseline)", poll)
    report("  (one mbpoll run of 125 registers)", one)
    report("bmsctl --map mega cells (one connection, 40 reads)", ctl_text, base)
    report("bmsctl --map mega --json cells", ctl_json, base)


if __name__ == "__main__":
    main()
