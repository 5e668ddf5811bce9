#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Modbus TCP server benchmark, one run on one machine with one load client (bench/mbtcp-load,
C, N connections in a closed loop of FC3 reads of 125 registers): the daemon's server (mega map)
against a plain single-threaded libmodbus select() server and Debian's pymodbus server holding as
many registers, at 1, 8 and 64 connections; then the most idle connections the daemon holds
while 8 busy clients keep p99 under 2 ms. Every wait and every run is bounded.

usage: bench-mbtcp.py BUILD_DIR [--seconds S]
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from bmsgwtest import free_ports, wait_port  # noqa: E402

BUILD = sys.argv[1]
SECONDS = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 5.0
HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(BUILD, "bench", "mbtcp-load")
PLAIN = os.path.join(BUILD, "bench", "mbtcp-plain-server")
BMSGW = os.path.join(BUILD, "src", "bmsgw")
POINTS = (1, 8, 64)
IDLE_STEPS = (0, 250, 500, 750, 992)  # max_connections 1000, 8 of them busy
P99_LIMIT_US = 2000


def more_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))


def start(cmd, folder, name):
    log = open(os.path.join(folder, name + ".log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=more_files)


def load(port, conns, idle=0, seconds=SECONDS):
    cmd = [LOAD, "--port", str(port), "--conns", str(conns), "--idle", str(idle),
           "--seconds", str(seconds)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                       preexec_fn=more_files)
    if r.returncode != 0:
        raise SystemExit(f"bench-mbtcp: {' '.join(cmd)}: {r.stderr}")
    return json.loads(r.stdout)


def daemon_config(folder, port):
    path = os.path.join(folder, "bmsgw.conf")
    with open(path, "w") as f:
        f.write(f'state_dir = "{folder}";\n'
                "can = { enabled = false; };\nhttp = { enabled = false; };\n"
                "ws = { enabled = false; };\n"
                f'bms = {{ ports = ( {{ name = "b"; device = "{folder}/none"; }} ); }};\n'
                '# no BMS here: the mega map is served from stale data\n'
                'modbus_tcp = { bind = "127.0.0.1"; serve_stale = true; max_connections = 1000;'
                f' idle_timeout_s = 3600; maps = ( {{ map = "mega"; port = {port}; }} ); }};\n')
    return path


def table(results):
    print(f"\nFC3 reads of 125 registers, closed loop, {SECONDS:g} s per point "
          f"({os.cpu_count()} CPUs shared by the servers and the load client)\n")
    print(f"{'conns':>5}  {'server':<10} {'req/s':>9} {'p50 us':>7} {'p99 us':>7} "
          f"{'errors':>6}  {'bmsgw vs it':>11}")
    for conns in POINTS:
        ours = results[(conns, "bmsgw")]["rps"]
        for name in ("bmsgw", "libmodbus", "pymodbus"):
            r = results[(conns, name)]
            ratio = "" if name == "bmsgw" else f"{ours / r['rps']:.2f}x" if r["rps"] else "-"
            print(f"{conns:>5}  {name:<10} {r['rps']:>9.0f} {r['p50_us']:>7.0f} "
                  f"{r['p99_us']:>7.0f} {r['errors']:>6}  {ratio:>11}")


def idle_test(port):
    print(f"\nIdle connections held by bmsgw while 8 busy clients run ({SECONDS:g} s each):\n")
    print(f"{'idle':>5} {'alive':>5} {'req/s':>9} {'p50 us':>7} {'p99 us':>7}")
    best = None
    for idle in IDLE_STEPS:
        r = load(port, 8, idle)
        print(f"{idle:>5} {r['idle_alive']:>5} {r['rps']:>9.0f} {r['p50_us']:>7.0f} "
              f"{r['p99_us']:>7.0f}")
        if r["p99_us"] < P99_LIMIT_US and r["idle_alive"] == idle and r["errors"] == 0:
            best = idle
    print(f"\nlargest number of idle connections with p99 < {P99_LIMIT_US} us: {best} "
          f"(steps {', '.join(map(str, IDLE_STEPS))}; modbus_tcp.max_connections = 1000)")


def main():
    for exe in (LOAD, PLAIN, BMSGW):
        if not os.path.exists(exe):
            raise SystemExit(f"bench-mbtcp: {exe} is not built")
    folder = tempfile.mkdtemp(prefix="bench-mbtcp-")
    p_ours, p_plain, p_py = free_ports(3)
    procs = {}
    try:
        procs["bmsgw"] = start([BMSGW, "-f", "-c", daemon_config(folder, p_ours)], folder, "bmsgw")
        procs["libmodbus"] = start([PLAIN, str(p_plain)], folder, "libmodbus")
        procs["pymodbus"] = start(["/usr/bin/python3", os.path.join(HERE, "mbtcp_pymodbus_server.py"),
                                   str(p_py)], folder, "pymodbus")
        ports = {"bmsgw": p_ours, "libmodbus": p_plain, "pymodbus": p_py}
        for name, port in ports.items():
            wait_port(port, 20, procs[name])
        results = {}
        for conns in POINTS:
            for name in ("bmsgw", "libmodbus", "pymodbus"):
                results[(conns, name)] = load(ports[name], conns)
        table(results)
        idle_test(p_ours)
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
