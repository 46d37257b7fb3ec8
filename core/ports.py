"""What core needs from the outside world. bot/ and workers/ implement these; tests use fakes."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from core.effects import Effect, Owed
from core.policy.loader import LoadedPolicy


class PolicySource(Protocol):
    def current(self) -> LoadedPolicy: ...


class GroupDirectory(Protocol):
    def members(self, group_id: str) -> Collection[str]:
        """User ids in a reviewer group (Slack: usergroups.users.list)."""


class Dispatcher(Protocol):
    """Carries out a unit of work's effects right after its commit, in the process that committed.

    Must not raise. Durable effects are in the outbox already: what this drops, the relay carries
    out `grace_seconds` later. A process without one (the CLI) leaves them all to the relay."""

    grace_seconds: float

    def carries(self, kind: Effect) -> bool:
        """Whether this process can carry out effects of this kind (Slack ones need Slack credentials)."""

    def dispatch(self, owed: Sequence[Owed]) -> None: ...
