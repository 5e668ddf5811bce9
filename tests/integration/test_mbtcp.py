#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The daemon's Modbus TCP server against clients nobody here wrote (Debian's pymodbus and
mbpoll): every map and function code, values, exceptions at every range edge, word orders,
strings, the stale policy, operator writes, reload, 100 concurrent clients, a stalled client.

The daemon runs without a BMS (its serial device does not exist), so the battery maps are stale:
that is the stale policy under test here; the simulator tests check live values.

usage: test_mbtcp.py BUILD_DIR SOURCE_DIR [TestClass...]
"""
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mbtcp_checks import (DEVICE_FAILURE, ILLEGAL_ADDRESS, ILLEGAL_FUNCTION,  # noqa: E402
                          ILLEGAL_VALUE, TARGET, RangeEdgeChecks, TestPatternChecks)
from bmsgwtest import GIVE_UP, Daemon, config, free_ports, wait_port, wait_until  # noqa: E402
from mbtcp_util import Client, f32, f64, mbpoll, s32  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SELECT = sys.argv[3:]
FRAME_TIMEOUT_MS = 500


def mbtcp_config(folder, mbtcp):
    """Only the Modbus TCP service, with the keys mbtcp; the BMS device does not exist."""
    return config(folder, [("t", os.path.join(folder, "none"))], modbus_tcp=mbtcp)


def daemon(folder, mbtcp):
    return Daemon(BUILD, folder, mbtcp_config(folder, mbtcp))


class DaemonMaps(TestPatternChecks, RangeEdgeChecks, unittest.TestCase):
    """All four maps on one daemon, writes allowed, the battery data stale."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bmsgw-mbtcp-")
        tp, mega, pack, tescom = free_ports(4)
        cls.ports = {"testpattern": tp, "mega": mega, "pack12s": pack, "tescom": tescom}
        cls.units = {"tescom": 7}
        cls.tp_port = tp
        cls.frame_timeout_s = FRAME_TIMEOUT_MS / 1000
        cls.d = daemon(cls.dir, "bind = \"127.0.0.1\"; allow_writes = true; "
                       f"max_connections = 200; frame_timeout_ms = {FRAME_TIMEOUT_MS}; maps = ( "
                       f'{{ map = "testpattern"; port = {tp}; }}, {{ map = "mega"; port = {mega}; }},'
                       f' {{ map = "pack12s"; port = {pack}; }},'
                       f' {{ map = "tescom"; port = {tescom}; unit_id = 7; }} );')
        try:
            for p in cls.ports.values():
                wait_port(p, GIVE_UP, cls.d.proc)
        except AssertionError:
            cls.d.stop()
            raise
        cls.started, cls.ready = cls.d.started, time.monotonic()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        text = cls.d.text()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"daemon exit status {rc}:\n{text}")

    def test_stale_live_values_refused(self):
        c = Client(self.ports["mega"])
        try:
            for fn in (c.fc3, c.fc4):
                self.assertEqual(c.exception(fn, 1000, 10), DEVICE_FAILURE)
                self.assertEqual(c.exception(fn, 1010, 125), DEVICE_FAILURE)
                self.assertEqual(c.exception(fn, 9303, 1), DEVICE_FAILURE)
                self.assertEqual(c.exception(fn, 30003, 6), DEVICE_FAILURE)
            self.assertEqual(c.fc1(0, 8), [0] * 8)  # status stays readable: not online
            self.assertEqual(c.fc2(0, 8), [0] * 8)
        finally:
            c.close()
        c = Client(self.ports["tescom"], 7)
        try:
            self.assertEqual(c.fc3(0, 4), [0, 0, 0, 0])  # nothing polled yet
            self.assertEqual(c.fc4(9001, 121), [0] * 121)  # "no data"
            self.assertEqual(c.exception(c.fc3, 1001, 4), DEVICE_FAILURE)
            self.assertEqual(c.exception(c.fc3, 5001, 4), DEVICE_FAILURE)
        finally:
            c.close()
        c = Client(self.ports["pack12s"])
        try:
            self.assertEqual(c.fc3(1452, 1), [0x100])  # alarm bit 8: data stale
            self.assertEqual(c.exception(c.fc3, 1440, 14), DEVICE_FAILURE)
            self.assertEqual(c.exception(c.fc4, 1453, 1), DEVICE_FAILURE)
        finally:
            c.close()
        rc, v, out = mbpoll(self.ports["mega"], "-t", "4", "-r", "1000", "-c", "2")
        self.assertNotEqual(rc, 0)
        self.assertIn("Slave device or server failure", out)

    def test_unit_id(self):
        c = Client(self.ports["tescom"], 7)
        try:
            self.assertEqual(c.exception(c.fc3, 0, 4, unit=1), TARGET)
            self.assertEqual(c.exception(c.fc3, 0, 4, unit=0), TARGET)
            self.assertEqual(len(c.fc3(0, 4, unit=7)), 4)
        finally:
            c.close()
        c = Client(self.ports["mega"])
        try:
            self.assertEqual(len(c.fc1(0, 8)), 8)
            self.assertEqual(len(c.c.read_coils(0, 8, slave=99).bits), 8)  # unit_id 0: any
        finally:
            c.close()

    def test_operator_writes(self):
        mega, pack = Client(self.ports["mega"]), Client(self.ports["pack12s"])
        try:
            self.assertEqual(mega.fc1(100, 3), [1, 1, 0])
            mega.fc5(100, 0)  # charge enable off: an operator block
            self.assertEqual(mega.fc1(100, 3), [0, 1, 0])
            mega.fc15(100, [1, 0, 1])  # 102: acknowledge (reads 0)
            self.assertEqual(mega.fc1(100, 3), [1, 0, 0])
            mega.fc5(101, 1)
            self.assertEqual(mega.exception(mega.fc6, 1010, 3300), ILLEGAL_ADDRESS)
            self.assertEqual(mega.exception(mega.fc5, 7, 1), ILLEGAL_ADDRESS)  # status coil

            pack.fc6(6452, 1)  # cmd03 force power-off: both directions blocked
            self.assertEqual(pack.fc3(6452, 1), [1])
            self.assertEqual(mega.fc1(100, 2), [0, 0])
            pack.fc6(10077, 1)  # cmd02 releases
            self.assertEqual(mega.fc1(100, 2), [1, 1])
            pack.fc16(1598, [5, 37])  # cmd05 stored, cmd07 = 37
            self.assertEqual(pack.fc3(1598, 2), [5, 37])
            self.assertEqual(pack.exception(pack.fc6, 1599, 36), ILLEGAL_VALUE)
            self.assertEqual(pack.exception(pack.fc6, 1597, 1), ILLEGAL_ADDRESS)
            self.assertEqual(pack.exception(pack.fc6, 1452, 0), ILLEGAL_ADDRESS)
        finally:
            mega.close()
            pack.close()
        self.d.wait_log("charging blocked by pack12s cmd03", GIVE_UP)
        self.d.wait_log("acknowledge all alerts requested by modbus coil 102", GIVE_UP)


class DaemonPolicy(unittest.TestCase):
    """Word order cdab, serving stale data, writes refused, and a reload that allows them."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bmsgw-mbtcp-")
        cls.tp, cls.mega = free_ports(2)
        cls.maps = (f'maps = ( {{ map = "testpattern"; port = {cls.tp}; word_order = "cdab"; }},'
                    f' {{ map = "mega"; port = {cls.mega}; }} );')
        cls.d = daemon(cls.dir, "bind = \"127.0.0.1\"; serve_stale = true; " + cls.maps)
        try:
            wait_port(cls.tp, GIVE_UP, cls.d.proc)
            wait_port(cls.mega, GIVE_UP, cls.d.proc)
        except AssertionError:
            cls.d.stop()
            raise
        cls.ready = time.monotonic()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"daemon exit status {rc}")

    def test_a_word_order_cdab(self):
        c = Client(self.tp)
        try:
            r = c.fc3(101, 104)  # the second (uint16 101 = 1 + t) and int32 201 in one image
            t = r[0] - 1
            self.assertEqual(r[101], 0xFFFF)  # the high word second
            self.assertEqual(s32(r, 100, cdab=True) + 10000, t)
            # the second before and after each read bounds the one it was made in
            before = c.fc3(101, 1)[0] - 1
            f = f32(c.fc3(501, 2), 0, cdab=True)
            d = f64(c.fc3(601, 4), 0, cdab=True)
            after = c.fc3(101, 1)[0] - 1
            self.assertTrue(0.222 * before - 0.01 <= f <= 0.222 * after + 0.01, (before, f, after))
            self.assertTrue(0.333 * before - 1e-9 <= d <= 0.333 * after + 1e-9, (before, d, after))
            self.assertEqual(c.fc3(801, 1), [0x4865])  # strings are not word-swapped
        finally:
            c.close()
        # mbpoll's default 32-bit word order is little-endian (cdab)
        t0 = time.monotonic()
        rc, v, out = mbpoll(self.tp, "-t", "4:int", "-r", "201", "-c", "1")
        t1 = time.monotonic()
        self.assertEqual(rc, 0, out)
        t = int(v[201]) + 10000
        self.assertTrue(t0 - self.ready - 1 < t <= t1 - self.d.started, (t0, t, t1))

    def test_b_serve_stale(self):
        c = Client(self.mega)
        try:
            self.assertEqual(c.fc3(1000, 10), [0] * 10)  # stale, served anyway
            self.assertEqual(c.fc4(7000, 3), [0x8000] * 3)  # no sensor
        finally:
            c.close()

    def test_c_writes_refused_until_reload(self):
        c = Client(self.tp)
        try:
            self.assertEqual(c.exception(c.fc5, 0, 1), ILLEGAL_FUNCTION)
            self.assertEqual(c.exception(c.fc15, 0, [1, 0]), ILLEGAL_FUNCTION)
            self.assertEqual(c.exception(c.fc6, 0, 1), ILLEGAL_FUNCTION)
            self.assertEqual(c.exception(c.fc16, 0, [1]), ILLEGAL_FUNCTION)
            rc, v, out = mbpoll(self.tp, "-t", "0", "-r", "120", write=[1])
            self.assertNotEqual(rc, 0)
            self.assertIn("Illegal function", out)
            self.d.write_config(mbtcp_config(self.dir, "bind = \"127.0.0.1\"; serve_stale = true; "
                                             "allow_writes = true; " + self.maps))
            self.d.proc.send_signal(signal.SIGHUP)
            self.d.wait_log("configuration reloaded", GIVE_UP)
            wait_until("writes allowed", lambda: c.exception(c.fc5, 150, 1) != ILLEGAL_FUNCTION,
                       GIVE_UP)
            self.assertIsNone(c.exception(c.fc5, 150, 1))
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
