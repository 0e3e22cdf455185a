#!/usr/bin/env python3
"""TCP request/response: 1-byte round trips to HOST:PORT; prints µs per round
trip.  With "connect" after the count: the median µs of a connect() that is
answered (a 1-byte round trip on a fresh connection, then close)."""
import socket
import statistics
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
addr = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]  # resolved once

if len(sys.argv) > 4 and sys.argv[4] == "connect":
    times = []
    for i in range(n + 20):
        t = time.perf_counter()
        s = socket.create_connection(addr)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"x"); s.recv(1)
        times.append(time.perf_counter() - t)
        s.close()
    print("%.1f" % (statistics.median(times[20:]) * 1e6))  # the first 20 warm up
    sys.exit(0)

s = socket.create_connection(addr)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for _ in range(100):  # warm up
    s.sendall(b"x"); s.recv(1)
t = time.perf_counter()
for _ in range(n):
    s.sendall(b"x"); s.recv(1)
print("%.1f" % ((time.perf_counter() - t) / n * 1e6))
