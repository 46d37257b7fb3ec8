"""Reviewer user groups via usergroups.users.list (Tier 2, so cached briefly)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class SlackGroupDirectory:
    def __init__(self, client: WebClient, ttl: float = 60.0, clock=time.monotonic):
        self.client, self.ttl, self.clock = client, ttl, clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> Collection[str]:
        now = self.clock()
        hit = self._cache.get(group_id)
        if hit and hit[0] > now:
            return hit[1]
        try:
            users = frozenset(self.client.usergroups_users_list(usergroup=group_id)["users"])
            expires = now + self.ttl
        except SlackApiError as exc:
            # Fail closed (nobody from this group may decide), and ask again soon rather than in a minute.
            log.warning("usergroups.users.list %s failed: %s", group_id, exc.response.get("error"))
            users, expires = frozenset(), now + min(self.ttl, 5.0)
        with self._lock:
            self._cache[group_id] = (expires, users)
        return users
