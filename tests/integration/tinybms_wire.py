# SPDX-License-Identifier: MIT
"""The TinyBMS wire protocol for the integration tests: an independent RTU master (own CRC, own
framing, register decoding). The simulator, its control socket and the waits: bmsgwtest.py."""
import os
import select
import struct
import termios
import time
import tty

from bmsgwtest import GIVE_UP


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
