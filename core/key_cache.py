"""Agent keys a web process checked a moment ago, so the intake's hot path reads no agents row.

Only keys that were valid are kept, for `ttl` seconds (HITL_AGENT_KEY_CACHE_SECONDS): a new key
works at once, and a revoked or rotated one stops within `ttl` in every process. The cache holds
the key's hash, never the key."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from core.keys import hash_key
from core.services import AgentIdentity


class KeyCache:
    def __init__(self, ttl: float, size: int = 4096, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.size, self.clock = ttl, size, clock
        self._entries: OrderedDict[str, tuple[float, AgentIdentity]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> AgentIdentity | None:
        if self.ttl <= 0:
            return None
        digest = hash_key(key)
        with self._lock:
            found = self._entries.get(digest)
            if found is None:
                return None
            if self.clock() >= found[0]:
                del self._entries[digest]
                return None
            return found[1]

    def put(self, key: str, agent: AgentIdentity) -> None:
        if self.ttl <= 0:
            return
        digest = hash_key(key)
        with self._lock:
            self._entries[digest] = (self.clock() + self.ttl, agent)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
