#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# UDP stream for the corrupt test.
#   udp_check.py send ADDR PORT N   N datagrams of a known 512-byte pattern
#   udp_check.py recv ADDR PORT N   prints "GOOD DAMAGED" after N datagrams
#                                   or 5 s of silence
import socket
import sys


def pattern(i):
    head = b"%08d" % i
    return head + bytes((i + k) % 251 for k in range(512 - len(head)))


def main():
    mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if mode == "send":
        for i in range(n):
            s.sendto(pattern(i), (addr, port))
            if i % 50 == 49:
                import time
                time.sleep(0.002)
        return
    # room for the whole stream (SO_RCVBUFFORCE, root): a receiver that a
    # busy machine leaves unscheduled must not lose datagrams to a full
    # socket buffer, or damaged + dropped would not add up to what was sent
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 16 << 20)
    s.bind((addr, port))
    s.settimeout(5.0)
    good = bad = 0
    while good + bad < n:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        try:
            i = int(data[:8])
        except ValueError:
            bad += 1
            continue
        if data == pattern(i):
            good += 1
        else:
            bad += 1
    print(good, bad)


main()
