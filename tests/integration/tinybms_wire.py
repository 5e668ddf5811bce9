# SPDX-License-Identifier: MIT
"""Helpers for the TinyBMS integration tests: an independent RTU master (own CRC, own framing),
the simulator's control socket, and waits with a bound (never a bare sleep)."""
import json
import os
import select
import socket
import struct
import subprocess
import termios
import time
import tty

from bmsgwtest import GIVE_UP, wait_until  # noqa: F401 (re-exported to the tests)


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


def frame(body):
    return bytes(body) + crc16(bytes(body))


def read_request(addr, count):
    return frame([0xAA, 0x03, addr >> 8, addr & 0xFF, count >> 8, count & 0xFF])


def write_request(addr, values):
    body = [0xAA, 0x10, addr >> 8, addr & 0xFF, 0, len(values), 2 * len(values)]
    for v in values:
        body += [v >> 8 & 0xFF, v & 0xFF]
    return frame(body)


class Line:
    """The master end of a serial line (a PTY path)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)

    def close(self):
        os.close(self.fd)

    def flush(self):
        termios.tcflush(self.fd, termios.TCIFLUSH)

    def send(self, data):
        os.write(self.fd, data)

    def receive(self, want, timeout):
        """Bytes until want of them arrived or timeout passed (a window in which nothing may come,
        or a give-up limit)."""
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < want:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
        return data

    def transact(self, request, reply_len, timeout=GIVE_UP):
        self.flush()
        self.send(request)
        return self.receive(reply_len, timeout)

    def receive_until(self, done, timeout=GIVE_UP):
        """Bytes until done(bytes so far) is true (returned), or the bytes after timeout."""
        data = b""
        deadline = time.monotonic() + timeout
        while not done(data) and time.monotonic() < deadline:
            data += self.receive(1, min(0.05, max(0, deadline - time.monotonic())))
        return data


def find_frame(data, first, length):
    """The first well-formed frame (right start, length and CRC) in data, or None."""
    for i in range(len(data) - length + 1):
        cand = data[i:i + length]
        if cand[:len(first)] == bytes(first) and crc16(cand[:-2]) == cand[-2:]:
            return cand
    return None


def registers(reply):
    n = reply[2] // 2
    return list(struct.unpack(">%dH" % n, reply[3:3 + 2 * n]))


def cdab_float(regs, i):
    return struct.unpack("<f", struct.pack("<HH", regs[i], regs[i + 1]))[0]


def cdab_u32(regs, i):
    return regs[i] | regs[i + 1] << 16


class Control:
    """The simulator's control socket."""

    def __init__(self, path, timeout=GIVE_UP):
        self.sock = wait_until(f"control socket {path}", lambda: self._connect(path), timeout)
        self.file = self.sock.makefile("rw")

    @staticmethod
    def _connect(path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(GIVE_UP)
            return s
        except OSError:
            s.close()
            return None

    def cmd(self, line):
        self.file.write(line + "\n")
        self.file.flush()
        return self.file.readline().strip()

    def ok(self, line):
        answer = self.cmd(line)
        if answer != "ok":
            raise AssertionError(f"{line!r}: {answer}")

    def get(self):
        return json.loads(self.cmd("get"))

    def close(self):
        self.file.close()
        self.sock.close()


class Simulator:
    """bmsgw-sim tinybms as a child process."""

    def __init__(self, exe, folder, device, extra=(), name="sim"):
        self.control_path = os.path.join(folder, name + ".sock")
        self.device = device
        self.log_path = os.path.join(folder, name + ".log")
        self.log = open(self.log_path, "w")
        cmd = [exe, "tinybms", "--device", device, "--control", self.control_path] + list(extra)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.ctl = Control(self.control_path)
        wait_until(f"device {device}", lambda: os.path.exists(device), GIVE_UP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(GIVE_UP)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.ctl.close()
        self.log.close()
        return self.proc.returncode

    def text(self):
        with open(self.log_path) as f:
            return f.read()


class Harness:
    """tests/integration/bms_harness.c: the real bms service, answering one JSON line per
    command."""

    def __init__(self, exe, folder, config_text, name="harness"):
        self.config = os.path.join(folder, name + ".conf")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(folder, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([exe, self.config], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            raise AssertionError(f"harness did not start: {first!r}\n{self.text()}")

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise AssertionError(f"harness died on {line!r}:\n{self.text()}")
        return json.loads(answer)

    def string(self, i=0):
        return self.ask("snapshot")["strings"][i]

    def wait_string(self, what, predicate, timeout, i=0):
        return wait_until(what, lambda: (lambda s: s if predicate(s) else None)(self.string(i)),
                          timeout)

    def events(self):
        return self.ask("events")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(GIVE_UP)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except BrokenPipeError:
                pass
        self.log.close()
        return self.proc.returncode

    def text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()


class PtyPair:
    """socat PTY pair: two linked serial lines (A for the simulator, B for the gateway)."""

    def __init__(self, folder, name="pair"):
        self.a = os.path.join(folder, name + "-a")
        self.b = os.path.join(folder, name + "-b")
        self.proc = subprocess.Popen(["socat", "-d", "-d", f"pty,raw,echo=0,link={self.a}",
                                      f"pty,raw,echo=0,link={self.b}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until("socat's PTY pair", lambda: os.path.exists(self.a) and os.path.exists(self.b),
                   GIVE_UP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(GIVE_UP)
