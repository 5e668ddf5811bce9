#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsctl against bmsgw-sim with the mega map: each subcommand's --json output checked against
the simulator's registers as an independent client (Debian's pymodbus) reads and decodes them,
and against values injected with FC6/FC16; CSV and text; writes; failures named; watch off a
terminal; token. The other maps: test_bmsctl_maps.py (with the helpers of this file);
test_bmsctl_tty.py drives watch and the menu on a terminal.

usage: test_bmsctl.py BUILD_DIR SOURCE_DIR [TestClass...]
"""
import csv
import io
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bmsgwtest import GIVE_UP, Device, free_ports  # noqa: E402
from mbtcp_util import Client, f32, s16, s32, u32  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SELECT = sys.argv[3:]
CTL = os.path.join(BUILD, "src", "bmsctl")
QUIET = "10000"  # ms between physics steps: the registers hold still between them
# bmsctl's response timeout: its longest, far above any pause of a simulator (a test that wants a
# time-out gives its own -t, which comes later on the command line and wins)
CTL_TIMEOUT = ("-t", "60000")


def bmsctl(port, *args, timeout=GIVE_UP):
    return subprocess.run([CTL, "-p", str(port), *CTL_TIMEOUT] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)


def read_regs(c, first, count):
    """count registers from first in reads of at most 125."""
    out = []
    while count > 0:
        n = min(125, count)
        out += c.fc3(first, n)
        first += n
        count -= n
    return out


def stable(read, act, timeout=GIVE_UP):
    """read(), act(), read() until both reads agree: act() then saw that very state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = read()
        got = act()
        if read() == before:
            return before, got
    raise AssertionError("the device never held still around the action")


class CountingProxy(threading.Thread):
    """Passes one client connection through to port and counts the requests (MBAP frames) that
    go to the device, by function code."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.requests = port, {}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listen_port = self.listener.getsockname()[1]
        self.start()

    def run(self):
        client, _ = self.listener.accept()
        device = socket.create_connection(("127.0.0.1", self.port))
        back = threading.Thread(target=self.pipe, args=(device, client), daemon=True)
        back.start()
        buf = b""
        while True:
            data = client.recv(65536)
            if not data:
                break
            device.sendall(data)
            buf += data
            while len(buf) >= 8 and len(buf) >= 6 + struct.unpack(">H", buf[4:6])[0]:
                n = 6 + struct.unpack(">H", buf[4:6])[0]
                self.requests[buf[7]] = self.requests.get(buf[7], 0) + 1
                buf = buf[n:]
        device.shutdown(socket.SHUT_WR)
        back.join(5)
        client.close()
        device.close()
        self.listener.close()

    @staticmethod
    def pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass


def stats(values):
    """count, min, max, avg, spread of the measured ones."""
    return len(values), min(values), max(values), sum(values) / len(values), \
        max(values) - min(values)


class CtlTest(unittest.TestCase):
    """bmsctl against the simulators in SIMS ((name, mode, args...)); the first one is
    self.port, read independently through self.c; every bmsctl call names MAP."""
    MAP = "mega"
    SIMS = ()

    @classmethod
    def setUpClass(cls):
        start(cls, *cls.SIMS)
        cls.port = next(iter(cls.sims.values()))[1]
        cls.c = Client(cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        stop(cls)

    def ctl(self, *args, port=None):
        return bmsctl(self.port if port is None else port, "--map", self.MAP, *args)

    def run_ok(self, *args):
        r = self.ctl(*args)
        self.assertEqual(r.returncode, 0, f"bmsctl {args}: {r.stderr}")
        return r.stdout

    def json_of(self, *args):
        return json.loads(self.run_ok("--json", *args))

    def fails(self, rc, message, *args, port=None):
        r = self.ctl(*args, port=port)
        self.assertEqual(r.returncode, rc, r.stdout + r.stderr)
        self.assertIn(message, r.stderr)
        return r


def start(cls, *sims):
    """Start the class's simulators: (name, mode, args...); stops them again on failure."""
    cls.sims = {}
    ports = free_ports(len(sims))
    try:
        for (name, mode, *args), port in zip(sims, ports):
            cls.sims[name] = (Device(BUILD, mode, port, *args), port)
    except AssertionError:
        stop(cls)
        raise


def stop(cls):
    for sim, _ in cls.sims.values():
        rc, out = sim.stop(), sim.text()
        if rc != 0:
            raise AssertionError(f"bmsgw-sim exit status {rc}:\n{out}")


# ---- mega -----------------------------------------------------------------------------------

def mega_main(raw, cdab=False):
    """The main values of the mega map decoded as the spec says (raw: 1000-1009, 30003-30008)."""
    return {"soc_pct": u32(raw, 0, cdab) / 100, "soh_pct": u32(raw, 2, cdab) / 100,
            "total_voltage_v": u32(raw, 4, cdab) / 100,
            "max_temperature_c": s32(raw, 6, cdab) / 10, "current_a": s32(raw, 8, cdab) / 100,
            "avg_temperature_c": f32(raw, 10, cdab), "avg_cell_voltage_v": f32(raw, 12, cdab),
            "pack_voltage_v": f32(raw, 14, cdab)}


def temp_c(reg):
    return None if reg == 0x8000 else s16(reg) / 10


class Mega(CtlTest):
    SIMS = (("mega", "mega", "--interval-ms", QUIET),
            ("cdab", "mega", "--interval-ms", QUIET, "--word-order", "cdab", "--read-only"))

    def main_raw(self, c=None):
        c = c or self.c
        return read_regs(c, 1000, 10) + read_regs(c, 30003, 6)

    def check_main(self, got, want):
        for key, value in want.items():
            if key in ("avg_temperature_c", "avg_cell_voltage_v", "pack_voltage_v"):
                self.assertTrue(math.isclose(got[key], value, rel_tol=1e-6), (key, got, want))
            else:
                self.assertAlmostEqual(got[key], value, places=9, msg=key)

    def test_main(self):
        raw, j = stable(self.main_raw, lambda: self.json_of("main"))
        self.check_main(j, mega_main(raw))
        self.assertEqual(j["device"], {"host": "127.0.0.1", "port": self.port, "unit": 1,
                                       "map": "mega", "word_order": "abcd"})
        self.assertGreater(j["timestamp_ms"], 1_600_000_000_000)

    def test_word_order_cdab(self):
        port = self.sims["cdab"][1]
        c = Client(port)
        try:
            raw, j = stable(lambda: self.main_raw(c),
                            lambda: json.loads(bmsctl(port, "--json", "--word-order", "cdab",
                                                      "main").stdout))
            self.check_main(j, mega_main(raw, cdab=True))
            wrong = json.loads(bmsctl(port, "--json", "main").stdout)
            self.assertNotAlmostEqual(wrong["soc_pct"], j["soc_pct"], places=1)
        finally:
            c.close()

    def test_cells_all_in_40_reads(self):
        raw, j = stable(lambda: read_regs(self.c, 1010, 4992), lambda: self.json_of("cells"))
        self.assertEqual([x["cell"] for x in j["cells"]], list(range(1, 4993)))
        self.assertEqual([x["voltage_mv"] for x in j["cells"]], raw)

    def test_fewest_requests(self):
        """Counted on the wire: 4992 cells in 40 reads; the whole map in 61 + 2 + 1."""
        for args, want in ((("cells",), {3: 40}), (("all",), {3: 61, 1: 2, 2: 1}),
                           (("main",), {3: 2}), (("cells", "1-125"), {3: 1})):
            proxy = CountingProxy(self.port)
            r = bmsctl(proxy.listen_port, "--json", *args)
            proxy.join(10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(proxy.requests, want, args)

    def test_cells_injected_with_fc16(self):
        self.c.fc16(1026, [3650, 3111])  # cells 17 and 18
        try:
            j = self.json_of("cells", "17-18,4992")
            self.assertEqual(j["cells"][:2], [{"cell": 17, "voltage_mv": 3650},
                                              {"cell": 18, "voltage_mv": 3111}])
            self.assertEqual(j["cells"][2]["cell"], 4992)
            text_out = self.run_ok("cells", "17-18")
            self.assertIn("cell 17-18", text_out)
            self.assertRegex(text_out, r"cell 17-18\s+3650 3111\n")
        finally:
            self.c.fc16(1026, [0, 0])  # back to the physics

    def test_temps_unplugged_and_forced(self):
        self.c.fc6(7002, 0x8000)  # sensor 3 unplugged
        self.c.fc6(7004, (-123) & 0xFFFF)  # sensor 5 at -12.3 degC
        try:
            raw, j = stable(lambda: read_regs(self.c, 7000, 8), lambda: self.json_of("temps", "1-8"))
            got = [x["temperature_c"] for x in j["sensors"]]
            self.assertEqual(got, [temp_c(r) for r in raw])
            self.assertIsNone(got[2])
            self.assertEqual(got[4], -12.3)
            self.assertIn("  sensor 1-8", self.run_ok("temps", "1-8"))
        finally:
            self.c.fc16(7002, [0x7FFF])
            self.c.fc16(7004, [0x7FFF])

    def test_strings_from_the_layout(self):
        def read():
            return read_regs(self.c, 1010, 4992), read_regs(self.c, 7000, 2304)
        (cells, temps), j = stable(read, lambda: self.json_of("strings"))
        self.assertEqual(j["layout"], {"cells_per_string": 208, "sensors_per_string": 96})
        self.assertEqual(len(j["strings"]), 24)
        for k, s in enumerate(j["strings"]):
            self.assertEqual(s["string"], k + 1)
            mv = [v for v in cells[208 * k:208 * (k + 1)] if v]
            n, lo, hi, avg, spread = stats(mv)
            self.assertEqual((s["cells_mv"]["count"], s["cells_mv"]["min"], s["cells_mv"]["max"],
                              s["cells_mv"]["spread"]), (n, lo, hi, spread))
            self.assertAlmostEqual(s["cells_mv"]["avg"], avg, places=2)
            first = 208 * k + mv.index(lo) + 1
            self.assertEqual(s["cells_mv"]["min_at"], f"cell {first} voltage")
            c = [temp_c(r) for r in temps[96 * k:96 * (k + 1)] if r != 0x8000]
            n, lo, hi, avg, spread = stats(c)
            self.assertEqual((s["temperatures_c"]["count"], s["temperatures_c"]["min"],
                              s["temperatures_c"]["max"]), (n, lo, hi))
        n, lo, hi, _, _ = stats([v for v in cells if v])
        self.assertEqual((j["system"]["cells_mv"]["count"], j["system"]["cells_mv"]["min"],
                          j["system"]["cells_mv"]["max"]), (n, lo, hi))
        # other layouts: 2 strings of 2496 cells and 1152 sensors; 312 strings of 16 cells with
        # the temperatures for the system only (2304 x 16 / 4992 is not a whole number)
        j = self.json_of("strings", "--cells-per-string", "2496")
        self.assertEqual(j["layout"], {"cells_per_string": 2496, "sensors_per_string": 1152})
        self.assertEqual([s["cells_mv"]["count"] for s in j["strings"]], [2496, 2496])
        j = self.json_of("strings", "--cells-per-string", "16")
        self.assertEqual(len(j["strings"]), 312)
        self.assertEqual(j["strings"][0]["temperatures_c"], {"count": 0})
        self.assertGreater(j["system"]["temperatures_c"]["count"], 2000)

    def read_bits(self):
        return self.c.fc1(0, 8), self.c.fc1(100, 3), self.c.fc2(0, 8)

    def test_status_and_coils(self):
        (coils, control, inputs), j = stable(self.read_bits, lambda: self.json_of("coils"))
        self.assertEqual([(x["address"], x["value"]) for x in j["coils"]],
                         [(a, bool(v)) for a, v in zip(list(range(8)) + [100, 101, 102],
                                                        coils + control)])
        self.assertEqual([x["value"] for x in j["discrete_inputs"]], [bool(v) for v in inputs])
        self.assertEqual(j["coils"][0]["key"], "online")
        self.assertEqual(j["coils"][4]["name"], "alarm active")
        (coils, control, _), j = stable(self.read_bits, lambda: self.json_of("status"))
        self.assertEqual([x["value"] for x in j["coils"]], [bool(v) for v in coils + control])
        self.assertNotIn("discrete_inputs", j)

    def test_write_coil(self):
        r = self.run_ok("write-coil", "100", "0")
        self.assertEqual(r, "wrote charge enable (100) = 0\n")
        try:
            self.assertEqual(self.c.fc1(100, 1), [0])
            j = self.json_of("status")
            self.assertFalse(next(x for x in j["coils"] if x["key"] == "charge_enable")["value"])
        finally:
            j = self.json_of("write-coil", "charge_enable", "on")
        self.assertEqual(j["written"]["address"], 100)
        self.assertEqual(self.c.fc1(100, 1), [1])
        self.fails(2, "coil 0 (system online) is read-only in the mega map", "write-coil", 0, 1)
        self.fails(2, "coil 'no_such' is not a value of the mega map", "write-coil", "no_such", 1)
        self.fails(2, "a coil is written 0 or 1", "write-coil", 100, "maybe")

    def test_write_reg(self):
        before = u32(self.c.fc3(1000, 2), 0)
        want = 4250 if abs(before - 4250) > 50 else 3250
        r = self.fails(2, "add --yes to write it", "write-reg", "soc", f"{want / 100:g}")
        self.assertIn(f"write-reg would write SOC (1000...) = {want / 100:g} % as raw 0x0000 "
                      f"0x{want:04x} with FC16", r.stderr)
        self.assertLess(abs(u32(self.c.fc3(1000, 2), 0) - before), 50, "nothing was written")
        j = self.json_of("write-reg", "--yes", "soc", f"{want / 100:g}")
        self.assertEqual(j["written"]["raw"], [want >> 16, want & 0xFFFF])
        self.assertLessEqual(abs(u32(self.c.fc3(1000, 2), 0) - want), 2)  # one step at most
        self.assertLessEqual(abs(self.json_of("main")["soc_pct"] - want / 100), 0.02)
        self.run_ok("write-reg", "--yes", "--raw", "7005", "--", "-50")  # sensor 6: -5.0 degC
        try:
            self.assertEqual(self.c.fc3(7005, 1), [(-50) & 0xFFFF])
            self.assertEqual(self.json_of("temps", "6")["sensors"][0]["temperature_c"], -5.0)
        finally:
            self.c.fc6(7005, 0x7FFF)
        self.fails(2, "SOC takes 0..100 % (got 150)", "write-reg", "--yes", "soc", "150")
        self.fails(2, "total voltage (1004) is read-only in the mega map", "write-reg", "--yes",
                   "1004", "1")
        self.fails(2, "register 1005 is inside a value: write it from its first register 1004",
                   "write-reg", "--yes", "1005", "1")

    def test_all(self):
        raw, j = stable(self.main_raw, lambda: self.json_of("all"))
        self.check_main(j, mega_main(raw))
        self.assertEqual(len(j["cells"]), 4992)
        self.assertEqual(len(j["sensors"]), 2304)
        self.assertEqual(len(j["coils"]), 11)
        self.assertEqual(len(j["discrete_inputs"]), 8)
        out = self.run_ok("all")
        for title in ("main parameters", "system status", "control coils", "discrete inputs",
                      "cell voltages", "temperature sensors"):
            self.assertIn(f"\n{title}\n", out)

    def test_csv_and_text(self):
        raw, out = stable(self.main_raw, lambda: self.run_ok("--csv", "main"))
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(list(rows[0].keys()), ["address", "key", "name", "value", "unit"])
        want = mega_main(raw)
        self.assertEqual(rows[0]["key"], "soc")
        self.assertEqual(float(rows[0]["value"]), want["soc_pct"])
        self.assertEqual(rows[4]["unit"], "A")
        self.assertEqual(float(rows[4]["value"]), want["current_a"])
        raw, out = stable(self.main_raw, lambda: self.run_ok("main"))
        self.assertIn("mega BMS at 127.0.0.1:%d (unit 1): main parameters\n" % self.port, out)
        self.assertRegex(out, r"\n   1000  SOC +%.2f %%\n" % mega_main(raw)["soc_pct"])
        self.assertNotIn("\033", out)  # no colours off a terminal

    def test_failures_in_words(self):
        free = free_ports(1)[0]
        self.fails(1, f"127.0.0.1:{free}: Connection refused (is bmsgw or bmsgw-sim serving the "
                      f"mega map on port {free}?)", "main", port=free)
        self.fails(1, "wrong map: the device does not serve the tescom map, it answers like the "
                      "mega map (try --map mega): illegal data address 0 (FC3 read of 4 registers "
                      "at 0-3)", "--map", "tescom", "main")
        self.fails(1, "illegal function 100 (FC5 write of coil 100) (the device refuses writes",
                   "write-coil", "100", "1", port=self.sims["cdab"][1])
        self.fails(2, "bmsctl: -p must be 1..65535 (got '0')", "main", port=0)
        self.fails(2, "cell 4993 is out of range: the map has cells 1-4992", "cells", "4990-4993")
        # a device that accepts and never answers
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        try:
            self.fails(1, "no answer within 300 ms (FC3 read of 10 registers at 1000-1009)",
                       "-t", "300", "main", port=silent.getsockname()[1])
        finally:
            silent.close()
        r = subprocess.run([CTL], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           timeout=GIVE_UP)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no command given (the menu needs a terminal", r.stderr)


# ---- token ----------------------------------------------------------------------------------

class Token(unittest.TestCase):
    def test_token_read_never_made(self):
        folder = tempfile.mkdtemp(prefix="bmsctl-")
        try:
            conf, token = os.path.join(folder, "bmsgw.conf"), os.path.join(folder, "api-token")
            with open(conf, "w") as f:
                f.write(f'state_dir = "{folder}";\nhttp = {{ api_token_file = "{token}"; }};\n')
            r = subprocess.run([CTL, "token", "-c", conf], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"no API token at {token} yet", r.stderr)
            self.assertFalse(os.path.exists(token))
            with open(token, "w") as f:
                f.write("a1b2c3d4e5f60718293a4b5c6d7e8f90\n")
            os.chmod(token, 0o600)
            r = subprocess.run([CTL, "--json", "token", "-c", conf], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout), {"token": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                                                    "file": token})
        finally:
            shutil.rmtree(folder)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
