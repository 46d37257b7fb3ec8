"""The runtime a job uses: installed by the process that runs the jobs, or built on first use.

`hitl worker` installs the one it built. A stock `rq worker` running our jobs has no such step,
so the first job builds it with the factory the installed package names under the
`hitl_gate.runtime` entry point (pyproject.toml): the composition root, bot/bootstrap.py, which
workers/ may not import (the dependency rule in ARCHITECTURE.md).
"""
from __future__ import annotations

import threading
from importlib.metadata import entry_points

_lock = threading.Lock()
_runtime = None


def use(runtime) -> None:
    global _runtime
    _runtime = runtime


def runtime():
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                found = entry_points(group="hitl_gate", name="runtime")
                if not found:
                    raise RuntimeError("no hitl_gate.runtime entry point: install the project (pip install -e .)")
                _runtime = next(iter(found)).load()(migrate=False)
    return _runtime
