# SPDX-License-Identifier: MIT
"""Conformance checks shared by the daemon and the simulator tests: the test-pattern map through
pymodbus and mbpoll, every function code, exceptions at every range edge, concurrency.

The test pattern moves once a second of the server's monotonic clock, counted from its start. Its
time is checked against bounds this process knows for sure (the start lies between self.started,
taken before the server was started, and self.ready, when its port accepted), not against a
tolerance: however slow the machine, a right value is inside them."""
import socket
import struct
import threading
import time

from pymodbus.diag_message import ReturnQueryDataRequest
from pymodbus.mei_message import ReadDeviceInformationRequest
from pymodbus.other_message import ReportSlaveIdRequest

from bmsgwtest import GIVE_UP, wait_until
from mbtcp_util import Client, Raw, f16, f32, f64, mbpoll, s16, s32, text, u32

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_FAILURE, TARGET = 1, 2, 3, 4, 0x0B

# (first, last) of every declared register range, per map, and its coil/input ranges
REG_RANGES = {
    "mega": [(1000, 6001), (7000, 9303), (30003, 30008)],
    "tescom": [(0, 3), (1001, 1994), (2001, 2994), (3001, 3994), (4001, 4994), (5001, 8376),
               (9001, 9484)],
    "pack12s": [(1440, 1453), (1596, 1596), (1598, 1599), (1642, 1642), (6452, 6452),
                (10077, 10077), (15115, 15115)],
    "testpattern": [(0, 1000)],
}
BIT_RANGES = {
    "mega": {"coils": [(0, 7), (100, 102)], "inputs": [(0, 7)]},
    "tescom": {"coils": [], "inputs": []},
    "pack12s": {"coils": [], "inputs": []},
    "testpattern": {"coils": [(0, 300)], "inputs": [(0, 300)]},
}


def consistent(read, timeout=GIVE_UP):
    """Call read() until two calls in a row agree (the pattern moves once a second)."""
    last = read()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read()
        if now == last:
            return now
        last = now
    raise AssertionError("values never settled")


def pattern_tick(c):
    """The test pattern's second (uint16 101 = 1 + t)."""
    return c.fc3(101, 1)[0] - 1


class TestPatternChecks:
    """Needs self.tp_port (a test-pattern listener, word order abcd, writes allowed) and
    self.started, self.ready (monotonic seconds before the server was started and once it
    accepted)."""

    def assert_pattern_time(self, t, t0, t1):
        """t is the pattern's second for a read made between t0 and t1 (monotonic seconds)."""
        self.assertGreater(t, t0 - self.ready - 1, "the pattern is behind")
        self.assertLessEqual(t, t1 - self.started, "the pattern is ahead")

    def test_tp_integers(self):
        c = Client(self.tp_port)
        try:
            r = c.fc3(0, 125)  # int16 0..100 and uint16 101..124 in one response
            t = r[101] - 1
            self.assertTrue(all(s16(v) == -16000 + t for v in r[:101]), r[:101])
            self.assertTrue(all(v == 1 + t for v in r[101:]))
            t0 = time.monotonic()
            r = c.fc3(201, 125)  # int32 201..300, uint32 301..325
            t1 = time.monotonic()
            t = u32(r, 100)
            for k in range(0, 100, 2):
                self.assertEqual(s32(r, k), -10000 + t)
            for k in range(100, 124, 2):
                self.assertEqual(u32(r, k), t)
            self.assert_pattern_time(t, t0, t1)
        finally:
            c.close()

    def test_tp_floats(self):
        c = Client(self.tp_port)
        try:
            r = c.fc3(401, 125)  # float16 401..500, float32 501..525
            t = round(f32(r, 100) / 0.222)
            self.assertAlmostEqual(f32(r, 100), 0.222 * t, places=3)
            for k in range(0, 100, 2):
                half = f16(r[k])
                self.assertEqual(r[k + 1], 0)
                self.assertEqual(half, struct.unpack(">e", struct.pack(">e", -10000 + 0.111 * t))[0])
            r = c.fc3(601, 125)  # float64 601..700, "double" 701..725
            t = round(f64(r, 0) / 0.333)
            for k in range(0, 100, 4):
                self.assertEqual(f64(r, k), 0.333 * t)
            self.assertEqual(f64(r, 100), 0.444 * t)
            self.assertEqual(r[104:108], [0, 0, 0, 0])  # the padding of an 8-register slot
            self.assertEqual(f64(r, 108), 0.444 * t)
        finally:
            c.close()

    def test_tp_strings(self):
        c = Client(self.tp_port)
        try:
            r = c.fc3(801, 100)
            self.assertEqual(text(r), "Hello, World!")
            self.assertEqual(r[6:], [0x2100] + [0] * 93)
            t0 = time.time()
            r = c.fc4(901, 100)
            t1 = time.time()
            s = text(r)
            self.assertRegex(s, r"^Hello, World! \d+$")
            # the real time when the image was made: at most one tick before the read
            self.assertGreaterEqual(int(s.split()[-1]), int(t0) - 2)
            self.assertLessEqual(int(s.split()[-1]), t1)
        finally:
            c.close()

    def test_tp_fc3_equals_fc4(self):
        c = Client(self.tp_port)
        try:
            for first in range(0, 1001, 125):
                n = min(125, 1001 - first)
                pair = consistent(lambda: (c.fc3(first, n), c.fc4(first, n)))
                self.assertEqual(pair[0], pair[1], first)
        finally:
            c.close()

    def test_tp_coils_and_inputs(self):
        c = Client(self.tp_port)
        try:
            # written coils keep their value until the next tick: start after one
            t0 = pattern_tick(c)
            wait_until("a tick", lambda: pattern_tick(c) != t0, GIVE_UP)
            for read in (c.fc1, c.fc2):
                bits = read(0, 301)
                self.assertEqual(len(set(bits[0:101])), 1)
                self.assertEqual(set(bits[101:201]), {0})
                self.assertEqual(set(bits[201:301]), {1})
            # the toggling inputs change (every tick)
            first = c.fc2(0, 1)[0]
            wait_until("the toggling input", lambda: c.fc2(0, 1)[0] != first, GIVE_UP)
        finally:
            c.close()

    def test_tp_coil_writes(self):
        c = Client(self.tp_port)
        try:
            # a tick between write and read re-asserts the pattern: again, until none came between
            deadline = time.monotonic() + GIVE_UP
            while True:
                t0 = pattern_tick(c)
                c.fc5(150, 1)
                c.fc15(160, [1, 0, 1])
                got, got15 = c.fc1(150, 1), c.fc1(160, 3)
                if pattern_tick(c) == t0 or time.monotonic() > deadline:
                    break
            self.assertEqual(got, [1])
            self.assertEqual(got15, [1, 0, 1])
            self.assertEqual(c.exception(c.fc5, 301, 1), ILLEGAL_ADDRESS)
            self.assertEqual(c.exception(c.fc6, 0, 1), ILLEGAL_ADDRESS)  # registers read-only
            self.assertEqual(c.exception(c.fc16, 10, [1, 2]), ILLEGAL_ADDRESS)
        finally:
            c.close()

    def test_tp_illegal_functions(self):
        c = Client(self.tp_port)
        try:
            for req in (ReturnQueryDataRequest(0x1234), ReportSlaveIdRequest(),
                        ReadDeviceInformationRequest()):
                req.unit_id = 0
                self.assertEqual(c.exception(c.execute, req), ILLEGAL_FUNCTION, req)
        finally:
            c.close()
        raw = Raw(self.tp_port)
        try:
            for fc in (0x00, 0x07, 0x14, 0x17, 0x41, 0x7F):
                self.assertEqual(raw.ask(fc, 0, bytes([fc, 0, 0, 0, 1]))[2],
                                 bytes([fc | 0x80, ILLEGAL_FUNCTION]))
        finally:
            raw.close()

    def test_tp_quantity_limits(self):
        c = Client(self.tp_port)
        try:
            self.assertEqual(c.exception(c.fc3, 0, 126), ILLEGAL_VALUE)
            self.assertEqual(c.exception(c.fc4, 0, 126), ILLEGAL_VALUE)
            self.assertEqual(len(c.fc3(0, 125)), 125)
            self.assertEqual(c.exception(c.fc1, 0, 2001), ILLEGAL_VALUE)
            self.assertEqual(c.exception(c.fc2, 0, 2001), ILLEGAL_VALUE)
        finally:
            c.close()
        raw = Raw(self.tp_port)
        try:
            self.assertEqual(raw.ask(1, 0, b"\x03\x00\x00\x00\x00")[2], b"\x83\x03")
            self.assertEqual(raw.ask(2, 0, b"\x01\x00\x00\x00\x00")[2], b"\x81\x03")
            # FC15 of 1969 coils, FC16 of 124 registers
            self.assertEqual(raw.ask(3, 0, b"\x0f\x00\x00\x07\xb1\xf7" + bytes(247))[2],
                             b"\x8f\x03")
            self.assertEqual(raw.ask(4, 0, b"\x10\x00\x00\x00\x7c\xf8")[2], b"\x90\x03")
            self.assertEqual(raw.ask(5, 0, b"\x05\x00\x00\x12\x34")[2], b"\x85\x03")
        finally:
            raw.close()

    def test_tp_mbpoll(self):
        rc, v, out = mbpoll(self.tp_port, "-t", "4", "-r", "101", "-c", "3")
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(set(v.values())), 1, out)
        rc, v3, out = mbpoll(self.tp_port, "-t", "3", "-r", "801", "-c", "2")  # FC4
        self.assertEqual(rc, 0, out)
        self.assertEqual([v3[801], v3[802]], [str(0x4865), str(0x6C6C)])
        t0 = time.monotonic()
        rc, v, out = mbpoll(self.tp_port, "-t", "4:int", "-B", "-r", "201", "-c", "2")
        t1 = time.monotonic()
        self.assertEqual(rc, 0, out)
        self.assertEqual(v[201], v[203])
        self.assert_pattern_time(int(v[201]) + 10000, t0, t1)
        t0 = time.monotonic()
        rc, v, out = mbpoll(self.tp_port, "-t", "4:float", "-B", "-r", "501", "-c", "1")
        t1 = time.monotonic()
        self.assertEqual(rc, 0, out)
        self.assert_pattern_time(round(float(v[501]) / 0.222), t0, t1)
        rc, v, out = mbpoll(self.tp_port, "-t", "0", "-r", "199", "-c", "4")  # coils
        self.assertEqual(rc, 0, out)
        self.assertEqual([v[199], v[200], v[201], v[202]], ["0", "0", "1", "1"])
        rc, v, out = mbpoll(self.tp_port, "-t", "1", "-r", "295", "-c", "6")  # inputs
        self.assertEqual(rc, 0, out)
        self.assertEqual(set(v.values()), {"1"})
        rc, v, out = mbpoll(self.tp_port, "-t", "4", "-r", "1001", "-c", "1")
        self.assertNotEqual(rc, 0)
        self.assertIn("Illegal data address", out)
        rc, v, out = mbpoll(self.tp_port, "-t", "0", "-r", "120", write=[1])  # write a coil
        self.assertEqual(rc, 0, out)
        self.assertIn("Written 1 references", out)

    def test_tp_100_concurrent_clients(self):
        errors = []
        start = threading.Barrier(100)

        def client(k):
            try:
                raw = Raw(self.tp_port)
                start.wait(timeout=GIVE_UP)
                for i in range(20):
                    tid, unit, pdu = raw.ask((k * 100 + i) & 0xFFFF, 0, b"\x03\x00\x65\x00\x64")
                    if tid != (k * 100 + i) & 0xFFFF or pdu[:2] != b"\x03\xc8":
                        errors.append((k, i, tid, pdu[:4]))
                raw.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((k, repr(e)))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(100)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(GIVE_UP)
        self.assertEqual([th for th in threads if th.is_alive()], [])
        self.assertEqual(errors, [])

    def test_tp_half_open_client_does_not_stall_others(self):
        raw = Raw(self.tp_port)
        socks = []
        try:
            # others are answered while a half frame waits: an answer that came before the server
            # dropped the half-open client shows it (a server that waits for the rest answers
            # only after the drop). If this process took longer than the frame timeout to ask,
            # the drop came first and it says nothing: try again.
            deadline = time.monotonic() + GIVE_UP
            while True:
                stalled = socket.create_connection(("127.0.0.1", self.tp_port))
                socks.append(stalled)
                stalled.sendall(b"\x00\x01\x00\x00\x00\x06\x01\x03")  # half a frame, then nothing
                self.assertEqual(raw.ask(1, 0, b"\x03\x00\x00\x00\x01")[2][:2], b"\x03\x02")
                if still_open(stalled):
                    break
                self.assertLess(time.monotonic(), deadline, "answered only after the drop")
            trickle = socket.create_connection(("127.0.0.1", self.tp_port))
            socks.append(trickle)
            trickle_dropped = False
            for i in range(400):
                if i % 20 == 0 and not trickle_dropped:
                    try:  # slowloris: a byte now and then never completes a frame
                        trickle.sendall(b"\x00")
                    except OSError:
                        trickle_dropped = True
                self.assertEqual(raw.ask(i, 0, b"\x03\x00\x00\x00\x01")[2][:2], b"\x03\x02")
                time.sleep(0.002)
            for sock in (stalled, trickle):  # both dropped after the frame timeout
                sock.settimeout(self.frame_timeout_s + GIVE_UP)
                try:
                    self.assertEqual(sock.recv(10), b"")
                except ConnectionResetError:
                    pass
        finally:
            for sock in socks:
                sock.close()
            raw.close()


def still_open(sock):
    """True while the server has not closed sock (nothing to read, no end of stream)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


class RangeEdgeChecks:
    """Needs self.ports[map] and self.units[map]; exceptions at every edge of every range."""

    def edge_probe(self, name, fn, first, last, maxq):
        """Reads just outside a range fail with 0x02; inside they answer or fail otherwise."""
        c = Client(self.ports[name], self.units.get(name, 0))
        try:
            reader = getattr(c, fn)
            if first > 0:
                self.assertEqual(c.exception(reader, first - 1, 1), ILLEGAL_ADDRESS,
                                 (name, first))
            self.assertEqual(c.exception(reader, last + 1, 1), ILLEGAL_ADDRESS, (name, last))
            self.assertEqual(c.exception(reader, last, 2), ILLEGAL_ADDRESS, (name, last))
            inside = c.exception(reader, first, min(maxq, last - first + 1))
            self.assertIn(inside, (None, DEVICE_FAILURE), (name, first))
            inside = c.exception(reader, last, 1)
            self.assertIn(inside, (None, DEVICE_FAILURE), (name, last))
        finally:
            c.close()

    def test_range_edges(self):
        for name, ranges in REG_RANGES.items():
            for first, last in ranges:
                self.edge_probe(name, "fc3", first, last, 125)
                self.edge_probe(name, "fc4", first, last, 125)
            for kind, fn in (("coils", "fc1"), ("inputs", "fc2")):
                for first, last in BIT_RANGES[name][kind]:
                    self.edge_probe(name, fn, first, last, 2000)
            if not BIT_RANGES[name]["coils"]:
                c = Client(self.ports[name], self.units.get(name, 0))
                self.assertEqual(c.exception(c.fc1, 0, 1), ILLEGAL_ADDRESS)
                self.assertEqual(c.exception(c.fc2, 0, 1), ILLEGAL_ADDRESS)
                c.close()
