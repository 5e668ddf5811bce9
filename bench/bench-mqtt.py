#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""MQTT next to the WebSocket path, in one run against the simulated TinyBMS (polled every
250 ms) and Debian's mosquitto on 127.0.0.1:

  - commit -> subscriber latency of P/state (paho) beside commit -> client of /ws/telemetry,
    p50/p99, from the same daemon at the same time (state_interval_ms = 1000, the shortest);
  - the CPU time of the daemon's "mqtt" thread per minute at the default state_interval_ms
    (5000) with Home Assistant discovery on.

The commit's wall time is time_ms - snapshot_age_ms of the document (both taken by the daemon
when it encoded it); the receipt time is this process's wall clock on arrival.

usage: bench-mqtt.py BUILD_DIR [--seconds N]   (N: length of each phase, default 60)
"""
import base64
import json
import os
import socket
import sys
import tempfile
import threading
import time

import paho.mqtt.client as paho

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import bmsgwtest  # noqa: E402

BUILD = sys.argv[1]
SECONDS = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 60
USER, PASSWORD = "bench", "bench-pw"


def commit_delay_ms(doc, received_s):
    if doc.get("snapshot_age_ms") is None:
        return None
    return received_s * 1000 - (doc["time_ms"] - doc["snapshot_age_ms"])


class WsTelemetry(threading.Thread):
    """A minimal WebSocket client of /ws/telemetry (RFC 6455: unmasked text frames from the
    server); keeps the commit -> receipt delays."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.delays, self.stop = [], False
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /ws/telemetry HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise AssertionError(f"no WebSocket upgrade: {head!r}")

    def read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def frame(self):
        b0, b1 = self.read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self.read(2), "big")
        elif n == 127:
            n = int.from_bytes(self.read(8), "big")
        return b0 & 0x0F, self.read(n)

    def run(self):
        message = b""
        try:
            while not self.stop:
                op, payload = self.frame()
                message += payload
                if op in (1, 0) and message:
                    try:
                        doc = json.loads(message)
                    except ValueError:
                        continue  # a fragment: wait for the rest
                    message = b""
                    d = commit_delay_ms(doc, time.time())
                    if d is not None:
                        self.delays.append(d)
        except (EOFError, OSError):
            pass


def quantile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def subscriber(port, prefix):
    delays = []
    c = paho.Client(protocol=paho.MQTTv311)
    c.username_pw_set(USER, PASSWORD)

    def on_message(client, userdata, m):
        if not m.retain:
            d = commit_delay_ms(json.loads(m.payload), time.time())
            if d is not None:
                delays.append(d)
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    c.subscribe(prefix + "/state", 0)
    c.loop_start()
    return c, delays


def gateway(folder, broker, sim, state_interval_ms):
    http, ws = bmsgwtest.free_ports(2)
    os.makedirs(folder, exist_ok=True)
    pw = os.path.join(folder, "pw")
    with open(pw, "w") as f:
        f.write(PASSWORD)
    os.chmod(pw, 0o600)
    mqtt = (f'enabled = true; host = "127.0.0.1"; port = {broker.port}; gateway_id = "bench"; '
            f'username = "{USER}"; password_file = "{pw}"; '
            f"state_interval_ms = {state_interval_ms};")
    text = bmsgwtest.config(folder, [("house", sim.device)], http=bmsgwtest.rest_keys(folder, http),
                            ws=f"port = {ws};", mqtt=mqtt, log_level="notice")
    d = bmsgwtest.Daemon(BUILD, folder, text, ready=bmsgwtest.GIVE_UP)
    bmsgwtest.wait_until("the MQTT thread", lambda: d.thread_cpu_s("mqtt") is not None,
                         bmsgwtest.GIVE_UP)
    return d, ws


def latency_phase(folder, broker, sim):
    d, ws_port = gateway(folder, broker, sim, 1000)
    try:
        ws = WsTelemetry(ws_port)
        ws.start()
        c, delays = subscriber(broker.port, "bmsgw/bench")
        time.sleep(SECONDS)  # the length of the run, not a wait for something
        ws.stop = True
        c.loop_stop()
        c.disconnect()
        print(f"mqtt-bench: commit -> MQTT subscriber (P/state, state_interval_ms 1000, "
              f"{len(delays)} messages): p50 {quantile(delays, 0.5):.1f} ms, "
              f"p99 {quantile(delays, 0.99):.1f} ms")
        print(f"mqtt-bench: commit -> WebSocket client (/ws/telemetry, "
              f"{len(ws.delays)} messages): p50 {quantile(ws.delays, 0.5):.1f} ms, "
              f"p99 {quantile(ws.delays, 0.99):.1f} ms")
    finally:
        d.stop()


def cpu_phase(folder, broker, sim):
    d, _ = gateway(folder, broker, sim, 5000)
    try:
        t0, cpu0, proc0 = time.monotonic(), d.thread_cpu_s("mqtt"), d.process_cpu_s()
        time.sleep(SECONDS)  # the length of the run
        span = time.monotonic() - t0
        cpu, proc = d.thread_cpu_s("mqtt") - cpu0, d.process_cpu_s() - proc0
        print(f"mqtt-bench: MQTT thread CPU at the default rate (state_interval_ms 5000): "
              f"{cpu / span * 60:.3f} s/min (the whole daemon {proc / span * 60:.3f} s/min, "
              f"{span:.0f} s)")
    finally:
        d.stop()


def main():
    folder = tempfile.mkdtemp(prefix="bmsgw-bench-mqtt-")
    broker = bmsgwtest.Mosquitto(folder, {USER: PASSWORD}, f"user {USER}\ntopic readwrite #\n")
    sim = bmsgwtest.TinyBMS(BUILD, folder, os.path.join(folder, "tty"), ["--current", "-20"])
    try:
        latency_phase(os.path.join(folder, "latency"), broker, sim)
        cpu_phase(os.path.join(folder, "cpu"), broker, sim)
    finally:
        sim.stop()
        broker.stop()


if __name__ == "__main__":
    main()
