#!/usr/bin/env python3
"""TCP request/response: 1-byte round trips to HOST:PORT; prints µs per round trip."""
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 3000
s = socket.create_connection((host, port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for _ in range(100):  # warm up
    s.sendall(b"x"); s.recv(1)
t = time.perf_counter()
for _ in range(n):
    s.sendall(b"x"); s.recv(1)
print("%.1f" % ((time.perf_counter() - t) / n * 1e6))
