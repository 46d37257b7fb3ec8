"""Wake long-polls when their action changes.

One Redis pub/sub subscription per web process fans notifications out to local asyncio events,
so a thousand waiting agents cost one connection, not a thousand database polls. Waiters also
re-read the database every `recheck` seconds, which covers a notification lost while Redis was away.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

import redis.asyncio as aioredis

from workers.pubsub import CHANNEL_PREFIX

log = logging.getLogger(__name__)


class DecisionWaiter:
    def __init__(self, redis_url: str, recheck: float = 5.0):
        self.redis_url, self.recheck = redis_url, recheck
        self._events: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self.subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="decision-waiter")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            # Bounded: closing a Redis connection while cancelled once hung a test's shutdown for good.
            await asyncio.wait({self._task}, timeout=5)

    @contextlib.contextmanager
    def watch(self, action_id: str):
        # Remember the waiter's loop: notifications arrive on the listener's loop, which need not be the same.
        entry = (asyncio.get_running_loop(), asyncio.Event())
        self._events[action_id].add(entry)
        try:
            yield entry[1]
        finally:
            waiters = self._events.get(action_id)
            if waiters is not None:
                waiters.discard(entry)
                if not waiters:
                    del self._events[action_id]

    def waiting(self, action_id: str) -> int:
        """How many long-polls of this process wait on the action right now."""
        return len(self._events.get(action_id, ()))

    def _wake(self, action_id: str | None = None) -> None:
        targets = self._events.get(action_id, ()) if action_id else [e for s in self._events.values() for e in s]
        for loop, event in list(targets):
            loop.call_soon_threadsafe(event.set)

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            client = aioredis.Redis.from_url(self.redis_url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                    self.subscribed.set()
                    self._wake()  # anything may have changed while we were not listening
                    backoff = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") == "pmessage":
                            channel = message["channel"].decode()
                            self._wake(channel[len(CHANNEL_PREFIX):])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: long-polls fall back to the slow recheck
                self.subscribed.clear()
                log.warning("decision notifications unavailable (%s); retrying in %.1fs", exc.__class__.__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
