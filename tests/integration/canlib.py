# SPDX-License-Identifier: MIT
"""Helpers for the tests and benchmarks that run with vcan0 (in Debian's kernel under qemu,
tests/vm/run-vm, or directly on a Raspberry Pi): a raw CAN capture with kernel timestamps, frame
injection, a small DBC reader (independent of the C frame table), a meter of the time the
machine was not running us, the TinyBMS simulator with its control socket, and the daemon with a
notify socket."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bmsgwtest  # noqa: E402

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


class Sim:
    """bmsgw-sim tinybms on a PTY, driven through its control socket."""

    def __init__(self, build, folder, device, seed=1, name="sim"):
        """name: of its control socket and log in folder (several simulators, one folder)."""
        self.sock_path = os.path.join(folder, f"{name}.sock")
        self.device = device
        for p in (device, self.sock_path):
            if os.path.lexists(p):
                os.unlink(p)
        self.log = open(os.path.join(folder, f"{name}.log"), "a")
        self.proc = subprocess.Popen(
            [os.path.join(build, "src", "bmsgw-sim"), "tinybms", "--device", device, "--control",
             self.sock_path, "--seed", str(seed)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(self.sock_path) and os.path.exists(device):
                try:
                    self.get()
                    return
                except OSError:
                    pass
            time.sleep(0.02)
        raise AssertionError("the simulator did not come up")

    def cmd(self, line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.sock_path)
        s.sendall((line + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        answer = buf.decode().strip()
        if answer.startswith("error"):
            raise AssertionError(f"simulator: {line!r}: {answer}")
        return answer

    def get(self):
        return json.loads(self.cmd("get"))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()


class Daemon(bmsgwtest.Daemon):
    """The gateway with config_text, started and READY; wait_log answers True/False here (the
    checks record results instead of failing at the first one)."""

    def __init__(self, build, folder, config_text, timeout=20):
        self.conf = os.path.join(folder, "bmsgw.conf")
        with open(self.conf, "w") as f:
            f.write(config_text)
        super().__init__(build, folder, self.conf)
        self.notify.wait_for("READY=1", timeout)

    def wait_log(self, needle, timeout):
        try:
            super().wait_log(needle, timeout)
            return True
        except AssertionError:
            return False

    def thread_cpu_s(self, name="can"):
        """CPU seconds (user + system) of the daemon's thread with that name."""
        task_dir = f"/proc/{self.proc.pid}/task"
        tick = os.sysconf("SC_CLK_TCK")
        for tid in os.listdir(task_dir):
            with open(f"{task_dir}/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"{task_dir}/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick
        return None

    def process_cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        rc = bmsgwtest.stop_process(self.proc)
        self.close()
        return rc


def gateway_config(folder, device, extra="", devices=None, bms_keys="", can_keys="",
                   http_port=None):
    """The test daemon's configuration: one string on device (or one per entry of devices,
    named s1, s2, ...); bms_keys / can_keys are more keys of those groups, extra whole other
    groups; http_port serves the REST API on 127.0.0.1 (the token file in folder)."""
    if devices is None:
        ports = f'{{ name = "house"; device = "{device}"; }}'
    else:
        ports = ", ".join(f'{{ name = "s{i + 1}"; device = "{d}"; }}'
                          for i, d in enumerate(devices))
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    http = ('http = { enabled = false; };\n' if http_port is None else
            f'http = {{ bind = "127.0.0.1"; port = {http_port}; '
            f'api_token_file = "{folder}/api-token"; web_root = "{source}/web"; }};\n')
    return (f'state_dir = "{folder}";\n'
            f'bms = {{ ports = ( {ports} ); {bms_keys} }};\n'
            f'can = {{ interface = "vcan0"; {can_keys} }};\n'
            + http + 'ws = { enabled = false; };\n'
            'modbus_tcp = { enabled = false; };\n' + extra)


def http_get_json(port, path, timeout=10):
    """GET http://127.0.0.1:port/path as JSON (the daemon's REST API; reads need no token)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return json.loads(r.read().decode())
