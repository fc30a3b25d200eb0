# SPDX-License-Identifier: MIT
"""A pytest suite run by tests/integration/agent.bats: the fixtures come
from the client in python/ (installed, it registers itself; from the tree,
this line does)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
pytest_plugins = ["fallacy.pytest_plugin"]
