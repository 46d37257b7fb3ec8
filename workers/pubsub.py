"""Tell waiting long-polls that an action changed, over Redis pub/sub."""
from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "hitl:action:"


def channel(action_id: str) -> str:
    return CHANNEL_PREFIX + action_id


class RedisNotifier:
    def __init__(self, client: redis.Redis):
        self.client = client

    def action_changed(self, action_id: str, status: str) -> None:
        try:
            self.client.publish(channel(action_id), str(status))
        except redis.RedisError as exc:
            # The decision is committed; waiters re-read the database on a slow timer, so this only costs latency.
            log.warning("could not publish change of %s (%s): %s", action_id, status, exc)
