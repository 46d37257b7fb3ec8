"""What core needs from the outside world. bot/ and workers/ implement these; tests use fakes."""
from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from core.policy.loader import LoadedPolicy


class Notifier(Protocol):
    def action_changed(self, action_id: str, status: str) -> None:
        """Called after a commit that changed an action's status. Must not raise; losing one is tolerable
        because waiters re-read the database on a slow timer as well."""


class PolicySource(Protocol):
    def current(self) -> LoadedPolicy: ...


class GroupDirectory(Protocol):
    def members(self, group_id: str) -> Collection[str]:
        """User ids in a reviewer group (Slack: usergroups.users.list)."""


class ReviewPublisher(Protocol):
    def review_needed(self, action_id: str) -> None:
        """Called after a commit that created a pending action: show it to reviewers.
        Must not raise: the database is the source of truth and a reconciler catches up."""
