"""Hand-written fakes of core's ports (see core/ports.py)."""
from __future__ import annotations

from collections.abc import Collection

from core.effects import Effect, Owed
from core.policy.loader import LoadedPolicy


class RecordingDispatcher:
    """core.ports.Dispatcher: remembers every effect handed to it after a commit, and carries out
    every kind (so the outbox rows of a test's changes wait the grace before a relay sees them)."""

    grace_seconds = 10.0

    def __init__(self) -> None:
        self.owed: list[Owed] = []

    def carries(self, kind: Effect) -> bool:
        return True

    def dispatch(self, owed) -> None:
        self.owed.extend(owed)

    def of(self, kind: Effect) -> list[Owed]:
        return [o for o in self.owed if o.kind is kind]

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(action id, status) of each long-poll wake-up: what used to be "action changed"."""
        return [(o.action_id, o.ref) for o in self.of(Effect.ACTION_CHANGED)]

    @property
    def reviews(self) -> list[str]:
        return [o.action_id for o in self.of(Effect.REVIEW_NEEDED)]

    @property
    def escalations(self) -> list[tuple[str, int]]:
        return [(o.action_id, int(o.ref)) for o in self.of(Effect.ESCALATED)]

    @property
    def spot_checks(self) -> list[str]:
        return [o.action_id for o in self.of(Effect.SPOT_CHECK_NEEDED)]

    def latest_timer(self, action_id: str) -> tuple[int, object]:
        """The newest timer set for this action: (timer_seq, at). A test fires it by moving the clock."""
        o = next(o for o in reversed(self.of(Effect.TIMER_SET)) if o.action_id == action_id)
        return o.timer_seq, o.at


class FixedPolicy:
    def __init__(self, loaded: LoadedPolicy) -> None:
        self.loaded = loaded

    def current(self) -> LoadedPolicy:
        return self.loaded


class StaticGroups:
    def __init__(self, groups: dict[str, Collection[str]]) -> None:
        self.groups = groups
        self.lookups: list[str] = []

    def members(self, group_id: str) -> Collection[str]:
        self.lookups.append(group_id)
        return self.groups.get(group_id, ())


def seal(services) -> int:
    """What a worker's sealer does a moment after each commit: chain every committed audit event."""
    from pathlib import Path

    from workers.sealer import Sealer

    return Sealer(None, Path("no-checkpoints"), 0).seal(services)
