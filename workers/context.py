"""The runtime a job uses: built once per worker process from Settings, or installed by a test."""
from __future__ import annotations

import threading

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
                from bot.bootstrap import build_runtime  # the composition root

                _runtime = build_runtime(migrate=False)
    return _runtime
