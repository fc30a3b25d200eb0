#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Numbered UDP datagrams, for order and never-early checks of the delay
line (delayline.bats).

  udp_seq.py send IP N BURST GAP_MS PORT[,PORT...] [SRC[,SRC...]]
      N datagrams round-robin over the flows: one socket per port and
      source address (bound to it when given); BURST at a time then GAP_MS
      of sleep; each carries its flow's sequence number and its send time
      (CLOCK_REALTIME ns).
  udp_seq.py recv PORT[,PORT...] EXPECT IDLE_S READYFILE
      counts until EXPECT datagrams arrived, or IDLE_S of silence after
      the first; prints one JSON object: per port "received", "reordered"
      (arrived after a higher number of its flow: same source address and
      port), "dups", "flows", "min_ms" (smallest one-way time, taken after
      recvfrom: never below the true one)."""
import json
import os
import select
import socket
import struct
import sys
import time

FMT = "!QQ"


def send(ip, n, burst, gap_ms, ports, srcs):
    socks, dst = [], []
    for p in ports:
        for src in srcs:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            if src:
                s.bind((src, 0))
            socks.append(s)
            dst.append(p)
    seq = [0] * len(socks)
    pad = b"x" * (64 - struct.calcsize(FMT))
    for i in range(n):
        k = i % len(socks)
        msg = struct.pack(FMT, seq[k], time.time_ns()) + pad
        while True:
            try:
                socks[k].sendto(msg, (ip, dst[k]))
                break
            except BlockingIOError:
                time.sleep(0.001)
        seq[k] += 1
        if (i + 1) % burst == 0 and gap_ms > 0:
            time.sleep(gap_ms / 1000.0)


def recv(ports, expect, idle, ready):
    socks = {}
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 32 << 20)
        s.bind(("0.0.0.0", p))
        s.setblocking(False)
        socks[s] = p
    st = {p: {"received": 0, "reordered": 0, "dups": 0, "min_ms": None} for p in ports}
    flows = {}
    open(ready, "w").close()
    total, last = 0, None
    while total < expect:
        wait = idle if last is not None else 120
        r, _, _ = select.select(list(socks), [], [], wait)
        if not r:
            break
        for s in r:
            while True:
                try:
                    d, src = s.recvfrom(2048)
                except BlockingIOError:
                    break
                now = time.time_ns()
                seq, sent = struct.unpack_from(FMT, d)
                f = st[socks[s]]
                fl = flows.setdefault((socks[s], src), {"top": -1, "seen": set()})
                if seq in fl["seen"]:
                    f["dups"] += 1
                    continue
                fl["seen"].add(seq)
                f["received"] += 1
                total += 1
                if seq < fl["top"]:
                    f["reordered"] += 1
                fl["top"] = max(fl["top"], seq)
                ms = (now - sent) / 1e6
                if f["min_ms"] is None or ms < f["min_ms"]:
                    f["min_ms"] = ms
        last = time.monotonic()
    for (p, _), _ in flows.items():
        st[p]["flows"] = st[p].get("flows", 0) + 1
    out = {str(p): f for p, f in st.items()}
    print(json.dumps(out))


def main():
    a = sys.argv
    if a[1] == "send":
        srcs = a[7].split(",") if len(a) > 7 else [None]
        send(a[2], int(a[3]), int(a[4]), float(a[5]), [int(p) for p in a[6].split(",")], srcs)
    else:
        recv([int(p) for p in a[2].split(",")], int(a[3]), float(a[4]), a[5])


if __name__ == "__main__":
    main()
