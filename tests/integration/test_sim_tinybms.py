#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsgw-sim tinybms seen from the wire by an independent RTU master (Python, own CRC and
framing): registers as the spec says (CDAB, top-N cells, -32768), the protocol limits and the
non-standard error reply, settings writes, every wire fault of the control socket, sleep
emulation, wire-time pacing, scenario files, argument errors and a clean exit.

usage: test_sim_tinybms.py BUILD_DIR SOURCE_DIR [TestName ...]
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bmsgwtest import GIVE_UP, TinyBMS, wait_until  # noqa: E402
from tinybms_wire import (Line, cdab_float, cdab_u32, crc16, find_frame,  # noqa: E402
                          read_request, registers, write_request)

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SELECT = sys.argv[3:]
SIM = os.path.join(BUILD, "src", "bmsgw-sim")
LIVE_REPLY = 5 + 2 * 56


class SimTest(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-sim-")
        self.tty = os.path.join(self.dir, "ttyBMS")
        self.sim = TinyBMS(BUILD, self.dir, self.tty, self.extra)
        self.line = Line(self.tty)

    def tearDown(self):
        try:
            self.line.close()
        except OSError:
            pass
        rc = self.sim.stop()
        self.assertEqual(rc, 0, self.sim.text())
        self.assertFalse(os.path.lexists(self.tty), "the PTY link is removed on exit")
        self.assertFalse(os.path.exists(self.sim.control_path))
        shutil.rmtree(self.dir, ignore_errors=True)

    def live(self):
        reply = self.line.transact(read_request(0, 56), LIVE_REPLY)
        self.assertEqual(len(reply), LIVE_REPLY, reply.hex())
        self.assertEqual(crc16(reply[:-2]), reply[-2:])
        return registers(reply)

    def ask_live(self):
        """The live block, or None when the BMS swallowed the request to wake up: as the simulator
        counts it, not after a time without an answer."""
        swallowed = self.sim.ctl.get()["io"]["swallowed"]
        self.line.flush()
        self.line.send(read_request(0, 56))
        data = b""
        deadline = time.monotonic() + GIVE_UP
        while len(data) < LIVE_REPLY and time.monotonic() < deadline:
            data += self.line.receive(LIVE_REPLY - len(data), 0.05)
            if not data and self.sim.ctl.get()["io"]["swallowed"] > swallowed:
                self.assertEqual(self.line.receive(1, 0.3), b"", "a swallowed request answered")
                return None
        self.assertEqual(len(data), LIVE_REPLY, data.hex())
        self.assertEqual(crc16(data[:-2]), data[-2:])
        return registers(data)

    def live_waking(self):
        """The live block from a BMS that may be asleep (a request wakes it, the next answers)."""
        deadline = time.monotonic() + GIVE_UP
        while time.monotonic() < deadline:
            regs = self.ask_live()
            if regs is not None:
                return regs
        raise AssertionError("the BMS never answered")


class Registers(SimTest):
    extra = ("--cells", "14", "--current", "-30", "--soc", "75")

    def test_live_block_as_the_spec_says(self):
        self.sim.ctl.ok("unplug temp 2")
        truth = wait_until("a sample with the sensor unplugged",
                           lambda: (lambda g: g if g["temps_c"][1] is None else None)(
                               self.sim.ctl.get()), GIVE_UP)
        regs = self.live()
        truth = self.sim.ctl.get()
        self.assertEqual(regs[53], 14)
        self.assertEqual(regs[0:2], [0, 0], "a 14S pack reads 0 in registers 0-1")
        cells = [round(r / 10) for r in regs[2:16]]
        self.assertEqual(len(truth["cells_mv"]), 14)
        for got, want in zip(cells, truth["cells_mv"]):
            self.assertLessEqual(abs(got - want), 3)
        self.assertAlmostEqual(cdab_float(regs, 36), truth["pack_v"], delta=0.05)
        self.assertAlmostEqual(cdab_float(regs, 38), -30.0, places=3)  # negative = discharging
        self.assertAlmostEqual(cdab_u32(regs, 46) / 1e6, truth["soc_pct"], delta=0.05)
        self.assertEqual(regs[43], 0x8000)  # -32768: not connected
        self.assertEqual(regs[50], 0x93)
        self.assertEqual(regs[45], 50000)

    def test_protocol_limits_and_error_reply(self):
        reply = self.line.transact(read_request(0, 127), 5 + 254)
        self.assertEqual(len(reply), 5 + 254)
        bad = self.line.transact(read_request(0, 128), 6)
        self.assertEqual(bad[:4], bytes([0xAA, 0x00, 0x03, 0x00]))
        self.assertEqual(crc16(bad[:4]), bad[4:6])
        corrupt = bytearray(read_request(0, 56))
        corrupt[-1] ^= 0xFF
        bad = self.line.transact(bytes(corrupt), 6)
        self.assertEqual(bad[:4], bytes([0xAA, 0x00, 0x03, 0x01]), "err 1 = CRC error")
        bad = self.line.transact(write_request(100, [1]), 6)
        self.assertEqual(bad[:4], bytes([0xAA, 0x00, 0x10, 0x00]), "writes only in 300-399")
        # garbage before a request is skipped
        reply = self.line.transact(b"\x01\x02hello" + read_request(53, 1), 7)
        self.assertEqual(registers(reply), [14])

    def test_settings_write_and_read_back(self):
        ack = self.line.transact(write_request(315, [3600, 2600]), 8)
        self.assertEqual(ack, bytes([0xAA, 0x10, 0x01, 0x3B, 0x00, 0x02]) + ack[6:])
        self.assertEqual(crc16(ack[:6]), ack[6:])
        back = registers(self.line.transact(read_request(315, 2), 9))
        self.assertEqual(back, [3600, 2600])
        self.assertEqual(self.sim.ctl.get()["settings"]["over_voltage_cutoff_mv"], 3600)
        self.line.transact(write_request(315, [9999]), 8)  # out of range: not taken
        self.assertEqual(registers(self.line.transact(read_request(315, 1), 7)), [3600])

    def test_set_reg_from_the_control_socket(self):
        self.sim.ctl.ok("set reg 315 4200")  # as the BMS's own front end would set it
        self.assertEqual(registers(self.line.transact(read_request(315, 1), 7)), [4200])
        self.sim.ctl.ok("set reg 320 -10")  # signed: the low-temperature charge cutoff
        self.assertEqual(self.sim.ctl.get()["settings"]["low_temp_charger_cutoff_c"], -10)
        for line, says in (("set reg 315 9000", "must be 1200..4500 mV (got 9000)"),
                           ("set reg 299 1", "register must be 300..343"),
                           ("set reg 315 3.5", "value must be an integer")):
            answer = self.sim.ctl.cmd(line)
            self.assertTrue(answer.startswith("error"), (line, answer))
            self.assertIn(says, answer, line)
        self.assertEqual(registers(self.line.transact(read_request(315, 1), 7)), [4200])


class WireFaults(SimTest):
    def test_noreply(self):
        self.sim.ctl.ok("fault noreply on")
        self.assertEqual(self.line.transact(read_request(0, 56), LIVE_REPLY, 0.3), b"")
        self.sim.ctl.ok("fault noreply off")
        self.live()

    def test_crc(self):
        self.sim.ctl.ok("fault crc 1")
        reply = self.line.transact(read_request(0, 56), LIVE_REPLY)
        self.assertEqual(len(reply), LIVE_REPLY)
        self.assertNotEqual(crc16(reply[:-2]), reply[-2:])
        self.sim.ctl.ok("fault crc 0")
        self.live()

    def test_garbage(self):
        self.sim.ctl.ok("fault garbage on")
        self.line.flush()
        self.line.send(read_request(0, 56))
        data = self.line.receive_until(
            lambda d: b"TinyBMS V=" in d and find_frame(d, [0xAA, 0x03, 112], LIVE_REPLY))
        self.assertIn(b"TinyBMS V=", data)
        self.assertIsNotNone(find_frame(data, [0xAA, 0x03, 112], LIVE_REPLY), data.hex())
        self.sim.ctl.ok("fault garbage off")

    def test_delay(self):
        self.sim.ctl.ok("fault delay 150")
        t0 = time.monotonic()
        reply = self.line.transact(read_request(0, 56), LIVE_REPLY)
        took = time.monotonic() - t0
        self.assertEqual(len(reply), LIVE_REPLY)
        self.assertGreaterEqual(took, 0.15)

    def test_vanish_and_return(self):
        self.sim.ctl.ok("fault vanish 1")
        wait_until("the device to vanish", lambda: not os.path.lexists(self.tty), GIVE_UP)
        self.assertEqual(self.line.receive(1, 0.2), b"", "the old line is hung up")
        self.line.close()
        wait_until("the device to return", lambda: os.path.exists(self.tty), GIVE_UP)
        self.line = Line(self.tty)
        self.live()

    def test_sleep_command(self):
        self.sim.ctl.ok("sleep")
        self.assertIsNone(self.ask_live(), "the first command after sleep only wakes the BMS")
        self.live()
        self.assertEqual(self.sim.ctl.get()["io"]["swallowed"], 1)

    def test_ignore_writes(self):
        self.sim.ctl.ok("fault ignore-writes on")
        ack = self.line.transact(write_request(300, [3500]), 8)
        self.assertEqual(len(ack), 8)
        self.assertEqual(registers(self.line.transact(read_request(300, 1), 7)), [3650])


class SleepEmulation(SimTest):
    extra = ("--sleep=0.5",)

    def test_idle_bms_sleeps(self):
        # idle for 0.5 s it sleeps: that may happen before any request of this test, or between
        # two of them on a busy machine; the simulator says when it swallowed one
        self.live_waking()
        wait_until("the BMS to fall asleep", lambda: self.sim.ctl.get()["asleep"], GIVE_UP)
        self.assertIsNone(self.ask_live(), "asleep: the first command only wakes the BMS")
        self.live_waking()


class Broadcast(SimTest):
    extra = ("--broadcast",)

    def test_ascii_broadcast_and_turning_it_off(self):
        data = self.line.receive(40, GIVE_UP)
        self.assertIn(b"V=", data)
        ack = self.line.transact(write_request(342, [0]), 8)
        self.assertEqual(len(ack), 8)
        self.line.flush()
        self.assertEqual(self.line.receive(1, 1.5), b"")


class WireTime(SimTest):
    extra = ("--wire-time",)

    def test_round_trip_takes_the_wire_time(self):
        t0 = time.monotonic()
        self.live()
        self.assertGreaterEqual(time.monotonic() - t0, 0.0108)  # 125 bytes at 115200 8N1


class Scenario(unittest.TestCase):
    def test_timeline(self):
        folder = tempfile.mkdtemp(prefix="bmsgw-sim-")
        try:
            path = os.path.join(folder, "scenario")
            with open(path, "w") as f:
                f.write("# charge, then a fault\n0.2 set current 15\n0.4 set status fault\n")
            sim = TinyBMS(BUILD, folder, os.path.join(folder, "tty"), ["--scenario", path])
            wait_until("the scenario's fault", lambda: sim.ctl.get()["status"] == "fault", GIVE_UP)
            self.assertAlmostEqual(sim.ctl.get()["current_a"], 15.0)
            self.assertEqual(sim.stop(), 0)
            with open(path, "w") as f:
                f.write("1 set current 1\n0.5 set soc 50\n")
            r = subprocess.run([SIM, "tinybms", "--device", os.path.join(folder, "t2"),
                                "--scenario", path], capture_output=True, text=True,
                               timeout=GIVE_UP)
            self.assertEqual(r.returncode, 1)
            self.assertIn(path + ":2: time 0.500 goes back", r.stderr)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class Arguments(unittest.TestCase):
    def run_sim(self, *args):
        return subprocess.run([SIM] + list(args), capture_output=True, text=True, timeout=GIVE_UP)

    def test_errors(self):
        r = self.run_sim()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: bmsgw-sim MODE", r.stderr)
        self.assertIn("tinybms", r.stderr)
        r = self.run_sim("nosuchmode")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown mode 'nosuchmode'", r.stderr)
        r = self.run_sim("tinybms")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--device PATH is required", r.stderr)
        r = self.run_sim("tinybms", "--device", "/tmp/x", "--cells", "17")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--cells must be 4..16 (got '17')", r.stderr)
        r = self.run_sim("tinybms", "--device", "/tmp/x", "--chemistry", "lto")
        self.assertIn("--chemistry must be lfp or nmc (got 'lto')", r.stderr)
        r = self.run_sim("tinybms", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--control SOCKET", r.stdout)

    def test_sigterm_exits_cleanly(self):
        folder = tempfile.mkdtemp(prefix="bmsgw-sim-")
        try:
            sim = TinyBMS(BUILD, folder, os.path.join(folder, "tty"))
            sim.proc.send_signal(signal.SIGTERM)
            self.assertEqual(sim.proc.wait(GIVE_UP), 0)
            self.assertFalse(os.path.lexists(os.path.join(folder, "tty")))
            sim.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
