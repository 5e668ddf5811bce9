#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bmsctl on a terminal: watch redraws in place, shows changes in reverse video and alarms in
red, and stops on q and on Ctrl-C; the interactive menu driven through tmux with keystrokes, its
screen checked against the simulator's registers.

usage: test_bmsctl_tty.py BUILD_DIR SOURCE_DIR [TestClass...]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mbtcp_util import Client, u32  # noqa: E402
from bmsgwtest import GIVE_UP, wait_until  # noqa: E402
from test_bmsctl import CTL, CTL_TIMEOUT, QUIET, SELECT, CtlTest  # noqa: E402  (same arguments)


# ---- on a terminal (tmux) -------------------------------------------------------------------

class Terminal:
    """A program in a detached tmux session of its own server: keys in, the screen out."""

    def __init__(self, command, width=200, height=60):
        self.dir = tempfile.mkdtemp(prefix="bmsctl-tmux-")
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.status = os.path.join(self.dir, "status")
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", str(height),
                  f"{command}; echo $? > {self.status}; sleep 60")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), capture_output=True,
                              text=True, timeout=GIVE_UP)

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def screen(self, attrs=False):
        return self.tmux("capture-pane", "-p", *(["-e"] if attrs else [])).stdout

    def wait_for(self, pattern, timeout=GIVE_UP, attrs=False):
        """The screen once it matches pattern (a regular expression)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.screen(attrs)
            if re.search(pattern, s, re.M):
                return s
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} on the screen:\n{self.screen()}")

    def exit_status(self, timeout=GIVE_UP):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.status):
                with open(self.status) as f:
                    s = f.read().strip()
                if s:
                    return int(s)
            time.sleep(0.05)
        raise AssertionError(f"the program did not end:\n{self.screen()}")

    def close(self):
        self.tmux("kill-server")
        shutil.rmtree(self.dir, ignore_errors=True)


class OnTerminal(CtlTest):
    SIMS = (("quiet", "mega", "--interval-ms", QUIET), ("busy", "mega", "--interval-ms", "200"),
            ("tp", "testpattern"), ("tescom", "tescom"))

    def terminal(self, port, *args):
        t = Terminal(" ".join([CTL, "-p", str(port), *CTL_TIMEOUT] + list(args)))
        self.addCleanup(t.close)
        return t

    def test_watch_redraws_highlights_and_quits(self):
        t = self.terminal(self.sims["tp"][1], "--map", "testpattern", "watch", "-i", "0.5")
        t.wait_for(r"refresh ([3-9]|\d\d+); q or Ctrl-C quits")  # 3 or later: it may pass unseen
        # a refresh after a tick shows the changed values in reverse video
        s = t.wait_for(r"value 1 +\x1b\[7m-?\d+", attrs=True)
        first = s.splitlines()[0]
        self.assertIn("bmsctl watch: test pattern at 127.0.0.1", first)
        s = t.wait_for(r"refresh ([6-9]|\d\d+);")
        self.assertEqual(s.count("first value of each type"), 1, "redrawn in place")
        t.keys("q")
        self.assertEqual(t.exit_status(), 0)

    def test_watch_alarm_in_red_and_ctrl_c(self):
        port = self.sims["busy"][1]
        c = Client(port)
        try:
            c.fc6(1010, 4000)  # cell 1 far above the high-voltage alarm
            wait_until("the alarm coil", lambda: c.fc1(4, 1) == [1], GIVE_UP)
            t = self.terminal(port, "watch", "-i", "0.5")
            s = t.wait_for(r"alarm active +(\x1b\[[0-9;]*m)+yes", attrs=True)
            line = next(x for x in s.splitlines() if "alarm active" in x)
            self.assertRegex(line, r"\x1b\[(1;)?31m|\x1b\[31m")
            t.keys("C-c")
            self.assertEqual(t.exit_status(), 0)
        finally:
            c.fc6(1010, 0)
            c.close()

    def test_menu(self):
        port = self.sims["quiet"][1]
        t = self.terminal(port)
        s = t.wait_for(r"choice:$")
        for line in ("bmsctl: mega BMS at 127.0.0.1:%d (unit 1)" % port, "1  main parameters",
                     "2  comprehensive read", "3  cell voltages", "4  temperature sensors",
                     "5  string analysis", "6  system status", "7  coil data",
                     "8  continuous monitoring", "q  quit"):
            self.assertIn(line, s)
        before = u32(self.c.fc3(1000, 2), 0)
        t.keys("1", "Enter")
        s = t.wait_for(r"main parameters\n(.*\n)+.*choice:$")
        after = u32(self.c.fc3(1000, 2), 0)
        soc = re.search(r"1000  SOC +([0-9.]+) %", s)
        self.assertIn(round(float(soc.group(1)) * 100), (before, after))
        self.c.fc6(1026, 3650)
        try:
            t.keys("3", "Enter")
            t.wait_for(r"cells \(1-4992, e.g. 1-16,100; Enter: all\):$")
            t.keys("17", "Enter")
            t.wait_for(r"cell 17-17 +3650\n")
        finally:
            self.c.fc6(1026, 0)
        t.keys("5", "Enter")
        t.wait_for(r"cells per string \[208\]:$")
        t.keys("Enter")
        t.wait_for(r"sensors per string \(0: system only\) \[96\]:$")
        t.keys("Enter")
        s = t.wait_for(r"  system +4992 ")
        self.assertRegex(s, r"\n  24 +208 ")
        t.keys("7", "Enter")
        t.wait_for(r"    100  charge enable +(yes|no)\n")
        t.keys("8", "Enter")
        t.wait_for(r"refresh every \(seconds\) \[2\]:$")
        t.keys("0.3", "Enter")
        t.wait_for(r"refresh ([2-9]|\d\d+); q or Ctrl-C quits")
        t.keys("C-c")
        t.wait_for(r"q  quit\nchoice:$")  # back in the menu
        t.keys("q", "Enter")
        self.assertEqual(t.exit_status(), 0)

    def test_menu_of_a_map_without_coils(self):
        t = self.terminal(self.sims["tescom"][1], "--map", "tescom")
        s = t.wait_for(r"choice:$")
        self.assertIn("7  coil data  (not in this map)", s)
        t.keys("7", "Enter")
        t.wait_for(r"the Tescom map has no coils")
        t.keys("x", "Enter")
        t.wait_for(r"'x' is not a choice: 1-8 or q")
        t.keys("C-d")
        self.assertEqual(t.exit_status(), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + SELECT)
