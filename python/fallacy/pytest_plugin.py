# SPDX-License-Identifier: MIT
"""pytest fixtures for fallacy's control socket.

Registered as a pytest plugin when the package is installed (pip or the
Debian package); otherwise add ``pytest_plugins = ["fallacy.pytest_plugin"]``
to a conftest.py.

    def test_slow_redis(fallacy_faults):
        fallacy_faults.add("delay 200ms", port=6379)
        ...                       # removed again after the test

Without ``$FALLACY_CONTROL`` (the suite not run under ``fallacy wrap
--control``) the tests that use these fixtures are skipped.

Faults on other hosts, through their agents (docs/agent.md):

    def test_slow_db(fallacy_agents):
        h1 = fallacy_agents.connect(ssh="root@h1")
        h1.put("db", ["delay 200ms"], lease="6s")
        ...                       # renewed during the test, reset after it
"""
import os

import pytest

import fallacy


@pytest.fixture(scope="session")
def fallacy_control():
    """The session's connection to the control socket."""
    if not os.environ.get("FALLACY_CONTROL"):
        pytest.skip("not run under `fallacy wrap --control` (FALLACY_CONTROL is not set)")
    ctl = fallacy.Control()
    yield ctl
    ctl.close()


class FaultScope:
    """Faults of one test: every one added here is deleted after it."""

    def __init__(self, ctl):
        self.control = ctl
        self._added = []

    def add(self, spec, **options):
        f = self.control.add(spec, **options)
        self._added.append(f)
        return f

    fault = add

    def partition(self, *groups, **options):
        f = self.control.partition(*groups, **options)
        self._added.append(f)
        return f

    def remove_all(self):
        while self._added:
            f = self._added.pop()
            try:
                f.delete()
            except fallacy.FallacyError:
                pass  # deleted by the test itself, or expired


@pytest.fixture
def fallacy_faults(fallacy_control):
    """Faults for one test, removed when it ends (passed or not)."""
    faults = FaultScope(fallacy_control)
    yield faults
    faults.remove_all()


class AgentScope:
    """Agents of one test: each one connected here is closed after it, which
    resets what it put (a killed test run lets the faults end with their
    lease instead)."""

    def __init__(self):
        self._agents = []

    def connect(self, **kwargs):
        from fallacy.agent import Agent

        a = Agent(**kwargs)
        self._agents.append(a)
        return a

    def close_all(self):
        while self._agents:
            self._agents.pop().close()


@pytest.fixture
def fallacy_agents():
    """Connect to agents (fallacy.agent.Agent's arguments) for one test."""
    agents = AgentScope()
    yield agents
    agents.close_all()
