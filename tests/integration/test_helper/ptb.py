#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Send one ICMP "fragmentation needed" (IPv4, type 3 code 4) or ICMPv6
"packet too big" (type 2) to TO, as a router would: it quotes an ICMP echo
reply of SIZE bytes from QSRC to QDST and says the next hop's MTU is MTU.

Linux learns a path MTU from such a message (for a quoted echo reply no
socket is needed: icmp_err / icmpv6_err update the route), which
`ip route get QDST` in TO's namespace then shows as "mtu MTU".

    ptb.py TO QSRC QDST MTU [SIZE]      (run it in the namespace that sends)
"""
import ipaddress
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def quote4(qsrc, qdst, size):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size, 0, 0x4000, 64, 1, 0,
                     qsrc.packed, qdst.packed)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + struct.pack("!BBHHH", 0, 0, 0, 0x4242, 1)  # echo reply


def quote6(qsrc, qdst, size):
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, size - 40, 58, 64, qsrc.packed, qdst.packed)
    return ip6 + struct.pack("!BBHHH", 129, 0, 0, 0x4242, 1)  # echo reply


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    to, qsrc, qdst = (ipaddress.ip_address(a) for a in sys.argv[1:4])
    mtu = int(sys.argv[4])
    size = int(sys.argv[5]) if len(sys.argv) == 6 else 1500
    if to.version == 4:
        body = quote4(qsrc, qdst, size)
        msg = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + body
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    else:
        body = quote6(qsrc, qdst, size)
        msg = struct.pack("!BBHI", 2, 0, 0, mtu) + body  # the kernel sums ICMPv6
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.sendto(msg, (str(to), 0))
    print("sent %s packet-too-big to %s quoting %s -> %s (%d bytes), mtu %d"
          % ("ICMP" if to.version == 4 else "ICMPv6", to, qsrc, qdst, size, mtu))


if __name__ == "__main__":
    main()
