"""Waiting for a condition instead of sleeping: tests say what they wait for, and a busy machine
only makes them slower, never wrong. The deadline is a hang guard, generous on purpose; nothing
here measures how fast anything is (bench/ does that)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """The first truthy value of `predicate()`, polled every `interval` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def answers(url: str, **params) -> bool:
    """Whether a server answers 200 at `url` yet (a predicate for wait_for)."""
    import httpx

    try:
        return httpx.get(url, params=params, timeout=5).status_code == 200
    except httpx.TransportError:
        return False
