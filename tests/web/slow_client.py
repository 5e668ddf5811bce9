#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A WebSocket client that never reads: a tiny receive window, the opening handshake, then
nothing until stdin closes. Prints "open" once the server accepted it.

usage: slow_client.py PORT PATH
"""
import base64
import os
import socket
import sys

port, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(1)
    if not chunk:
        sys.exit("closed during the handshake")
    head += chunk
if b" 101 " not in head.split(b"\r\n", 1)[0]:
    sys.exit("refused: " + head.decode(errors="replace"))
print("open", flush=True)
sys.stdin.read()  # hold still, reading nothing, until told to stop
