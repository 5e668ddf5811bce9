# SPDX-License-Identifier: MIT
"""CAN helpers for the tests and benchmarks that run with vcan0 (in Debian's kernel under qemu,
tests/vm/run-vm, or directly on a Raspberry Pi): a raw CAN capture with kernel timestamps, frame
injection, a small DBC reader (independent of the C frame table) and a meter of the time the
machine was not running us. The simulator, the daemon and the config: bmsgwtest.py."""
import re
import socket
import struct
import threading
import time

CAN_FMT = "=IB3x8s"
CAN_SIZE = struct.calcsize(CAN_FMT)
SO_TIMESTAMPNS = 35


class Capture:
    """Every frame on an interface, with the kernel's receive time (seconds, float)."""

    def __init__(self, ifname="vcan0"):
        self.sock = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind((ifname,))
        self.sock.settimeout(0.2)
        self.frames = []  # (t_s, can_id, dlc, bytes)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data, anc, _, _ = self.sock.recvmsg(CAN_SIZE, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                break
            t = time.time()
            for level, kind, val in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", val[:16])
                    t = sec + nsec / 1e9
            can_id, dlc, payload = struct.unpack(CAN_FMT, data)
            with self.lock:
                self.frames.append((t, can_id & 0x1FFFFFFF, dlc, payload[:dlc]))

    def snapshot(self):
        with self.lock:
            return list(self.frames)

    def wait_for(self, pred, timeout, since=0.0):
        """The first frame after time since for which pred(frame) holds, or None."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            frames = self.snapshot()
            for f in frames[seen:]:
                if f[0] >= since and pred(f):
                    return f
            seen = len(frames)
            time.sleep(0.01)
        return None

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


class Stalls:
    """How long this machine kept us from running, measured all along: a thread asks to sleep
    PERIOD_S and records how much later than that it woke. A time bound of a test that the
    daemon meets when it gets the CPU is checked as bound + stalled(t0, t1): the lateness of a
    starved guest (a loaded host, an emulated CPU) is measured in the same run, not guessed."""

    PERIOD_S = 0.01
    NOISE_S = 0.002  # lateness below this is ordinary timer slack

    def __init__(self):
        self.late = []  # (wall time the sleep ended, seconds late)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            t0 = time.monotonic()
            time.sleep(self.PERIOD_S)
            late = time.monotonic() - t0 - self.PERIOD_S
            if late > self.NOISE_S:
                with self.lock:
                    self.late.append((time.time(), late))

    def stalled(self, t0, t1):
        """Seconds of lateness seen between wall times t0 and t1 (stalls ending up to one
        second after t1 count: a stall that delays an event is reported when it ends)."""
        with self.lock:
            return sum(late for t, late in self.late if t0 <= t <= t1 + 1.0)

    def close(self):
        self.running = False
        self.thread.join()


def send_frame(can_id, data, ifname="vcan0"):
    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    s.bind((ifname,))
    s.send(struct.pack(CAN_FMT, can_id, len(data), bytes(data).ljust(8, b"\0")))
    s.close()


class Dbc:
    """Messages and signals of a DBC file (the subset the project's DBC uses)."""

    SG = re.compile(r'^\s*SG_ (\w+) : (\d+)\|(\d+)@1([+-]) \(([-\d.eE]+),([-\d.eE]+)\) '
                    r'\[([-\d.eE]+)\|([-\d.eE]+)\] "([^"]*)"')

    def __init__(self, path):
        self.messages = {}  # id -> (name, dlc, [signals])
        self.cycle_ms = {}
        current = None
        with open(path) as f:
            for line in f:
                m = re.match(r"^BO_ (\d+) (\w+): (\d+) (\w+)", line)
                if m:
                    current = int(m.group(1))
                    self.messages[current] = (m.group(2), int(m.group(3)), [])
                    continue
                m = self.SG.match(line)
                if m and current is not None:
                    self.messages[current][2].append(
                        (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4) == "-",
                         float(m.group(5)), float(m.group(6))))
                    continue
                m = re.match(r'^BA_ "GenMsgCycleTime" BO_ (\d+) (\d+);', line)
                if m:
                    self.cycle_ms[int(m.group(1))] = int(m.group(2))

    def decode(self, can_id, data):
        """Signal name -> physical value; characters of text signals are joined (name_cN)."""
        _, _, signals = self.messages[can_id]
        word = int.from_bytes(bytes(data).ljust(8, b"\0"), "little")
        out, text = {}, {}
        for name, start, bits, signed, scale, offset in signals:
            raw = (word >> start) & ((1 << bits) - 1)
            if signed and raw >> (bits - 1):
                raw -= 1 << bits
            m = re.match(r"^(\w+)_c(\d+)$", name)
            if m:
                text.setdefault(m.group(1), {})[int(m.group(2))] = raw
                continue
            out[name] = raw * scale + offset
        for name, chars in text.items():
            s = bytes(chars[k] for k in sorted(chars))
            out[name] = s.split(b"\0")[0].decode("ascii", "replace")
        return out
