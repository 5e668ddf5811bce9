#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Without a usable CAN interface (a kernel without CAN, or no such interface) the CAN service
is degraded and keeps retrying, while the daemon starts, reports READY and stops cleanly.

usage: test_can_degraded.py BUILD_DIR
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = sys.argv[1]
BMSGW = os.path.join(BUILD, "src", "bmsgw")


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Degraded(unittest.TestCase):
    def test_missing_interface(self):
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "bmsgw.conf")
            with open(conf, "w") as f:
                f.write(f'state_dir = "{tmp}";\n'
                        f'bms = {{ ports = ( {{ name = "house"; device = "{tmp}/none"; }} ); }};\n'
                        'can = { interface = "bmsgwnone0"; restart_min_ms = 100; };\n'
                        'http = { enabled = false; };\nws = { enabled = false; };\n'
                        'modbus_tcp = { enabled = false; };\n')
            notify_path = os.path.join(tmp, "notify.sock")
            notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify.bind(notify_path)
            notify.settimeout(5)
            log_path = os.path.join(tmp, "daemon.log")
            with open(log_path, "w") as log:
                proc = subprocess.Popen([BMSGW, "-f", "-c", conf], stdout=log,
                                        stderr=subprocess.STDOUT,
                                        env=dict(os.environ, NOTIFY_SOCKET=notify_path))
                try:
                    ready = False
                    while not ready:
                        ready = notify.recv(4096).decode().startswith("READY=1")

                    def text():
                        with open(log_path) as f:
                            return f.read()

                    wait_for(lambda: "service can degraded" in text(), 5, "can degraded")
                    t = text()
                    self.assertTrue("CAN not supported by the kernel" in t
                                    or "interface bmsgwnone0 missing, retrying" in t, t)
                    wait_for(lambda: any("services: " in ln and "can degraded (" in ln
                                         for ln in text().splitlines()), 5, "status line")
                    self.assertIsNone(proc.poll(), "the daemon must go on")
                    proc.send_signal(signal.SIGTERM)
                    self.assertEqual(proc.wait(timeout=5), 0)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                    notify.close()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
