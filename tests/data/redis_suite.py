#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A small, real test suite against a redis-server it starts itself on
127.0.0.1:6379, with its own RESP client (python3 has no redis module here).
Used to show that `fallacy wrap` works for real suites:

    sudo fallacy wrap --delay 20ms --port 6379 -- python3 tests/data/redis_suite.py
    sudo fallacy wrap --loss 100% --port 6379 -- python3 tests/data/redis_suite.py
    sudo fallacy wrap --control -- python3 tests/data/redis_suite.py

Under `wrap --control` one more test adds a fault itself, mid-test, through
the control socket (python/fallacy, the Python client).

Environment: REDIS_PORT (6379), REDIS_ROUNDTRIPS (40 sequential commands in
test_sequential_roundtrips), REDIS_READY_TIMEOUT (3 s).
"""
import os
import shutil
import statistics
import socket
import subprocess
import tempfile
import time
import unittest
import sys

# the client from this repository, when it is not installed
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

HOST = "127.0.0.1"
PORT = int(os.environ.get("REDIS_PORT", "6379"))
ROUNDTRIPS = int(os.environ.get("REDIS_ROUNDTRIPS", "40"))
READY_TIMEOUT = float(os.environ.get("REDIS_READY_TIMEOUT", "3"))


class RespError(Exception):
    pass


class Resp:
    """Just enough of RESP2: commands as arrays of bulk strings; replies
    of every type."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RespError("unknown reply type %r" % line)

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def cmd(self, *args):
        self.sock.sendall(self.encode(*args))
        return self._reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self._reply() for _ in commands]


def wait_ready(proc):
    deadline = time.monotonic() + READY_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("redis-server exited with status %d" % proc.returncode)
        try:
            c = Resp(HOST, PORT, timeout=0.5)
            try:
                if c.cmd("PING") == "PONG":
                    return
            finally:
                c.close()
        except (OSError, RespError) as e:
            last = e
        time.sleep(0.05)
    raise RuntimeError("redis-server did not answer PING on %s:%d within %.1f s (%s)"
                       % (HOST, PORT, READY_TIMEOUT, last))


class RedisSuite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        exe = shutil.which("redis-server")
        if not exe:
            raise unittest.SkipTest("redis-server is not installed")
        cls.dir = tempfile.mkdtemp(prefix="redis-suite-")
        cls.proc = subprocess.Popen(
            [exe, "--bind", HOST, "--port", str(PORT), "--save", "", "--appendonly", "no",
             "--dir", cls.dir, "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(cls.proc)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        try:
            cls.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
            cls.proc.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.r = Resp(HOST, PORT)
        self.r.cmd("FLUSHALL")

    def tearDown(self):
        self.r.close()

    def test_set_get(self):
        self.assertEqual(self.r.cmd("SET", "k", "v"), "OK")
        self.assertEqual(self.r.cmd("GET", "k"), b"v")
        self.assertIsNone(self.r.cmd("GET", "missing"))

    def test_incr(self):
        for i in range(1, 6):
            self.assertEqual(self.r.cmd("INCR", "n"), i)

    def test_list(self):
        self.r.cmd("RPUSH", "l", "a", "b", "c")
        self.assertEqual(self.r.cmd("LRANGE", "l", 0, -1), [b"a", b"b", b"c"])

    def test_error_reply(self):
        self.r.cmd("SET", "s", "text")
        with self.assertRaises(RespError):
            self.r.cmd("INCR", "s")

    def test_pipeline(self):
        replies = self.r.pipeline([("SET", "p%d" % i, i) for i in range(100)])
        self.assertEqual(replies, ["OK"] * 100)
        self.assertEqual(self.r.cmd("DBSIZE"), 100)

    def test_large_value(self):
        value = os.urandom(512 * 1024)
        self.assertEqual(self.r.cmd("SET", "big", value), "OK")
        self.assertEqual(self.r.cmd("GET", "big"), value)

    def test_sequential_roundtrips(self):
        start = time.monotonic()
        for i in range(ROUNDTRIPS):
            self.assertEqual(self.r.cmd("SET", "seq", i), "OK")
        per = (time.monotonic() - start) / ROUNDTRIPS
        print("\nroundtrip %.2f ms" % (per * 1e3), flush=True)

    def ping_ms(self, n=3):
        """The median of n PINGs, in ms."""
        times = []
        for _ in range(n):
            start = time.monotonic()
            self.assertEqual(self.r.cmd("PING"), "PONG")
            times.append((time.monotonic() - start) * 1e3)
        return statistics.median(times)

    @unittest.skipUnless(os.environ.get("FALLACY_CONTROL"), "not under fallacy wrap --control")
    def test_slow_link_mid_test(self):
        """The test turns a fault on for part of itself: 30 ms on every
        packet to or from redis (both ways on loopback: +60 ms a PING)."""
        import fallacy

        before = self.ping_ms()
        with fallacy.fault("delay 30ms", port=PORT) as f:
            during = self.ping_ms()
            self.assertGreaterEqual(during, 57)
            self.assertGreater(f.counters()["delayed"], 0)
        after = self.ping_ms()
        self.assertLess(after, during - 40)
        print("\nping %.2f ms, %.2f ms with delay 30ms, %.2f ms after" % (before, during, after),
              flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
