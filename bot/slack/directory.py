"""Reviewer user groups (usergroups.users.list, Tier 2), cached in Redis and shared by every process.

Workers ask Slack and write the cache. The web process only reads it, so no Web API call with
its retries and Retry-After waits ever runs inside an ack: a group it finds stale still answers,
and one it has never seen (or cannot read, Redis being away) has no members, which fails closed.
Either way it asks a worker to look the group up (bot/slack/jobs.py, refresh_group).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection

import redis
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # after a failed lookup, or between two refresh requests for one group


class SlackGroupDirectory:
    def __init__(self, client: WebClient, store: redis.Redis, ttl: float = 60.0, fetch: bool = True,
                 request_refresh: Callable[[str], object] | None = None, clock=time.time):
        self.client, self.store, self.ttl, self.fetch = client, store, ttl, fetch
        self.request_refresh, self.clock = request_refresh, clock

    def reading_only(self) -> SlackGroupDirectory:
        """The same cache for code that runs inside an ack: it never calls Slack itself."""
        return SlackGroupDirectory(self.client, self.store, self.ttl, fetch=False,
                                   request_refresh=self.request_refresh, clock=self.clock)

    def members(self, group_id: str) -> Collection[str]:
        cached = self._read(group_id)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        if self.fetch:
            fetched = self.refresh(group_id)
            if fetched is not None:
                return fetched
        else:
            self._ask_for_refresh(group_id)
        return cached[1] if cached is not None else frozenset()

    def known(self, group_id: str) -> bool:
        return self._read(group_id) is not None

    def refresh(self, group_id: str) -> frozenset[str] | None:
        """Ask Slack now and store the answer; None when Slack or Redis would not say."""
        try:
            if not self.store.set(f"hitl:group-asking:{group_id}", "1", nx=True, ex=int(RETRY_SECONDS)):
                return None  # another process asked a moment ago
            users = frozenset(self.client.usergroups_users_list(usergroup=group_id)["users"])
            self.store.set(self._key(group_id), json.dumps({"at": self.clock(), "users": sorted(users)}))
            self.store.delete(f"hitl:group-asking:{group_id}")
            return users
        except SlackClientError as exc:
            error = exc.response.get("error") if hasattr(exc, "response") else exc.__class__.__name__
            log.warning("usergroups.users.list %s failed: %s", group_id, error)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not refresh user group %s: %s", group_id, exc.__class__.__name__)
        return None

    def _ask_for_refresh(self, group_id: str) -> None:
        if self.request_refresh is None:
            return
        try:
            if self.store.set(f"hitl:group-requested:{group_id}", "1", nx=True, ex=int(RETRY_SECONDS)):
                self.request_refresh(group_id)
        except redis.RedisError:
            pass

    def _read(self, group_id: str) -> tuple[float, frozenset[str]] | None:
        try:
            raw = self.store.get(self._key(group_id))
        except redis.RedisError:
            return None
        if not raw:
            return None
        data = json.loads(raw)
        return float(data["at"]), frozenset(data["users"])

    @staticmethod
    def _key(group_id: str) -> str:
        return f"hitl:group:{group_id}"
