#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A counted UDP flow for the load test.
  udp_flow.py send IP PORT PPS SECONDS   -> "sent N" (datagrams sendto accepted)
  udp_flow.py recv IP PORT STOPFILE IDLE -> "received N duplicates D", once
      STOPFILE exists and nothing arrived for IDLE seconds"""
import os
import socket
import struct
import sys
import time


def send(ip, port, pps, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sent, seq, t0 = 0, 0, time.monotonic()
    gap = 1.0 / pps
    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            break
        due = t0 + seq * gap
        if due > now:
            time.sleep(due - now)
        try:
            s.sendto(struct.pack("!Q", seq) + b"x" * 56, (ip, port))
            sent += 1
        except OSError:
            pass
        seq += 1
    print("sent %d" % sent, flush=True)


def recv(ip, port, stopfile, idle):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    r.bind((ip, port))
    r.settimeout(0.2)
    seen, dups, last = set(), 0, time.monotonic()
    while True:
        try:
            d = r.recv(2048)
        except socket.timeout:
            if os.path.exists(stopfile) and time.monotonic() - last >= idle:
                break
            continue
        last = time.monotonic()
        seq = struct.unpack("!Q", d[:8])[0]
        if seq in seen:
            dups += 1
        seen.add(seq)
    print("received %d duplicates %d" % (len(seen), dups), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        recv(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
