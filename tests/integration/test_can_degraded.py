#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Without a usable CAN interface (a kernel without CAN, or no such interface) the CAN service
is degraded and keeps retrying, while the daemon starts, reports READY and stops cleanly.

usage: test_can_degraded.py BUILD_DIR
"""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bmsgwtest import GIVE_UP, Daemon, config, wait_until  # noqa: E402

BUILD = sys.argv[1]


class Degraded(unittest.TestCase):
    def test_missing_interface(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Daemon(BUILD, tmp, config(tmp, can='interface = "bmsgwnone0"; restart_min_ms = 100;'))
            try:
                d.notify.wait_for("READY=1", GIVE_UP)
                d.wait_log("service can degraded", GIVE_UP)
                t = d.text()
                self.assertTrue("CAN not supported by the kernel" in t
                                or "interface bmsgwnone0 missing, retrying" in t, t)
                wait_until("the status line", lambda: any(
                    "services: " in ln and "can degraded (" in ln
                    for ln in d.text().splitlines()), GIVE_UP)
                self.assertIsNone(d.proc.poll(), "the daemon must go on")
                rc = d.stop(GIVE_UP)
                self.assertEqual(rc, 0)
            finally:
                d.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
