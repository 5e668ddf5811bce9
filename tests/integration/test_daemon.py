#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The daemon's lifecycle: -t on good and broken configs, start with the shipped config,
READY/STATUS/WATCHDOG/STOPPING over a notify socket, SIGHUP reload (good and bad), SIGTERM
within 2 s by the daemon's own clock, and (with --valgrind) no leak and no error under valgrind.

usage: test_daemon.py BUILD_DIR SOURCE_DIR [--valgrind]
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bmsgwtest import GIVE_UP, Daemon, config, free_port  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
VALGRIND = "--valgrind" in sys.argv
SELECT = [a for a in sys.argv[3:] if not a.startswith("--")]
BMSGW = os.path.join(BUILD, "src", "bmsgw")
SHIPPED = os.path.join(SOURCE, "conf", "bmsgw.conf")
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "config")
SLOW = 10 if VALGRIND else 1
WAIT = GIVE_UP * SLOW  # a give-up limit, never a measurement


def shipped_text(state):
    """The shipped file with state_dir in folder and free ports instead of the well-known ones
    (other programs on this machine may hold those); everything else as shipped."""
    with open(SHIPPED) as f:
        text = f.read()
    subs = [('#state_dir = "/var/lib/bmsgw";', f'state_dir = "{state}";'),
            ("#port = 8080;", f"port = {free_port()};"),
            ("#port = 8081;", f"port = {free_port()};"),
            ('{ map = "mega"; port = 502; }', f'{{ map = "mega"; port = {free_port()}; }}'),
            ('{ map = "tescom"; port = 1502; }', f'{{ map = "tescom"; port = {free_port()}; }}')]
    for old, new in subs:
        if text.count(old) != 1:
            raise AssertionError(f"the shipped config no longer has exactly one {old!r}")
        text = text.replace(old, new)
    return text


def daemon(folder, config_text, env=None):
    return Daemon(BUILD, folder, config_text, env, valgrind=VALGRIND)


class CheckConfig(unittest.TestCase):
    def test_version(self):
        out = subprocess.run([BMSGW, "--version"], capture_output=True, text=True, check=True)
        self.assertRegex(out.stdout, r"^bmsgw \d+\.\d+\.\d+")

    def test_usage_error(self):
        r = subprocess.run([BMSGW, "--bogus"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage:", r.stderr)

    def test_shipped_config_passes(self):
        r = subprocess.run([BMSGW, "-t", "-c", SHIPPED], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)

    def test_broken_fixtures_fail_with_line_and_key(self):
        expect = {
            "unknown-key.conf": ":3: bms.poll_intervall_ms: unknown key",
            "wrong-type.conf": ":3: bms.poll_interval_ms: must be an integer",
            "out-of-range.conf": ":3: bms.poll_interval_ms: must be 100..5000 ms (got 50)",
            "bad-syntax.conf": ":3: syntax error",
            "duplicate-device.conf": ":5: bms.ports[1].device:",
            "float-above-charge.conf": ":4: limits.cell_float_mv:",
            "pylon-manufacturer.conf": ":3: can.manufacturer:",
            "lg-family.conf": ":3: can.battery_family: \"LG-RESU\" contains LG",
            "cutoff-below-charge.conf": ":3: alarms.cell_high_mv: 3480 mV is below",
            "too-many-cells.conf": ":3: bms.ports[0].cells:",
            "cells-above-driver.conf": ":3: bms.ports[0].cells: a tinybms handles at most 16",
            "unknown-bms-type.conf": ":3: bms.ports[0].type: must be one of tinybms (got \"daly\")",
            "unknown-can-protocol.conf": ":3: can.protocol: must be one of victron",
            "bad-enum.conf": ":3: can.on_stale: must be one of silence, block",
            "unknown-group.conf": ":2: influxdb: unknown key",
            "mqtt-gateway-id.conf": ":3: mqtt.gateway_id: \"Boat 7\" may only contain",
        }
        self.assertEqual(sorted(expect), sorted(os.listdir(FIXTURES)))
        for name, needle in expect.items():
            path = os.path.join(FIXTURES, name)
            r = subprocess.run([BMSGW, "-t", "-c", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1, name)
            self.assertIn(path + needle, r.stderr, name)

    def test_missing_file(self):
        r = subprocess.run([BMSGW, "-t", "-c", "/nonexistent/bmsgw.conf"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/bmsgw.conf: cannot read the file", r.stderr)

    def test_refuses_to_start_on_bad_config(self):
        path = os.path.join(FIXTURES, "out-of-range.conf")
        r = subprocess.run([BMSGW, "-f", "-c", path], capture_output=True, text=True,
                           timeout=GIVE_UP)
        self.assertEqual(r.returncode, 78)
        self.assertIn("refusing to start", r.stderr)


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-daemon-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_start_reload_stop(self):
        # no service may bind a well-known port here: this test runs beside others
        text = config(self.dir, [("t", os.path.join(self.dir, "none"))])
        d = daemon(self.dir, text, {"WATCHDOG_USEC": "400000"})
        try:
            d.notify.wait_for("READY=1", WAIT)
            status = d.notify.wait_for("STATUS=", WAIT)
            self.assertIn("STATUS=", status)
            d.notify.wait_for("WATCHDOG=1", WAIT)
            d.wait_log("started:", WAIT)

            # a good reload
            mark = d.notify.mark()
            d.proc.send_signal(signal.SIGHUP)
            d.notify.wait_for("RELOADING=1", WAIT, mark)
            d.notify.wait_for("READY=1", WAIT, mark)
            d.wait_log("configuration reloaded", WAIT)

            # a bad reload keeps the running configuration
            with open(d.conf, "a") as f:
                f.write("alarms = { imbalance_alarm_mv = 1; };\n")
            d.proc.send_signal(signal.SIGHUP)
            d.wait_log("reload failed, keeping the running configuration", WAIT)
            d.wait_log("alarms.imbalance_alarm_mv: must be 5..1000 mV (got 1)", WAIT)
            self.assertIsNone(d.proc.poll())

            mark = d.notify.mark()
            rc = d.stop(WAIT)
            d.notify.wait_for("STOPPING=1", WAIT, mark)
            self.assertEqual(rc, 0, d.text())
            self.check_stopped_in_time(d)
        finally:
            d.close()

    def test_shipped_config_starts(self):
        """The shipped file as it is: whatever cannot run here degrades; the daemon stays up."""
        state = os.path.join(self.dir, "state")
        os.makedirs(state)
        d = daemon(self.dir, shipped_text(state))
        try:
            d.notify.wait_for("READY=1", WAIT)
            d.wait_log("services:", WAIT)
            rc = d.stop(WAIT)
            self.assertEqual(rc, 0, d.text())
            self.check_stopped_in_time(d)
        finally:
            d.close()

    def check_stopped_in_time(self, d):
        """Every service stopped within the daemon's budget, and SIGTERM to the last line took
        under 2 s by the daemon's own log stamps (this process may see the exit later on a busy
        machine; under valgrind only the budget is checked)."""
        text = d.text()
        self.assertIn("stopped", text)
        self.assertNotIn("did not stop in time", text)
        if not VALGRIND:
            took = d.log_time(r"^stopped$") - d.log_time(r"received, stopping$")
            self.assertLess(took, 2.0, text)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
