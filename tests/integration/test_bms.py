#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The TinyBMS poller against the simulator over socat PTY pairs: values arrive with the right
scales, every injected fault is survived and counted, a stale link is flagged within
stale_after_ms (and a request or two), unplug/replug recovers within 2 s of the device coming back,
settings writes are read back, commands and BMS events, energy, two strings aggregated, the
0-15/32-55 fallback, and the daemon itself (readiness, state changes, energy file kept across
restarts).

Timing is judged by the poller's own stamps and counts (sample times, link state times, requests
sent), never by how long this process waited: a wait's bound is a give-up limit (GIVE_UP), and
the reply timeout is one no pause of the simulator on a busy machine reaches, except where a test
makes replies late on purpose.

The service runs in bms-harness (the real service with the real snapshot, bus and command
queues; it prints what was published) or in the bmsgw daemon.

With --valgrind the daemon runs under valgrind (leaks and memory errors fail the test).

usage: test_bms.py BUILD_DIR SOURCE_DIR [--valgrind] [TestName ...]
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bmsgwtest  # noqa: E402
from bmsgwtest import GIVE_UP, Harness, PtyPair, TinyBMS, wait_until  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
VALGRIND = "--valgrind" in sys.argv
SELECT = [a for a in sys.argv[3:] if not a.startswith("--")]
# sanitizer builds and a shared machine are slower: bounds, not expectations
SLOW = float(os.environ.get("BMSGW_TEST_SLOW", "1")) * (10 if VALGRIND else 1)
WAIT = GIVE_UP * SLOW
TIMEOUT_MS = 1000  # the reply timeout: far above any pause of the simulator



def config(folder, ports, stale=1500, level="info", fails=3, port_extra="", timeout=TIMEOUT_MS):
    """Only the bms service, on ports [(name, device)]."""
    return bmsgwtest.config(
        folder, ports, port_keys=port_extra, log_level=level,
        bms=f"poll_interval_ms = 100; stale_after_ms = {stale}; timeout_ms = {timeout}; "
            f"fail_threshold = {fails}; slow_interval_ms = 1000; settings_interval_ms = 5000; "
            "reconnect_min_ms = 100; reconnect_max_ms = 1000;")


class Rig(unittest.TestCase):
    """One simulator on one end of a socat pair, the service on the other."""
    sim_args = ("--current", "-20", "--soc", "70")
    stale = 1500
    fails = 3
    timeout = TIMEOUT_MS
    port_extra = ""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bmsgw-bms-")
        self.pair = PtyPair(self.dir)
        self.sim = TinyBMS(BUILD, self.dir, self.pair.a, self.sim_args)
        self.h = Harness(BUILD, self.dir, config(self.dir, [("house", self.pair.b)],
                                                   self.stale, fails=self.fails,
                                                   port_extra=self.port_extra,
                                                   timeout=self.timeout))

    def tearDown(self):
        rc = self.h.stop()
        self.sim.stop()
        self.pair.stop()
        if rc != 0:
            print(self.h.text())
        self.assertEqual(rc, 0)
        shutil.rmtree(self.dir, ignore_errors=True)

    def up(self):
        return self.h.wait_string("the link up and the string online",
                                  lambda s: s["link"]["state"] == "up" and s["online"], WAIT)

    def link(self):
        return self.h.string()["link"]

    def fresh(self):
        """Wait for a sample taken after now (the poller's stamp; the same monotonic clock)."""
        now_ms = time.monotonic() * 1000
        return self.h.wait_string("a newer sample",
                                  lambda s: s["online"] and s["sample_ms"] > now_ms, WAIT)


class Values(Rig):
    def test_values_arrive_with_right_scales(self):
        self.up()
        ctl = self.sim.ctl
        ctl.ok("set current -12.5")
        ctl.ok("set cell 3 3456")
        ctl.ok("unplug temp 2")
        ctl.ok("set temp 1 31.5")
        s = self.h.wait_string("the changes in the snapshot",
                               lambda s: len(s["cells_mv"]) == 16 and s["cells_mv"][2] == 3456 and
                               s["sensors_dc"][1] == -32768 and s["sensors_dc"][0] == 315 and
                               abs(s["current_a"] + 12.5) < 1e-6, WAIT)
        truth = ctl.get()
        for got, want in zip(s["cells_mv"], truth["cells_mv"]):
            self.assertLessEqual(abs(got - want), 2)
        self.assertAlmostEqual(s["pack_v"], truth["pack_v"], delta=0.05)
        self.assertAlmostEqual(s["soc_pct"], truth["soc_pct"], delta=0.02)
        self.assertAlmostEqual(s["soh_pct"], 100.0)
        self.assertEqual(s["status"], 0x93)  # discharging: negative current
        self.assertTrue(s["current_a"] < 0)
        self.assertEqual(s["max_cell_no"], 3)
        self.assertEqual(s["max_cell_mv"], 3456)
        self.assertEqual(s["cell_first"], 0)
        self.assertEqual(s["sensor_first"], 0)
        s = self.h.wait_string("settings, statistics and identity",
                               lambda s: s["settings_valid"] and s["stats_valid"] and
                               s["ident_valid"], WAIT)
        self.assertAlmostEqual(s["capacity_ah"], 100.0)
        self.assertEqual(s["settings_reg"][15], 3650)  # register 315
        self.assertEqual(s["ident_reg"][0] & 0xFF, 2)
        # the balancing flags follow register 51/52
        ctl.ok("set cell 3 3460")
        snap = self.h.ask("snapshot")
        self.assertEqual(snap["cell_count"], 16)
        self.assertEqual(snap["agg"]["strings_online"], 1)
        self.assertEqual(snap["agg"]["max_cell"], {"string": 0, "no": 3})
        uart = self.h.ask("uart")
        self.assertGreater(uart["tx_frames"], 5)
        self.assertGreater(uart["rx_frames"], 5)
        self.assertEqual(uart["tx_bytes"] % 8, 0)  # every request here is an 8-byte FC3

    def test_cell_count_change_takes_the_string_offline(self):
        self.up()
        r = self.h.ask("call 0 write 307 14")  # number of series cells
        self.assertEqual(r["result"], 0, r)
        self.assertEqual(r["out0"], 14)
        # the string's count is the first one seen (16): 14 cells never enter the limits
        s = self.h.wait_string("the string offline", lambda s: not s["online"], WAIT)
        self.assertIn("the BMS reports 14 series cells, the string has 16 (the first count seen",
                      s["link"]["last_error"])
        self.assertEqual(s["link"]["state"], "up", "the link itself is fine")
        s = self.h.wait_string("the settings read back", lambda s: s["settings_reg"][7] == 14,
                               WAIT)
        self.assertEqual(len(s["cells_mv"]), 16, "the 14-cell sample was never published")
        r = self.h.ask("call 0 write 307 16")
        self.assertEqual(r["result"], 0, r)
        self.up()


class ConfiguredCells(Rig):
    """bms.ports[].cells = 15 on a 16-cell simulator: never online, and the reason says why."""
    port_extra = "cells = 15;"

    def test_wrong_count_never_online(self):
        s = self.h.wait_string("a rejected sample",
                               lambda s: s["link"]["rejected_samples"] > 2, WAIT)
        self.assertFalse(s["online"])
        self.assertEqual(s["cells_mv"], [])
        self.assertIn("the BMS reports 16 series cells, the string has 15 (bms.ports[0].cells)",
                      s["link"]["last_error"])


class Rs485(Rig):
    port_extra = 'rs485 = true; rts = "up"; rts_delay_us = 50;'

    def test_rs485_settings_on_a_pty(self):
        s = self.up()
        self.assertEqual(len(s["cells_mv"]), 16)
        self.assertIn("RS485 mode not applicable to " + self.pair.b + " (not an RS485 port)",
                      self.h.text())


class Faults(Rig):
    def test_crc_errors(self):
        self.up()
        self.sim.ctl.ok("fault crc 0.3")
        wait_until("CRC errors counted", lambda: self.link()["crc_errors"] >= 3, WAIT)
        self.fresh()  # samples keep coming
        self.sim.ctl.ok("fault crc 0")
        self.up()

    def test_garbage_and_broadcast(self):
        self.up()
        self.sim.ctl.ok("fault garbage on")
        wait_until("garbage skipped", lambda: self.link()["garbage_bytes"] > 100, WAIT)
        self.fresh()
        s = self.h.string()
        self.assertEqual(s["link"]["timeouts"], 0)
        self.assertEqual(s["link"]["crc_errors"], 0)
        self.sim.ctl.ok("fault garbage off")

    def test_short_delay_is_no_failure(self):
        self.up()
        self.sim.ctl.ok(f"fault delay {TIMEOUT_MS // 4}")  # well within the timeout
        before = self.link()["timeouts"]
        self.fresh()
        self.fresh()
        self.assertEqual(self.link()["timeouts"], before)
        self.assertEqual(self.link()["state"], "up")

    def test_late_replies_time_out(self):
        self.up()
        self.sim.ctl.ok(f"fault delay {TIMEOUT_MS * 5 // 2}")  # past the timeout and the resend
        wait_until("timeouts counted", lambda: self.link()["timeouts"] >= 4, WAIT)
        # a late reply can only answer an identical request (every block has its own length):
        # what is published stays the right registers
        truth = self.sim.ctl.get()
        s = self.h.string()
        for got, want in zip(s["cells_mv"], truth["cells_mv"]):
            self.assertLessEqual(abs(got - want), 3)
        self.sim.ctl.ok("fault delay 0")
        self.up()
        t = self.link()["timeouts"]
        self.fresh()
        self.fresh()
        self.assertEqual(self.link()["timeouts"], t)

    def test_noreply_down_offline_and_back(self):
        self.up()
        self.h.events()
        self.sim.ctl.ok("fault noreply on")
        s = self.h.wait_string("the link down and the string offline",
                               lambda s: s["link"]["state"] == "down" and not s["online"],
                               WAIT)
        self.assertIn("failed cycles in a row", s["link"]["last_error"])
        types = [e["type"] for e in self.h.events()]
        self.assertIn("link_down", types)
        self.assertIn("string_offline", types)
        r = self.h.ask("call 0 write 300 3600")
        self.assertEqual(r["error"], os.strerror(107), r)  # ENOTCONN while down
        self.sim.ctl.ok("fault noreply off")
        self.up()
        types = [e["type"] for e in self.h.events()]
        self.assertIn("link_up", types)
        self.assertIn("string_online", types)
        ev = [e for e in self.h.ask("events")]
        self.assertEqual(ev, [])

    def test_sleeping_bms_is_woken(self):
        self.up()
        self.fresh()
        before = self.link()
        self.sim.ctl.ok("sleep")
        wait_until("the wake-up command", lambda: self.sim.ctl.get()["io"]["swallowed"] == 1,
                   WAIT)
        s = self.fresh()
        self.assertEqual(s["link"]["state"], "up", "one resend, no failed cycle")
        self.assertEqual(s["link"]["timeouts"], before["timeouts"] + 1)

    def test_bms_fault_status_and_events(self):
        self.up()
        self.h.wait_string("the event log baseline", lambda s: s["event_count"] >= 1, WAIT)
        self.h.events()
        seq = self.h.string()["event_seq"]
        self.sim.ctl.ok("set status fault")
        self.sim.ctl.ok("event 0x03")
        s = self.h.wait_string("the new event", lambda s: s["event_seq"] == seq + 1, WAIT)
        self.assertEqual(s["status"], 0x9B)
        self.assertEqual(s["events"][0]["id"], 3)
        ev = [e for e in self.h.events() if e["type"] == "bms_event"]
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual(ev[0]["id"], 3)
        self.assertEqual(ev[0]["name"], "Over-voltage cutoff")
        self.assertEqual(ev[0]["severity"], "fault")
        self.assertEqual(ev[0]["string"], 0)
        r = self.h.ask("call 0 clear-events")
        self.assertEqual(r["result"], 0, r)
        self.h.wait_string("an empty event log", lambda s: s["event_count"] == 0, WAIT)


class Stale(Rig):
    stale = 800
    fails = 100  # the link stays up (degraded): only staleness takes the string offline
    timeout = 100  # a spurious timeout only degrades the link here

    def test_stale_link_flagged_within_stale_after(self):
        self.up()
        self.fresh()
        self.h.events()
        self.sim.ctl.ok("fault noreply on")
        s = self.h.wait_string("the string offline", lambda s: not s["online"], WAIT)
        self.assertEqual(s["link"]["state"], "degraded")
        # the last one (a pause of the simulator may have made an earlier one)
        offline = [e for e in self.h.events() if e["type"] == "string_offline"][-1:]
        self.assertEqual(len(offline), 1, offline)
        self.assertEqual(self.h.ask("uart")["dropped"], 0)
        # by the poller's own clock: offline once the newest sample is older than stale_after_ms,
        # not before
        age = int(re.fullmatch(r"no accepted sample for (\d+) ms", offline[0]["detail"]).group(1))
        self.assertGreater(age, self.stale)
        # and noticed between two requests: a request that gets no reply takes at least the
        # timeout, so within stale_after_ms of the last reply at most stale/timeout + 1 requests
        # started, and at most the two of one more cycle after it (counted, not timed: a busy
        # machine only means fewer requests)
        most = self.stale // self.timeout + 1 + 2
        self.assertLessEqual(offline[0]["tx_since_rx"], most, offline[0])
        self.sim.ctl.ok("fault noreply off")
        self.up()

    def test_implausible_sample_is_never_published(self):
        self.up()
        self.fresh()
        self.h.events()
        self.sim.ctl.ok("set cell 5 6000")
        s = self.h.wait_string("the string offline", lambda s: not s["online"], WAIT)
        self.assertEqual(s["link"]["state"], "up", "the link itself is fine")
        self.assertGreater(s["link"]["rejected_samples"], 0)
        self.assertIn("cell 5 at 6000 mV is implausible", s["link"]["last_error"])
        self.assertNotEqual(s["cells_mv"][4], 6000, "the implausible value was never published")
        offline = [e for e in self.h.events() if e["type"] == "string_offline"]
        self.assertEqual(len(offline), 1)
        self.assertIn("sample rejected: cell 5 at 6000 mV", offline[0]["detail"])
        self.sim.ctl.ok("release cell 5")
        self.up()


class Settings(Rig):
    def test_write_is_read_back(self):
        self.up()
        r = self.h.ask("call 0 write 315 3600")
        self.assertEqual(r["result"], 0, r)
        self.assertEqual(r["out0"], 3600)
        self.assertEqual(self.sim.ctl.get()["settings"]["over_voltage_cutoff_mv"], 3600)
        self.assertEqual(self.h.string()["settings_reg"][15], 3600)

    def test_refused_writes(self):
        self.up()
        r = self.h.ask("call 0 write 315 5000")
        self.assertEqual(r["result"], -34, r)  # ERANGE
        self.assertEqual(r["msg"], "over_voltage_cutoff_mv must be 1200..4500 mV (got 5000)")
        r = self.h.ask("call 0 write 302 1")
        self.assertEqual(r["result"], -22, r)  # EINVAL
        self.assertIn("reserved", r["msg"])
        r = self.h.ask("call 0 write 330 7937")  # 0x1F01: timeout 31 s > 30
        self.assertEqual(r["result"], -34, r)
        r = self.h.ask("call 0 bogus")
        self.assertEqual(r["result"], -22, r)
        self.assertEqual(self.sim.ctl.get()["io"]["writes"], 0, "nothing reached the BMS")

    def test_read_back_mismatch(self):
        self.up()
        self.sim.ctl.ok("fault ignore-writes on")
        r = self.h.ask("call 0 write 300 3500")
        self.assertEqual(r["result"], -74, r)  # EBADMSG
        self.assertEqual(r["out0"], 3650)
        self.assertIn("did not take it", r["msg"])

    def test_rejected_write(self):
        self.up()
        self.sim.ctl.ok("fault noreply on")
        r = self.h.ask("call 0 write 300 3500")
        self.assertEqual(r["result"], -5, r)  # EIO
        self.assertIn("no reply", r["msg"])
        self.sim.ctl.ok("fault noreply off")


class Energy(Rig):
    sim_args = ("--current", "0", "--soc", "70")

    def test_energy_follows_the_simulator(self):
        """Energy over a discharge between two rests: both counters stand still at the ends, so
        they are read without racing the current."""
        s = self.up()
        ctl = self.sim.ctl
        e0, t0 = s["discharged_wh"], ctl.get()["discharged_wh"]
        self.h.ask("gaps")  # sample gaps from here on
        ctl.ok("set current -40")
        wait_until("some energy", lambda: self.h.string()["discharged_wh"] - e0 > 1.5, WAIT)
        ctl.ok("set current 0")
        now_ms = time.monotonic() * 1000
        s = self.h.wait_string("a sample at rest", lambda s: s["sample_ms"] > now_ms and
                               s["current_a"] == 0, WAIT)
        got = s["discharged_wh"] - e0
        want = ctl.get()["discharged_wh"] - t0
        # the trapezoid rule is exact at a steady power but smears each of the two steps over
        # the samples around it, and a gap longer than the poller integrates is left out: the
        # slack is the energy of the poller's own sample gaps (not of a time this process waited)
        gaps = self.h.ask("gaps")[0]
        power_w = 40 * s["pack_v"]
        slack = power_w * (gaps["max_ms"] + gaps["unintegrated_ms"]) / 3.6e6
        self.assertAlmostEqual(got, want, delta=slack + 0.05 * want + 0.02, msg=gaps)
        self.assertEqual(s["charged_wh"], 0)
        self.assertAlmostEqual(self.h.ask("snapshot")["agg"]["discharged_wh"],
                               self.h.string()["discharged_wh"], places=6)


class SplitRead(Rig):
    sim_args = ("--max-read", "24")

    def test_fallback_to_two_reads(self):
        s = self.up()
        self.assertEqual(len(s["cells_mv"]), 16)
        self.assertGreaterEqual(s["link"]["exceptions"], 1)
        self.assertIn("reading 0-15 and 32-55", self.h.text())


class Unplug(unittest.TestCase):
    def test_unplug_replug_recovers_within_2s(self):
        folder = tempfile.mkdtemp(prefix="bmsgw-bms-")
        tty = os.path.join(folder, "ttyUSB")
        sim = TinyBMS(BUILD, folder, tty, ["--current", "-5"])
        h = Harness(BUILD, folder, config(folder, [("house", tty)]))
        try:
            h.wait_string("the link up", lambda s: s["link"]["state"] == "up" and s["online"],
                          WAIT)
            sim.ctl.ok("fault vanish 3")
            wait_until("the device to vanish", lambda: not os.path.lexists(tty), WAIT)
            s = h.wait_string("the link down", lambda s: s["link"]["state"] == "down", WAIT)
            self.assertIn("went away", s["link"]["last_error"])
            wait_until("the device to come back", lambda: os.path.exists(tty), WAIT)
            back = os.lstat(tty).st_ctime  # when the simulator made the link, by the kernel
            s = h.wait_string("the link up again", lambda s: s["link"]["state"] == "up" and
                              s["online"], WAIT)
            # the poller's own stamp of the link going up (monotonic, read in real time here),
            # not when this process got to look
            up = s["link"]["since_ms"] / 1000 + time.time() - time.monotonic()
            took = up - back
            self.assertLess(took, 2.0 * SLOW, f"recovered {took:.3f} s after the device came back")
            self.assertGreaterEqual(s["link"]["reconnects"], 1)
        finally:
            self.assertEqual(h.stop(), 0, h.text())
            sim.stop()
            shutil.rmtree(folder, ignore_errors=True)


class TwoStrings(unittest.TestCase):
    def test_aggregate(self):
        folder = tempfile.mkdtemp(prefix="bmsgw-bms-")
        pairs, sims = [], []
        try:
            for n, (cap, soc, cur) in enumerate([(100, 50, -10), (200, 80, 4)]):
                pair = PtyPair(folder, f"p{n}")
                pairs.append(pair)
                sims.append(TinyBMS(BUILD, folder, pair.a, ["--capacity", str(cap), "--soc",
                                                            str(soc), "--current", str(cur)],
                                      name=f"sim{n}"))
            h = Harness(BUILD, folder, config(folder, [("a", pairs[0].b), ("b", pairs[1].b)]))
            try:
                snap = wait_until("both strings online with capacities", lambda: (
                    lambda x: x if x["agg"]["strings_online"] == 2 and
                    x["agg"]["capacity_ah"] > 299 else None)(h.ask("snapshot")), WAIT)
                a, b = snap["strings"]
                self.assertEqual(b["cell_first"], 16)
                self.assertEqual(b["sensor_first"], 2)
                self.assertEqual(snap["cell_count"], 32)
                agg = snap["agg"]
                want = (a["soc_pct"] * 100 + b["soc_pct"] * 200) / 300
                self.assertAlmostEqual(agg["soc_pct"], want, places=6)
                self.assertAlmostEqual(agg["soc_pct"], 70, delta=0.5)
                self.assertAlmostEqual(agg["current_a"], -6.0, places=3)
                lo = min(a["cells_mv"] + b["cells_mv"])
                self.assertEqual(agg["min_cell_mv"], lo)
                where = agg["min_cell"]
                self.assertEqual(snap["strings"][where["string"]]["cells_mv"][where["no"] - 1], lo)
            finally:
                self.assertEqual(h.stop(), 0, h.text())
        finally:
            for s in sims:
                s.stop()
            for p in pairs:
                p.stop()
            shutil.rmtree(folder, ignore_errors=True)


class Daemon(unittest.TestCase):
    """The bmsgw daemon with the bms service against the simulator."""

    def start(self, folder, text):
        self.daemon = bmsgwtest.Daemon(BUILD, folder, text, valgrind=VALGRIND)
        self.notify = self.daemon.notify
        self.daemon.notify.wait_for("READY=1", WAIT)
        self.daemon.notify.wait_for("STATUS=bms running", WAIT)

    def stop(self, folder):
        rc = self.daemon.stop(WAIT)
        self.assertEqual(rc, 0)
        return self.daemon.text()

    def test_daemon_with_simulator(self):
        folder = tempfile.mkdtemp(prefix="bmsgw-bms-")
        pair = PtyPair(folder)
        sim = TinyBMS(BUILD, folder, pair.a, ["--current", "-30"])
        conf = config(folder, [("house", pair.b)])
        energy = os.path.join(folder, "state", "energy.json")
        self.daemon = None
        try:
            self.start(folder, conf)
            mark = self.notify.mark()
            sim.ctl.ok("fault noreply on")
            self.notify.wait_for("STATUS=bms degraded (house: link down)", WAIT, mark)
            mark = self.notify.mark()
            sim.ctl.ok("fault noreply off")
            self.notify.wait_for("STATUS=bms running", WAIT, mark)
            text = self.stop(folder)
            self.assertIn("link up on " + pair.b, text)
            self.assertIn("link down: 3 failed cycles in a row", text)
            with open(energy) as f:
                saved = json.load(f)
            self.assertEqual(saved["strings"][0]["name"], "house")
            wh = saved["strings"][0]["discharged_wh"]
            self.assertGreater(wh, 0)

            # a restart continues the counters
            self.start(folder, conf)
            self.stop(folder)
            with open(energy) as f:
                self.assertGreaterEqual(json.load(f)["strings"][0]["discharged_wh"], wh)

            # a damaged file is kept aside, never overwritten unseen
            with open(energy, "w") as f:
                f.write('{"version": 1, "strings": [{"name": "house", "charged_wh": -5}]}')
            self.start(folder, conf)
            text = self.stop(folder)
            self.assertTrue(os.path.exists(energy + ".bad"))
            self.assertIn("energy.json cannot be used (an entry needs a name and two "
                          "non-negative counters)", text)
        finally:
            if self.daemon:
                self.daemon.close()
            sim.stop()
            pair.stop()
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
