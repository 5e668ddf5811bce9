#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsgw-sim's Modbus TCP devices (mega, tescom, pack12s, testpattern) against Debian's pymodbus
and mbpoll: live values, FC3 = FC4 over whole maps, fault injection, commands, options, and the
shared conformance checks (every function code, exceptions at every range edge, 100 clients).

usage: test_sim_mbtcp.py BUILD_DIR SOURCE_DIR [TestClass...]
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mbtcp_checks import (ILLEGAL_ADDRESS, ILLEGAL_FUNCTION, ILLEGAL_VALUE,  # noqa: E402
                          TARGET, REG_RANGES, RangeEdgeChecks, TestPatternChecks, consistent)
from bmsgwtest import GIVE_UP, Device, free_ports, wait_until  # noqa: E402
from mbtcp_util import Client, f32, mbpoll, s16, s32, u32  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SELECT = sys.argv[3:]
SIM = os.path.join(BUILD, "src", "bmsgw-sim")


class SimDevices(TestPatternChecks, RangeEdgeChecks, unittest.TestCase):
    """The four devices with their defaults."""

    @classmethod
    def setUpClass(cls):
        tp, mega, pack, tescom = free_ports(4)
        cls.ports = {"testpattern": tp, "mega": mega, "pack12s": pack, "tescom": tescom}
        cls.units = {}
        cls.tp_port = tp
        cls.frame_timeout_s = 2.0
        cls.sims = []
        try:
            for mode, port in cls.ports.items():
                cls.sims.append(Device(BUILD, mode, port, "--max-connections", "200"))
        except AssertionError:
            cls.tearDownClass()
            raise
        cls.started, cls.ready = cls.sims[0].started, cls.sims[0].ready

    @classmethod
    def tearDownClass(cls):
        for s in cls.sims:
            rc, out = s.stop(), s.text()
            if rc != 0:
                raise AssertionError(f"bmsgw-sim exit status {rc}:\n{out}")
            if "stopped" not in out:
                raise AssertionError(out)

    def test_fc3_equals_fc4_everywhere(self):
        for name in ("mega", "tescom", "pack12s"):
            c = Client(self.ports[name])
            try:
                for first, last in REG_RANGES[name]:
                    for a in range(first, last + 1, 125):
                        n = min(125, last + 1 - a)
                        fc3, fc4 = consistent(lambda: (c.fc3(a, n), c.fc4(a, n)))
                        self.assertEqual(fc3, fc4, (name, a))
            finally:
                c.close()

    def test_mega_values(self):
        c = Client(self.ports["mega"])
        try:
            cells = []
            for a in range(1010, 6002, 125):  # 4992 cells = 40 reads
                cells += c.fc3(a, min(125, 6002 - a))
            self.assertEqual(len(cells), 4992)
            self.assertTrue(all(2800 < v < 3600 for v in cells), (min(cells), max(cells)))
            self.assertGreater(len(set(cells)), 5)  # a realistic spread, not one value
            temps = []
            for a in range(7000, 9304, 125):
                temps += [s16(v) for v in c.fc4(a, min(125, 9304 - a))]
            self.assertEqual(len(temps), 2304)
            self.assertTrue(all(100 < t < 450 for t in temps))
            r = c.fc3(1000, 10)
            self.assertTrue(0 <= u32(r, 0) <= 10000)  # SOC
            self.assertTrue(90 <= u32(r, 2) / 100 <= 100)
            self.assertLess(abs(u32(r, 4) / 100 - 208 * 3.3), 60)  # 208 cells a string
            f = c.fc3(30003, 6)
            self.assertLess(abs(f32(f, 2) - sum(cells) / len(cells) / 1000), 0.01)
            self.assertLess(abs(f32(f, 4) - u32(r, 4) / 100), 2)
            self.assertEqual(c.fc1(0, 1), [1])  # online
            self.assertEqual(c.fc2(0, 8), c.fc1(0, 8))
        finally:
            c.close()
        rc, v, out = mbpoll(self.ports["mega"], "-t", "4", "-r", "1010", "-c", "125")
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(v), 125)

    def test_mega_injection(self):
        c = Client(self.ports["mega"])
        try:
            c.fc6(1026, 3700)  # cell 17
            self.assertEqual(c.fc3(1026, 1), [3700])
            wait_until("the alarm", lambda: c.fc1(4, 1) == [1], GIVE_UP)  # the composer saw it
            c.fc16(7000, [0xFF38, 0x8000])  # sensor 1 at -20.0 degC, sensor 2 unplugged
            self.assertEqual(c.fc4(7000, 2), [0xFF38, 0x8000])
            c.fc16(1000, [0, 2000])  # SOC 20.00 %
            self.assertLess(abs(u32(c.fc3(1000, 2), 0) - 2000), 60)
            self.assertEqual(c.exception(c.fc16, 1000, [0, 10001]), ILLEGAL_VALUE)  # 100.01 %
            self.assertEqual(c.exception(c.fc6, 1000, 1), ILLEGAL_ADDRESS)  # half a u32
            self.assertEqual(c.exception(c.fc6, 1002, 1), ILLEGAL_ADDRESS)  # SOH
            c.fc6(1026, 0)  # back to the physics
            c.fc16(7000, [0x7FFF, 0x7FFF])
            self.assertTrue(2800 < c.fc3(1026, 1)[0] < 3600)
            self.assertTrue(100 < c.fc3(7001, 1)[0] < 450)
            c.fc5(100, 0)  # charge enable off
            self.assertEqual(c.fc1(100, 3), [0, 1, 0])
            c.fc5(100, 1)
            c.fc16(1000, [0, 6000])
        finally:
            c.close()
        rc, v, out = mbpoll(self.ports["mega"], "-r", "1011", write=[3333])
        self.assertEqual(rc, 0, out)
        self.assertEqual(Client(self.ports["mega"]).fc3(1011, 1), [3333])
        mbpoll(self.ports["mega"], "-r", "1011", write=[0])

    def test_tescom_values(self):
        c = Client(self.ports["tescom"])
        try:
            self.assertEqual(c.fc3(0, 4), [7, 0, 5, 0])
            arm1 = c.fc3(1001, 4 + 7 * 7 + 1)
            self.assertLess(abs(s16(arm1[0])), 4001)  # current within +-40 A
            self.assertTrue(500 <= arm1[1] <= 9500)  # humidity 5..95 %
            for j in range(7):
                v = arm1[4 + 7 * j: 11 + 7 * j]
                self.assertTrue(290 < v[0] < 350, v)  # voltage x 100
                self.assertTrue(0 <= v[1] <= 10000)  # SOC
                self.assertTrue(1500 < s16(v[2]) < 4500)  # RIMT
                self.assertTrue(8500 <= v[3] <= 10000)  # SOH
            self.assertEqual(arm1[4 + 49], 0)  # no battery 8
            self.assertEqual(c.fc3(9001, 9), [1] * 8 + [0])
            self.assertEqual(c.fc3(9243, 7), [1] * 6 + [0])
            self.assertEqual(c.fc3(5005, 4), [0, 0, 0, 0])  # no voltage alarm at rest
            self.assertEqual(c.exception(c.fc6, 1001, 0), ILLEGAL_ADDRESS)  # read-only map
        finally:
            c.close()

    def test_pack12s_values_and_commands(self):
        c = Client(self.ports["pack12s"])
        try:
            r = c.fc3(1440, 14)
            self.assertEqual(r[0], 500)  # 50.0 Ah
            self.assertTrue(0 < r[1] <= 500)
            self.assertLess(abs(s16(r[2])), 301)
            self.assertTrue(12 * 360 < r[3] < 12 * 420)  # NMC pack voltage x 100
            self.assertTrue(3600 < r[5] <= r[4] < 4200)
            self.assertTrue(1 <= (r[8] >> 8) <= 12 and 1 <= (r[8] & 0xFF) <= 12)
            self.assertEqual(r[13], 0)  # indices below 256
            self.assertEqual(c.fc3(1596, 1), [0])
            c.fc6(6452, 1)  # cmd03: forced power-off, shown at once
            self.assertTrue(c.fc3(1451, 1)[0] & 0x20)
            self.assertEqual(c.fc3(1442, 1), [0])  # no current
            c.fc6(10077, 1)  # cmd02 releases
            self.assertFalse(c.fc3(1451, 1)[0] & 0x20)
            c.fc6(1596, 1)  # cmd04: balance mode
            self.assertTrue(c.fc3(1451, 1)[0] & 0x08)
            c.fc6(1599, 37)
            self.assertEqual(c.exception(c.fc6, 1599, 36), ILLEGAL_VALUE)
            self.assertEqual(c.fc3(1596, 1) + c.fc3(1598, 2), [1, 0, 37])
            self.assertEqual(c.fc3(6452, 1) + c.fc3(10077, 1), [1, 1])
            self.assertEqual(c.exception(c.fc6, 1440, 1), ILLEGAL_ADDRESS)
        finally:
            c.close()


class SimOptions(unittest.TestCase):
    """Word order, unit id and read-only options."""

    def test_cdab_unit_id_read_only(self):
        port, = free_ports(1)
        sim = Device(BUILD, "mega", port, "--word-order", "cdab", "--unit-id", "3", "--read-only",
                     "--strings", "2", "--cells", "32", "--sensors", "4")
        try:
            c = Client(port, 3)
            r = c.fc3(1004, 2)
            self.assertLess(abs(u32(r, 0, cdab=True) / 100 - 16 * 3.3), 3)  # 16 cells a string
            self.assertEqual(r[1], 0)  # the high word comes second
            f = c.fc3(30007, 2)
            self.assertLess(abs(f32(f, 0, cdab=True) - u32(r, 0, cdab=True) / 100), 0.5)
            self.assertEqual(c.fc3(1042, 1), [0])  # cell 33 is not installed
            self.assertEqual(c.fc3(7004, 1), [0x8000])  # sensor 5 does not exist
            self.assertEqual(c.exception(c.fc3, 1000, 2, unit=1), TARGET)
            self.assertEqual(c.exception(c.fc6, 1010, 3000), ILLEGAL_FUNCTION)
            self.assertLess(abs(s32(c.fc3(1008, 2), 0, cdab=True)), 2 * 100 * 100 + 1)
            c.close()
            rc, v, out = mbpoll(port, "-a", "3", "-t", "4:int", "-r", "1004", "-c", "1")
            self.assertEqual(rc, 0, out)  # mbpoll's default word order is cdab
            self.assertLess(abs(int(v[1004]) / 100 - 16 * 3.3), 3)
        finally:
            rc, out = sim.stop(), sim.text()
        self.assertEqual(rc, 0, out)
        self.assertIn("unit id 3, word order cdab, writes refused", out)

    def test_bad_options(self):
        for args, needle in ((["tescom", "--strings", "3"], "--strings is not an option"),
                             (["tescom", "--arms", "7,0,5"], "--arms takes four"),
                             (["mega", "--port", "70000"], "--port must be 1..65535"),
                             (["pack12s", "--word-order", "dcba"], "--word-order must be"),
                             (["mega", "--cells", "5000"], "--cells must be 1..4992"),
                             (["bogus"], "unknown mode")):
            r = subprocess.run([SIM] + args, capture_output=True, text=True, timeout=GIVE_UP)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(needle, r.stderr, args)

    def test_port_in_use(self):
        port, = free_ports(1)
        sim = Device(BUILD, "testpattern", port)
        try:
            r = subprocess.run([SIM, "tescom", "--bind", "127.0.0.1", "--port", str(port)],
                               capture_output=True, text=True, timeout=GIVE_UP)
            self.assertEqual(r.returncode, 1)
            self.assertIn("Address already in use", r.stderr)
        finally:
            sim.stop()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
