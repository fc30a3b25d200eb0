# SPDX-License-Identifier: MIT
"""Delay turned on and off between tests through the control socket, and
measured: a TCP echo server on 127.0.0.1 and the median round trip of a
few one-byte echoes. Under `fallacy wrap --control` a `delay 50ms` on the
server's port delays each packet once on its way in (both directions on
loopback), so a round trip gains 100 ms. Prints "rtt NAME MS" lines."""
import socket
import statistics
import threading
import time

import pytest

import fallacy

PORT = 7707
ROUNDS = 5


def _serve(lsock):
    while True:
        try:
            conn, _ = lsock.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_echo, args=(conn,), daemon=True).start()


def _echo(conn):
    with conn:
        while True:
            data = conn.recv(64)
            if not data:
                return
            conn.sendall(data)


@pytest.fixture(scope="session")
def echo_server():
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", PORT))
    lsock.listen(8)
    threading.Thread(target=_serve, args=(lsock,), daemon=True).start()
    yield PORT
    lsock.close()


def rtt_ms(port, name, timeout=5.0):
    """Median of ROUNDS one-byte echoes over one connection, in ms."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(ROUNDS):
            t = time.monotonic()
            s.sendall(b"x")
            assert s.recv(1) == b"x"
            times.append((time.monotonic() - t) * 1000)
    med = statistics.median(times)
    print("rtt %s %.3f" % (name, med))
    return med


def test_1_no_fault_is_fast(echo_server):
    assert rtt_ms(echo_server, "before") < 50


def test_2_delay_on(echo_server, fallacy_faults):
    f = fallacy_faults.add("delay 50ms", port=echo_server)
    assert f.id
    ms = rtt_ms(echo_server, "delay-50ms")
    assert 95 <= ms < 2000
    assert f.counters()["delayed"] > 0


def test_3_delay_off_again(echo_server, fallacy_control):
    assert fallacy_control.faults() == []
    assert rtt_ms(echo_server, "after") < 50


def test_4_with_block_and_change(echo_server):
    with fallacy.fault("delay 20ms", port=echo_server) as f:
        assert 38 <= rtt_ms(echo_server, "delay-20ms") < 2000
        f.change("delay 40ms")
        assert 78 <= rtt_ms(echo_server, "delay-40ms") < 2000
    assert rtt_ms(echo_server, "after-with") < 50


def test_5_partition_cuts_the_port(echo_server):
    with fallacy.partition(port=echo_server) as f:
        with pytest.raises(OSError):
            rtt_ms(echo_server, "partition", timeout=0.5)
        assert f.counters()["dropped"] > 0
    assert rtt_ms(echo_server, "healed") < 50
