# SPDX-License-Identifier: MIT
"""Faults from test code: the client of fallacy's control socket.

Run the tests under ``fallacy wrap --control`` (or give a lab's socket, see
``fallacy lab up --control-user``); the socket's path is in
``$FALLACY_CONTROL``. Standard library only. The protocol: docs/control.md.

    import fallacy

    with fallacy.fault("delay 200ms", port=6379):
        ...                       # every packet to or from port 6379 is late
    with fallacy.partition(port=6379):
        ...                       # nothing gets through
    f = fallacy.add("loss 10%", port=6379)
    print(f.counters()["dropped"])
    f.delete()

Fault words are those of ``fallacy fault add`` (``delay 50ms jitter 5ms``,
``loss 5%``, ``rate 1mbit``, ...); keyword arguments become its options:
``port=6379`` is ``--port 6379``, ``from_="n1"`` is ``--from n1``,
``bidir=True`` is ``--bidir``.
"""
import contextlib
import json
import os
import socket
import threading

__all__ = [
    "Control", "Fault", "FallacyError", "control", "add", "fault", "partition",
    "change", "delete", "clear", "faults", "counters", "version", "words",
]
__version__ = "0.1.0"
PROTOCOL = 1


class FallacyError(Exception):
    """A request the control socket refused (the message says why), or no
    socket to talk to."""


def words(spec, **options):
    """The words of ``fallacy fault add`` for spec ("delay 50ms" or a list
    of words) and keyword options (port=6379 -> --port 6379)."""
    out = spec.split() if isinstance(spec, str) else [str(w) for w in spec]
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.rstrip("_").replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            out += [flag, ",".join(str(v) for v in value)]
        else:
            out += [flag, str(value)]
    return out


class Fault:
    """A fault added through the socket; a context manager that deletes it."""

    def __init__(self, ctl, answer):
        self._ctl = ctl
        self.id = answer["id"]
        self.seed = answer.get("seed")
        self.rules = answer.get("rules")

    def counters(self):
        """This fault's counters: packets, bytes, dropped, delayed, ..."""
        got = self._ctl.counters(self.id)
        return got[0] if got else {}

    def change(self, spec):
        """New parameters, same kind ("delay 20ms"); counters are kept."""
        self._ctl.change(self.id, spec)

    def delete(self):
        self._ctl.delete(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.delete()
        except FallacyError:
            pass  # gone already (deleted inside, or its --duration ran out)
        return False

    def __repr__(self):
        return "<fallacy.Fault %s>" % self.id


class Control:
    """One connection to a control socket (default: $FALLACY_CONTROL).
    Thread-safe: one request at a time."""

    def __init__(self, path=None, timeout=30.0):
        self.path = path or os.environ.get("FALLACY_CONTROL")
        if not self.path:
            raise FallacyError(
                "FALLACY_CONTROL is not set: run the tests under "
                "`fallacy wrap --control -- ...` or give the socket's path")
        self.timeout = timeout
        self._sock = None
        self._rfile = None
        self._seq = 0
        self._lock = threading.Lock()

    def _connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as e:
            sock.close()
            raise FallacyError("cannot connect to %s: %s" % (self.path, e.strerror or e))
        self._sock, self._rfile = sock, sock.makefile("rb")

    def close(self):
        with self._lock:
            if self._sock:
                self._rfile.close()
                self._sock.close()
            self._sock = self._rfile = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def request(self, verb, fault=None, id=None):
        """Send one request, return its answer (a dict); FallacyError when
        it was refused."""
        req = {"verb": verb}
        if id is not None:
            req["id"] = id
        if fault is not None:
            req["fault"] = fault
        with self._lock:
            if not self._sock:
                self._connect()
            self._seq += 1
            req["seq"] = self._seq
            self._sock.sendall(json.dumps(req).encode() + b"\n")
            line = self._rfile.readline()
            if not line:
                self._sock.close()
                self._sock = None
                raise FallacyError("the control socket closed the connection")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise FallacyError(answer.get("error", "refused"))
        return answer

    def add(self, spec, **options):
        """Add a fault: add("delay 200ms", port=6379). Returns a Fault."""
        return Fault(self, self.request("add", words(spec, **options))["fault"])

    def fault(self, spec, **options):
        """A fault for the time of a with block."""
        return self.add(spec, **options)

    def partition(self, *groups, oneway=False, **options):
        """partition(["n1"], ["n2", "n3"]) in a lab; partition(port=6379)
        (no groups) drops every matching packet, in a wrap too."""
        spec = ["partition"] + [g if isinstance(g, str) else ",".join(g) for g in groups]
        if oneway:
            spec.append("oneway")
        return self.add(spec, **options)

    def change(self, fault_id, spec):
        self.request("change", words(spec), id=fault_id)

    def delete(self, fault_id):
        self.request("del", id=fault_id)

    def clear(self):
        """Delete every fault added through this socket; their ids."""
        return self.request("clear")["removed"]

    def faults(self):
        """The faults added through this socket, as `fault list -j` shows them."""
        return self.request("list")["faults"]

    def counters(self, fault_id=None):
        """Counters of every fault added through this socket (or of one)."""
        return self.request("counters", id=fault_id)["counters"]

    def version(self):
        return self.request("version")


_default = None
_default_lock = threading.Lock()


def control():
    """The module's connection to $FALLACY_CONTROL (made on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Control()
        return _default


def add(spec, **options):
    return control().add(spec, **options)


def fault(spec, **options):
    """with fallacy.fault("delay 200ms", port=6379): ..."""
    return control().fault(spec, **options)


def partition(*groups, **options):
    return control().partition(*groups, **options)


def change(fault_id, spec):
    control().change(fault_id, spec)


def delete(fault_id):
    control().delete(fault_id)


def clear():
    return control().clear()


def faults():
    return control().faults()


def counters(fault_id=None):
    return control().counters(fault_id)


def version():
    return control().version()
