# SPDX-License-Identifier: MIT
"""A controller of ``fallacy agent --stdio`` (docs/agent.md): faults on
this host's namespaces or another host's, over ssh, that end by themselves
when the controller goes.

    from fallacy.agent import Agent

    with Agent(ssh="root@h1") as h1:             # or Agent(local=True)
        h1.put("db", ["delay 50ms", "loss 5%"], lease="6s")
        ...                                       # renewed in the background
    # closed: the faults are reset; killed: they end with their lease

A target is a namespace name ("db"), a pid (4242) or a dict as the
protocol has it ({"netns": "/proc/4242/ns/net"}, {"pod": UID}). Standard
library only.
"""
import json
import re
import subprocess
import threading

__all__ = ["Agent", "AgentError"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class AgentError(Exception):
    """A request the agent refused (the message says why), or an agent that
    could not be reached."""


def _seconds(lease):
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h)?\s*", str(lease))
    if not m:
        raise AgentError("lease %r: a duration such as 10s or 500ms" % (lease,))
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def _target(t):
    if isinstance(t, dict):
        return t
    if isinstance(t, int):
        return {"pid": t}
    return {"netns": str(t)}


class Agent:
    """One agent, on pipes (local=True), over ssh (ssh="USER@HOST",
    ssh_options=["Port=2222", ...] for ssh's -o, remote= the command on the
    host, default "sudo fallacy agent --stdio") or in an agent pod of the
    DaemonSet (kubectl="POD", namespace="fallacy", context=None; remote=
    the command's words, default "fallacy agent --stdio"; docs/kubernetes.md).
    What put puts is renewed every third of its lease by a thread until
    close(), which resets it."""

    def __init__(self, ssh=None, local=False, ssh_options=(), remote=None,
                 fallacy="fallacy", timeout=60.0, kubectl=None, namespace="fallacy",
                 context=None):
        if bool(ssh) + bool(local) + bool(kubectl) != 1:
            raise AgentError("give one of ssh='USER@HOST', local=True or kubectl='POD'")
        if local:
            argv = [fallacy, "agent", "--stdio"]
        elif kubectl:
            for what, name in (("kubectl", kubectl), ("namespace", namespace),
                               ("context", context or "x")):
                if name.startswith("-") or not re.fullmatch(r"[^\s]+", name):
                    raise AgentError("%s=%r is not a name" % (what, name))
            argv = ["kubectl"] + (["--context=" + context] if context else [])
            argv += ["exec", "-i", "-n", namespace, kubectl, "--"]
            argv += (remote or "fallacy agent --stdio").split()
        else:
            if ssh.startswith("-"):
                raise AgentError("ssh=%r is not a host" % ssh)
            argv = ["ssh", "-T", "-o", "BatchMode=yes"]
            for opt in ssh_options:
                argv += ["-o", opt]
            argv += [ssh, remote or "sudo fallacy agent --stdio"]
        self._p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True, bufsize=1)
        self._lock = threading.Lock()
        self._held = {}  # json of the target -> (target, lease seconds)
        self._stop = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._renew, daemon=True)
        self._thread.start()

    def request(self, verb, **members):
        """One request; the answer as a dict. Refused: AgentError."""
        line = json.dumps(dict(verb=verb, **members), separators=(",", ":"))
        with self._lock:
            try:
                self._p.stdin.write(line + "\n")
                self._p.stdin.flush()
                answer = self._p.stdout.readline()
            except (BrokenPipeError, ValueError) as e:
                raise AgentError("the agent is gone: %s" % e) from None
        if not answer:
            raise AgentError("the agent is gone (see its messages on stderr)")
        a = json.loads(answer)
        if not a.get("ok"):
            raise AgentError(a.get("error", answer.strip()))
        return a

    def version(self):
        return self.request("version")

    def targets(self):
        return self.request("targets")["targets"]

    def put(self, target, faults, lease="10s"):
        """Make target's faults exactly faults (each the words of `fallacy
        fault add`), and keep renewing them."""
        t = _target(target)
        a = self.request("put", target=t, faults=list(faults), lease=str(lease))
        key = json.dumps(t, sort_keys=True)
        if faults:
            self._held[key] = (t, _seconds(lease))
        else:
            self._held.pop(key, None)
        return a

    def reset(self, target):
        t = _target(target)
        self._held.pop(json.dumps(t, sort_keys=True), None)
        return self.request("reset", target=t)

    def list(self, target=None):
        if target is None:
            return self.request("list")["targets"]
        return self.request("list", target=_target(target))["faults"]

    def _renew(self):
        while not self._stop.wait(min([s for _, s in self._held.values()] or [1.0]) / 3):
            for t, s in list(self._held.values()):
                try:
                    self.request("renew", target=t, lease="%gms" % (s * 1000))
                except AgentError as e:
                    self._error = e

    def close(self):
        """Stop renewing, reset what was put, end the agent."""
        self._stop.set()
        self._thread.join()
        for t, _ in list(self._held.values()):
            try:
                self.reset(t)
            except AgentError:
                pass
        try:
            self._p.stdin.close()
        except OSError:
            pass
        self._p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
