#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Send N UDP datagrams over 127.0.0.1:PORT and print how many arrived and
how many differ from what was sent:  udp_count.py PORT N"""
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", port))
r.settimeout(0.5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
msg = b"A" * 64
for _ in range(n):
    s.sendto(msg, ("127.0.0.1", port))
got = bad = 0
try:
    while True:
        d = r.recv(2048)
        got += 1
        bad += d != msg
except socket.timeout:
    pass
print("received %d corrupted %d" % (got, bad))
