#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsctl against bmsgw-sim for the Tescom, 12S-pack and test-pattern maps (the mega map and
the helpers are in test_bmsctl.py): each subcommand's --json output checked against the
simulator's registers as Debian's pymodbus reads them.

usage: test_bmsctl_maps.py BUILD_DIR SOURCE_DIR [TestClass...]
"""
import csv
import io
import json
import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mbtcp_util import f16, f32, f64, s16, s32, text, u32  # noqa: E402
# test_bmsctl reads the same BUILD_DIR SOURCE_DIR arguments
from test_bmsctl import QUIET, SELECT, CtlTest, read_regs, stable, stats  # noqa: E402


# ---- Tescom ---------------------------------------------------------------------------------

class Tescom(CtlTest):
    MAP = "tescom"
    SIMS = (("tescom", "tescom", "--interval-ms", QUIET),)

    def raw(self):
        """counts, and per arm its live block, alarm block and status block (installed part)."""
        counts = self.c.fc3(0, 4)
        arms = []
        for k in range(4):
            n = counts[k]
            arms.append((read_regs(self.c, 1001 + 1000 * k, 4 + 7 * n),
                         read_regs(self.c, 5001 + 844 * k, 4 + 7 * n),
                         read_regs(self.c, 9001 + 121 * k, 1 + n)))
        return counts, arms

    def test_main(self):
        (counts, arms), j = stable(self.raw, lambda: self.json_of("main"))
        self.assertEqual(counts, [7, 0, 5, 0])
        for k, arm in enumerate(j["arms"]):
            live, _, status = arms[k]
            self.assertEqual(arm["arm"], k + 1)
            self.assertEqual(arm["battery_count"], counts[k])
            self.assertEqual(arm["status"], status[0])
            self.assertEqual([arm["current_a"], arm["humidity_pct"], arm["module_temperature_c"],
                              arm["ambient_temperature_c"]], [s16(r) / 100 for r in live[:4]])
            self.assertNotIn("batteries", arm)

    def test_cells_and_temps(self):
        (counts, arms), j = stable(self.raw, lambda: self.json_of("cells"))
        by_arm = {arm["arm"]: arm for arm in j["arms"]}
        for k, n in enumerate(counts):
            bats = by_arm.get(k + 1, {}).get("batteries", [])
            self.assertEqual([b["battery"] for b in bats], list(range(1, n + 1)))
            self.assertEqual([b["voltage_v"] for b in bats],
                             [s16(arms[k][0][4 + 7 * b]) / 100 for b in range(n)])
        (counts, arms), j = stable(self.raw, lambda: self.json_of("temps", "2-3"))
        self.assertEqual([arm["arm"] for arm in j["arms"]], [1, 3])
        for k, arm in zip((0, 2), j["arms"]):
            bats = arm["batteries"]
            self.assertEqual([b["battery"] for b in bats], [2, 3])
            for b in bats:
                base = 4 + 7 * (b["battery"] - 1)
                self.assertEqual([b["rimt_c"], b["ntc1_c"], b["ntc2_c"], b["ntc3_c"]],
                                 [s16(arms[k][0][base + f]) / 100 for f in (2, 4, 5, 6)])

    def test_status_and_alarms(self):
        names = ["alarm_low_voltage_warning", "alarm_low_voltage", "alarm_high_voltage_warning",
                 "alarm_high_voltage", "alarm_module_temperature",
                 "alarm_positive_pole_temperature", "alarm_negative_pole_temperature"]
        (counts, arms), j = stable(self.raw, lambda: self.json_of("status"))
        for k, arm in enumerate(j["arms"]):
            _, alarms, status = arms[k]
            self.assertEqual(arm["status"], status[0])
            self.assertEqual([arm["alarm_high_current"], arm["alarm_high_humidity"],
                              arm["alarm_high_ambient"], arm["alarm_high_arm_temperature"]],
                             alarms[:4])
            for b in arm.get("batteries", []):
                base = 4 + 7 * (b["battery"] - 1)
                self.assertEqual([b[n] for n in names], alarms[base:base + 7])
                self.assertEqual(b["status"], status[b["battery"]])
        out = self.run_ok("status")
        self.assertIn("\narm alarms\n", out)
        self.assertIn("\nbattery alarms\n", out)

    def test_strings_are_the_arms(self):
        (counts, arms), j = stable(self.raw, lambda: self.json_of("strings"))
        self.assertNotIn("layout", j)
        for k, s in enumerate(j["strings"]):
            live, _, status = arms[k]
            n = counts[k]
            self.assertEqual(s["string"], k + 1)
            self.assertEqual(s["status"], status[0])
            self.assertAlmostEqual(s["current_a"], s16(live[0]) / 100, places=6)
            if not n:
                self.assertEqual(s["cells_mv"], {"count": 0})
                continue
            mv = [s16(live[4 + 7 * b]) * 10 for b in range(n)]
            cnt, lo, hi, avg, spread = stats(mv)
            self.assertEqual((s["cells_mv"]["count"], s["cells_mv"]["min"], s["cells_mv"]["max"]),
                             (cnt, lo, hi))
            self.assertAlmostEqual(s["cells_mv"]["avg"], avg, places=2)
            temps = [s16(live[4 + 7 * b + f]) / 100 for b in range(n) for f in (2, 4, 5, 6)]
            self.assertEqual((s["temperatures_c"]["min"], s["temperatures_c"]["max"]),
                             (min(temps), max(temps)))
            soc = [s16(live[4 + 7 * b + 1]) / 100 for b in range(n)]
            self.assertAlmostEqual(s["soc_pct"], sum(soc) / n, places=3)

    def test_all_and_refusals(self):
        (counts, arms), j = stable(self.raw, lambda: self.json_of("all"))
        bat = j["arms"][2]["batteries"][4]
        live = arms[2][0]
        self.assertEqual(bat["battery"], 5)
        self.assertEqual([bat["voltage_v"], bat["soc_pct"], bat["soh_pct"]],
                         [s16(live[4 + 28 + f]) / 100 for f in (0, 1, 3)])
        self.fails(2, "bmsctl: coils: the Tescom map has no coils", "coils")
        self.fails(2, "battery 121 is out of range: the map has batteries 1-120", "cells", "121")


# ---- 12S pack -------------------------------------------------------------------------------

class Pack12s(CtlTest):
    BITS = ["charging", "discharging", "idle", "balancing", "precharge", "forced power-off",
            "protection", "permanent lock"]

    MAP = "pack12s"
    SIMS = (("pack", "pack12s", "--sync-ms", "60000"),)

    def test_main(self):
        raw, j = stable(lambda: self.c.fc3(1440, 14), lambda: self.json_of("main"))
        self.assertEqual(j["nominal_capacity_ah"], raw[0] / 10)
        self.assertEqual(j["stored_capacity_ah"], raw[1] / 10)
        self.assertEqual(j["current_a"], s16(raw[2]) / 10)
        self.assertEqual(j["pack_voltage_v"], raw[3] / 100)
        self.assertEqual((j["max_cell_voltage_mv"], j["min_cell_voltage_mv"]), (raw[4], raw[5]))
        self.assertEqual((j["max_temperature_c"], j["min_temperature_c"]),
                         (s16(raw[6]) / 10, s16(raw[7]) / 10))
        self.assertEqual(j["max_cell_no"], (raw[13] & 0xFF00) | raw[8] >> 8)
        self.assertEqual(j["min_cell_no"], (raw[13] & 0xFF) << 8 | raw[8] & 0xFF)
        self.assertEqual((j["max_temp_id"], j["min_temp_id"]), (raw[9] >> 8, raw[9] & 0xFF))
        self.assertEqual(j["soh_pct"], raw[10] / 100)
        self.assertEqual(j["status"], raw[11])
        self.assertEqual(j["status_set"], [n for b, n in enumerate(self.BITS) if raw[11] >> b & 1])
        self.assertEqual(j["alarms"], raw[12])
        self.assertTrue(1 <= j["max_cell_no"] <= 12)

    def test_commands(self):
        self.assertEqual(self.json_of("write-reg", "--yes", "cmd04_balance_mode", "1")
                         ["written"]["address"], 1596)
        try:
            self.assertEqual(self.c.fc3(1596, 1), [1])
            j = self.json_of("status")
            self.assertEqual(j["cmd04_balance_mode"], 1)
            self.assertIn("balancing", j["status_set"])
        finally:
            self.run_ok("write-reg", "--yes", "1596", "0")
        self.assertEqual(self.c.fc3(1596, 1), [0])
        self.fails(2, "cmd07 compensation coefficient takes 37..37 (got 36)", "write-reg", "--yes",
                   "cmd07_compensation", "36")
        self.fails(2, "the 12S pack map has no per-cell voltages", "cells")
        self.fails(2, "the 12S pack map has no coils", "coils")
        out = self.run_ok("status")
        self.assertRegex(out, r"1451  working status bits +0x[0-9a-f]{4}  ")


# ---- test pattern ---------------------------------------------------------------------------

def tp_decode(regs):
    """The first value of each type of the test pattern (regs: 0..1000)."""
    return {"int16": s16(regs[0]), "uint16": regs[101], "int32": s32(regs, 201),
            "uint32": u32(regs, 301), "float16": f16(regs[401]), "float32": f32(regs, 501),
            "float64": f64(regs, 601), "double": f64(regs, 701)}


class TestPattern(CtlTest):
    MAP = "testpattern"
    SIMS = (("tp", "testpattern"), ("unit7", "testpattern", "--unit-id", "7"))

    def check_values(self, got, want):
        for key, value in want.items():
            if key.startswith("float"):
                self.assertTrue(math.isclose(got[key], value, rel_tol=1e-6), (key, got, want))
            else:
                self.assertEqual(got[key], value, key)

    def test_main_and_all(self):
        regs, j = stable(lambda: read_regs(self.c, 0, 1001), lambda: self.json_of("main"))
        self.check_values(j["values"][0], tp_decode(regs))
        self.assertEqual(len(j["values"]), 1)
        t = j["values"][0]["uint32"]
        self.assertEqual(j["values"][0]["int16"], -16000 + t)
        self.assertEqual(j["hello"], "Hello, World!")
        self.assertEqual(j["hello_epoch"], text(regs[901:1001]))
        regs, j = stable(lambda: read_regs(self.c, 0, 1001), lambda: self.json_of("all"))
        values = j["values"]
        self.assertEqual(len(values), 101)
        self.assertEqual([v["int16"] for v in values], [s16(r) for r in regs[0:101]])
        self.assertEqual([v["int32"] for v in values[:50]],
                         [s32(regs, 201 + 2 * k) for k in range(50)])
        self.assertEqual([v["double"] for v in values[:13]],
                         [f64(regs, 701 + 8 * k) for k in range(13)])
        self.assertNotIn("double", values[13])
        self.assertEqual(len(j["coils"]), 301)

    def test_coils(self):
        def read():
            return self.c.fc1(0, 301), self.c.fc2(0, 301)
        (coils, inputs), j = stable(read, lambda: self.json_of("coils"))
        self.assertEqual([c["value"] for c in j["coils"]], [bool(v) for v in coils])
        self.assertEqual([c["address"] for c in j["discrete_inputs"]], list(range(301)))
        self.assertEqual([c["value"] for c in j["discrete_inputs"]], [bool(v) for v in inputs])
        self.fails(2, "the test-pattern map has no cells", "cells")

    def test_unit_id(self):
        port = self.sims["unit7"][1]
        r = self.fails(1, "gateway target device failed to respond 0 (FC3 read of ", "main",
                       port=port)
        self.assertIn("(unit id 1 is not served here: check -u)", r.stderr)
        r = self.ctl("-u", "7", "--json", "main", port=port)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_watch_json_and_csv(self):
        n, interval_ms = 6, 400
        launched_ms = time.time() * 1000
        r = self.ctl("--json", "watch", "-i", str(interval_ms / 1000), "-n", str(n))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(len(lines), n)
        for x in lines:
            self.assertEqual(x["values"][0]["int16"], -16000 + x["values"][0]["uint32"])
        # each refresh starts an interval after the one before (bmsctl stamps a reading when it
        # is read). So the last began (n - 1) intervals after the first began, which was after
        # the launch and before the first stamp: bounds, however long a read or the start took.
        stamps = [x["timestamp_ms"] for x in lines]
        lag = stamps[0] - launched_ms
        self.assertGreaterEqual(stamps[-1] - stamps[0], (n - 1) * interval_ms - lag - 2, stamps)
        # and every reading is a fresh one: the pattern (one tick a second) moved with them
        ts = [x["values"][0]["uint32"] for x in lines]
        self.assertEqual(ts, sorted(ts))
        ticks = ((n - 1) * interval_ms - lag) // 1000
        self.assertGreaterEqual(ts[-1] - ts[0], ticks, (ts, stamps, lag))
        r = self.ctl("--csv", "watch", "-i", "0.2", "-n", "2")
        rows = list(csv.reader(io.StringIO(r.stdout)))
        self.assertEqual(rows[0], ["time_ms", "address", "key", "name", "value", "unit"])
        self.assertEqual(len(rows), 1 + 2 * 10)
        self.assertEqual(rows[1][2], "int16")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
