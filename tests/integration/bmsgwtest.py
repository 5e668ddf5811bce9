# SPDX-License-Identifier: MIT
"""What every integration test needs: free ports, readiness waits, stopping processes, a notify
socket like systemd's, and the daemon run in the foreground (optionally under valgrind).

Only the Python standard library: the tests that import it also run inside user-mode Linux."""
import datetime
import os
import re
import signal
import socket
import subprocess
import time

# How long a test waits for something that must happen (a port, a log line, a state): a give-up
# limit for a slow or busy machine, never what a test measures. What a test measures is judged by
# the daemon's own time stamps (Daemon.log_time()) or against a baseline taken in the same run.
GIVE_UP = 60

VALGRIND_CMD = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=9",
                "--track-fds=no", "-q"]


def free_ports(n):
    """n distinct free TCP ports on loopback (bound, read back, released)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def free_port():
    return free_ports(1)[0]


def wait_until(what, predicate, timeout):
    """Poll predicate until it returns a true value (returned); fail naming what after timeout
    seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def wait_port(port, timeout, proc=None):
    """Wait until something accepts on port (raises after timeout or when proc exits)."""
    def accepting():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
    wait_until(f"something to listen on port {port}", accepting, timeout)


def stop_process(proc, timeout=GIVE_UP):
    """SIGTERM, then SIGKILL after timeout seconds; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Notify:
    """A notify socket like systemd's that keeps every datagram, so a wait can look only at what
    came after a mark (a signal sent, a fault injected) and not at older messages."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "notify.sock")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen = []

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def mark(self):
        return len(self.seen)

    def wait_for(self, needle, timeout, since=0):
        """The first datagram after mark `since` that contains needle."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in self.seen[since:]:
                if needle in msg:
                    return msg
            since = len(self.seen)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no notification with {needle!r} within {timeout} s: "
                                     f"{self.seen}")
            self.sock.settimeout(left)
            try:
                self.seen.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass


class Daemon:
    """bmsgw -f -c CONFIG with a notify socket and its output in folder/daemon.log."""

    def __init__(self, build, folder, config, env_extra=None, valgrind=False):
        self.notify = Notify(folder)
        self.log_path = os.path.join(folder, "daemon.log")
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        env.update(env_extra or {})
        cmd = [os.path.join(build, "src", "bmsgw"), "-f", "-c", config]
        if valgrind:
            cmd = VALGRIND_CMD + cmd
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, needle, timeout):
        def found():
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited ({self.proc.returncode}) before "
                                     f"logging {needle!r}:\n{self.text()}")
            return False
        try:
            wait_until(f"log line {needle!r}", found, timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.text()}") from None

    def log_time(self, pattern):
        """The daemon's own time stamp (in seconds) of its first log line matching pattern (a
        regular expression searched in the message after the thread tag)."""
        for line in self.text().splitlines():
            m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) +\S+ +\[[^]]*\] (.*)", line)
            if m and re.search(pattern, m.group(2)):
                stamp = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
                return stamp.timestamp()
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.text()}")

    def stop(self, timeout=GIVE_UP):
        """SIGTERM; returns (exit status, seconds it took as this process saw it)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        return rc, time.monotonic() - t0

    def close(self):
        """Kill if still running, release the log and the socket (for finally blocks)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        self.notify.close()
