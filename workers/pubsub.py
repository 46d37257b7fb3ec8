"""Wake the agents' long-polls when an action changes, over Redis pub/sub (bot/web/waiter.py listens)."""
from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "hitl:action:"


def channel(action_id: str) -> str:
    return CHANNEL_PREFIX + action_id


def publish(client: redis.Redis, action_id: str, status: str) -> None:
    try:
        client.publish(channel(action_id), str(status))
    except redis.RedisError as exc:
        # The change is committed; waiters re-read the database on a slow timer, so this only costs latency.
        log.warning("could not publish change of %s (%s): %s", action_id, status, exc)
