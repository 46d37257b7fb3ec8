"""Slack allows about one message per second per channel: take a slot before chat.postMessage.

A slot is a Redis key per channel that lives one interval; every worker on every machine shares it.
A poster that finds it taken waits out what is left of it, so a burst is spread rather than 429'd.
"""
from __future__ import annotations

import time

import redis

INTERVAL_MS = 1000


def take_slot(connection: redis.Redis, channel: str, interval_ms: int = INTERVAL_MS, max_wait: float = 120.0) -> float:
    """Blocks until this channel may take another message; returns the seconds waited."""
    if interval_ms <= 0:
        return 0.0
    key = f"hitl:pace:{channel}"
    waited = 0.0
    while not connection.set(key, "1", nx=True, px=interval_ms):
        if waited >= max_wait:
            raise TimeoutError(f"no posting slot for {channel} after {waited:.0f}s")
        pause = max(connection.pttl(key), 5) / 1000
        time.sleep(pause)
        waited += pause
    return waited
