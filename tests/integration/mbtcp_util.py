# SPDX-License-Identifier: MIT
"""Helpers for the Modbus TCP conformance tests: clients nobody here wrote
(Debian's pymodbus and mbpoll) and a raw socket client for what those cannot send."""
import re
import socket
import struct
import subprocess

from pymodbus.client import ModbusTcpClient
from pymodbus.pdu import ExceptionResponse

from bmsgwtest import GIVE_UP


class ModbusError(Exception):
    def __init__(self, code):
        super().__init__(f"Modbus exception {code}")
        self.code = code


def check(result):
    if isinstance(result, ExceptionResponse):
        raise ModbusError(result.exception_code)
    if result.isError():
        raise AssertionError(f"no valid answer: {result}")
    return result


class Client:
    """pymodbus (Debian python3-pymodbus), one connection."""

    def __init__(self, port, unit=0):
        self.unit = unit
        self.c = ModbusTcpClient("127.0.0.1", port=port, timeout=GIVE_UP, retries=0)
        if not self.c.connect():
            raise AssertionError(f"cannot connect to port {port}")

    def close(self):
        self.c.close()

    def fc3(self, addr, count, unit=None):
        u = self.unit if unit is None else unit
        return check(self.c.read_holding_registers(addr, count, slave=u)).registers

    def fc4(self, addr, count, unit=None):
        u = self.unit if unit is None else unit
        return check(self.c.read_input_registers(addr, count, slave=u)).registers

    def fc1(self, addr, count):
        return [int(b) for b in check(self.c.read_coils(addr, count, slave=self.unit)).bits[:count]]

    def fc2(self, addr, count):
        r = check(self.c.read_discrete_inputs(addr, count, slave=self.unit))
        return [int(b) for b in r.bits[:count]]

    def fc5(self, addr, value):
        return check(self.c.write_coil(addr, bool(value), slave=self.unit))

    def fc15(self, addr, values):
        return check(self.c.write_coils(addr, [bool(v) for v in values], slave=self.unit))

    def fc6(self, addr, value):
        return check(self.c.write_register(addr, value, slave=self.unit))

    def fc16(self, addr, values):
        return check(self.c.write_registers(addr, values, slave=self.unit))

    def execute(self, request):
        return check(self.c.execute(request))

    def exception(self, fn, *args, **kw):
        """The exception code fn raises (None when it succeeds)."""
        try:
            fn(*args, **kw)
        except ModbusError as e:
            return e.code
        return None


def mbpoll(port, *args, write=()):
    """Run mbpoll once against port (writing the values in write, if any); returns
    (returncode, {address: value}, output)."""
    cmd = ["mbpoll", "-m", "tcp", "-p", str(port), "-1", "-0", "-o", "10"] + list(args) + \
        ["127.0.0.1"] + [str(v) for v in write]  # -o 10: mbpoll's longest time-out
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=GIVE_UP)
    out = r.stdout + r.stderr
    values = {}
    for m in re.finditer(r"^\[(\d+)\]:\s+(\S+)", r.stdout, re.M):
        values[int(m.group(1))] = m.group(2)
    return r.returncode, values, out


class Raw:
    """A raw Modbus TCP connection for frames no client library sends."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        self.s.close()

    def send(self, tid, unit, pdu):
        self.s.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)

    def recv(self):
        head = self._exactly(7)
        tid, pid, length, unit = struct.unpack(">HHHB", head)
        if pid != 0:
            raise AssertionError(f"protocol id {pid}")
        return tid, unit, self._exactly(length - 1)

    def ask(self, tid, unit, pdu):
        self.send(tid, unit, pdu)
        return self.recv()

    def closed_within(self, seconds):
        """True when the peer closes the connection within seconds."""
        self.s.settimeout(seconds)
        try:
            while True:
                if not self.s.recv(4096):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def _exactly(self, n):
        b = b""
        while len(b) < n:
            chunk = self.s.recv(n - len(b))
            if not chunk:
                raise ConnectionError("closed by the server")
            b += chunk
        return b


def u32(regs, i, cdab=False):
    hi, lo = (regs[i + 1], regs[i]) if cdab else (regs[i], regs[i + 1])
    return hi << 16 | lo


def s32(regs, i, cdab=False):
    v = u32(regs, i, cdab)
    return v - (1 << 32) if v & 0x80000000 else v


def s16(v):
    return v - 0x10000 if v & 0x8000 else v


def f32(regs, i, cdab=False):
    return struct.unpack(">f", struct.pack(">I", u32(regs, i, cdab)))[0]


def f64(regs, i, cdab=False):
    words = regs[i:i + 4]
    if cdab:
        words = list(reversed(words))
    return struct.unpack(">d", struct.pack(">4H", *words))[0]


def f16(reg):
    return struct.unpack(">e", struct.pack(">H", reg))[0]


def text(regs):
    b = b"".join(struct.pack(">H", r) for r in regs)
    return b.split(b"\0", 1)[0].decode("ascii")
