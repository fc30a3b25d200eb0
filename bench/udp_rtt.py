#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Paced UDP round trips for bench/delay.sh (ping keeps one probe in flight
when the interval is shorter than the RTT, so it cannot pace 10 000/s).

  udp_rtt.py serve PORT                      echo every datagram back
  udp_rtt.py client IP PORT RATE COUNT       send COUNT datagrams at RATE/s,
                                             print one RTT (ms) per reply
  udp_rtt.py send IP PORT RATE COUNT         the same without waiting for
                                             replies (a paced load)

The receive time is the kernel's (SO_TIMESTAMPNS), the send time is taken
right before sendto(); both CLOCK_REALTIME."""
import select
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        data, addr = s.recvfrom(2048)
        s.sendto(data, addr)


def drain(s, out):
    while True:
        try:
            data, anc, _, _ = s.recvmsg(64, 64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        sent = struct.unpack("!Q", data[8:16])[0]
        rx = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", cdata[:16])
                rx = sec * 1000000000 + nsec
        if rx is None:
            rx = time.time_ns()
        out.append((rx - sent) / 1e6)


def client(ip, port, rate, count, rate_only=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    dst = (ip, port)  # not connected: ICMP errors must not stop the load
    out = []
    gap = 1.0 / rate
    t0 = time.monotonic()
    for i in range(count):
        due = t0 + i * gap
        while True:
            left = due - time.monotonic()
            if left <= 0:
                break
            if select.select([s], [], [], left)[0]:
                drain(s, out)
        s.sendto(struct.pack("!QQ", i, time.time_ns()) + b"x" * 16, dst)
    sent_for = time.monotonic() - t0
    if rate_only:
        sys.stderr.write("sent %d in %.2f s\n" % (count, sent_for))
        return
    end = time.monotonic() + 1.5
    while time.monotonic() < end and len(out) < count:
        if select.select([s], [], [], 0.05)[0]:
            drain(s, out)
    sys.stdout.write("".join("%.4f\n" % v for v in out))
    sys.stderr.write("sent %d in %.2f s, got %d\n" % (count, sent_for, len(out)))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]),
               sys.argv[1] == "send")
