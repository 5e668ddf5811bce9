#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The daemon's maps with live data: bmsgw polls the simulated TinyBMS, and what Debian's pymodbus
reads from the mega, Tescom and 12S-pack maps is the simulator's truth (its control socket), with
alarms, operator blocks and staleness following the battery.

usage: test_mbtcp_live.py BUILD_DIR SOURCE_DIR [TestName...]
"""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mbtcp_checks import DEVICE_FAILURE  # noqa: E402
from bmsgwtest import (GIVE_UP, Daemon, TinyBMS, config, free_ports, wait_port,  # noqa: E402
                       wait_until)
from mbtcp_util import Client, f32, s16, s32, u32  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SELECT = sys.argv[3:]
SLOW = float(os.environ.get("BMSGW_TEST_SLOW", "1"))
WAIT = GIVE_UP * SLOW  # a give-up limit, never a measurement


class Live(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bmsgw-mbtcp-live-")
        device = os.path.join(cls.dir, "ttyBMS")
        cls.sim = TinyBMS(BUILD, cls.dir, device, ("--current", "-12.5", "--soc", "70"))
        cls.mega, cls.tescom, cls.pack = free_ports(3)
        cls.d = Daemon(BUILD, cls.dir, config(
            cls.dir, [("house", device)],
            # a reply timeout and a staleness no pause of the simulator reaches
            bms="poll_interval_ms = 100; stale_after_ms = 5000; timeout_ms = 1000;",
            modbus_tcp='bind = "127.0.0.1"; allow_writes = true; maps = ( '
                       f'{{ map = "mega"; port = {cls.mega}; }}, '
                       f'{{ map = "tescom"; port = {cls.tescom}; }}, '
                       f'{{ map = "pack12s"; port = {cls.pack}; }} );'))
        try:
            for p in (cls.mega, cls.tescom, cls.pack):
                wait_port(p, WAIT, cls.d.proc)
            c = Client(cls.mega)
            wait_until("fresh data in the mega map", lambda: c.fc1(0, 1) == [1], WAIT)
            c.close()
        except AssertionError:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.sim.stop()
        text = cls.d.text()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"daemon exit status {rc}:\n{text}")

    def wait_reg(self, port, addr, want, what):
        c = Client(port)
        try:
            wait_until(what, lambda: c.fc3(addr, 1)[0] == want, WAIT)
        finally:
            c.close()

    def test_a_values_are_the_simulators(self):
        ctl = self.sim.ctl
        ctl.ok("set cell 3 3456")
        ctl.ok("set temp 1 31.5")
        ctl.ok("unplug temp 2")
        self.wait_reg(self.mega, 1012, 3456, "cell 3 in the mega map")
        self.wait_reg(self.mega, 7001, 0x8000, "sensor 2 unplugged in the mega map")
        truth = ctl.get()
        c = Client(self.mega)
        try:
            cells = c.fc3(1010, 17)
            for got, want in zip(cells, truth["cells_mv"]):
                self.assertLessEqual(abs(got - want), 3)
            self.assertEqual(cells[16], 0)  # 16 cells: no cell 17
            main = c.fc4(1000, 10)
            self.assertLess(abs(u32(main, 0) / 100 - truth["soc_pct"]), 0.5)
            self.assertLess(abs(u32(main, 4) / 100 - truth["pack_v"]), 0.1)
            self.assertEqual(s32(main, 6), 315)  # max temperature 31.5 degC
            self.assertEqual(s32(main, 8), -1250)  # -12.50 A
            self.assertEqual(c.fc3(7000, 2), [315, 0x8000])
            f = c.fc3(30003, 6)
            self.assertAlmostEqual(f32(f, 0), 31.5, places=3)  # the one connected sensor
            self.assertLess(abs(f32(f, 4) - truth["pack_v"]), 0.1)
            self.assertEqual(c.fc1(0, 3), [1, 0, 1])  # online, discharging
        finally:
            c.close()
        t = Client(self.tescom)
        try:
            self.assertEqual(t.fc3(0, 4), [16, 0, 0, 0])
            arm = t.fc3(1001, 4 + 7 * 3)
            self.assertEqual(s16(arm[0]), -1250)
            self.assertEqual(arm[4 + 14], 346)  # battery 3: 3.456 V
            self.assertLess(abs(arm[5] - truth["soc_pct"] * 100), 60)
            self.assertEqual(arm[4 + 2], round(truth["mosfet_temp_c"] * 100))  # RIMT
            self.assertEqual(arm[4 + 4:4 + 7], [3150, 0, 3150])  # NTC1, NTC2 unplugged, max
            self.assertEqual(t.fc3(9001, 18), [1] * 17 + [0])
        finally:
            t.close()
        p = Client(self.pack)
        try:
            r = p.fc3(1440, 14)
            self.assertEqual(r[0], 1000)  # 100.0 Ah
            self.assertEqual(s16(r[2]), -125)
            self.assertLess(abs(r[3] / 100 - truth["pack_v"]), 0.1)
            self.assertEqual(r[4], 3456)
            self.assertEqual(r[8] >> 8, 3)  # the highest cell is cell 3
            self.assertEqual(r[11] & 0x07, 0x02)  # discharging
        finally:
            p.close()
        ctl.ok("release cell 3")

    def test_c_alarms_follow_the_battery(self):
        self.sim.ctl.ok("set cell 5 3700")  # above the 3650 mV over-voltage cut-off
        c = Client(self.mega)
        try:
            wait_until("the alarm coil", lambda: c.fc1(4, 1) == [1], WAIT)
        finally:
            c.close()
        self.wait_reg(self.tescom, 1001 + 4 + 28, 370, "battery 5 in the Tescom map")
        t = Client(self.tescom)
        self.assertEqual(t.fc3(5001 + 4 + 28, 4), [0, 0, 1, 1])  # high-voltage warning, alarm
        t.close()
        p = Client(self.pack)
        wait_until("the over-voltage bit", lambda: p.fc3(1452, 1)[0] & 0x01, WAIT)
        p.close()
        self.sim.ctl.ok("release cell 5")

    def test_b_operator_block_reaches_the_limits(self):
        c = Client(self.mega)
        try:
            wait_until("charging allowed", lambda: c.fc1(6, 1) == [1], WAIT)
            c.fc5(100, 0)
            wait_until("CCL 0 after charge enable off", lambda: c.fc1(6, 1) == [0], WAIT)
            c.fc5(100, 1)
        finally:
            c.close()

    def test_d_stale_and_back(self):
        self.sim.ctl.ok("fault noreply on")
        c = Client(self.mega)
        t = Client(self.tescom)
        p = Client(self.pack)
        try:
            wait_until("stale", lambda: c.exception(c.fc3, 1000, 2) == DEVICE_FAILURE, WAIT)
            self.assertEqual(t.fc3(9001, 1), [0])
            self.assertTrue(p.fc3(1452, 1)[0] & 0x100)
            self.assertEqual(c.fc1(0, 1), [0])
            self.sim.ctl.ok("fault noreply off")
            wait_until("fresh again", lambda: c.exception(c.fc3, 1000, 2) is None, WAIT)
            self.assertEqual(t.fc3(9001, 1), [1])
        finally:
            c.close()
            t.close()
            p.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
