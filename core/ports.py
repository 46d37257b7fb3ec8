"""What core needs from the outside world. bot/ and workers/ implement these; tests use fakes."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
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
    """Called after a commit; must not raise: the database is the source of truth and a reconciler catches up."""

    def review_needed(self, action_id: str) -> None:
        """A pending action was created: show it to reviewers."""

    def escalated(self, action_id: str, seq: int) -> None:
        """Escalation `seq` fired: tell its targets (a thread reply and direct messages)."""

    def audit_needed(self, action_id: str) -> None:
        """An auto-approved action was sampled: show it in the audit channel."""


class Timers(Protocol):
    def set(self, action_id: str, timer_seq: int, at: datetime) -> None:
        """Make sure escalation.fire_due runs at `at` or later, never earlier. Must not raise: the
        timer lives in the database too, and the reconciler rebuilds lost ones."""
