"""Hand-written fakes of core's ports (see core/ports.py)."""
from __future__ import annotations

from collections.abc import Collection

from core.policy.loader import LoadedPolicy


class RecordingNotifier:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def action_changed(self, action_id: str, status: str) -> None:
        self.calls.append((action_id, str(status)))


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


class RecordingTimers:
    """core.ports.Timers: remembers the newest timer per action; a test fires them by moving the clock."""

    def __init__(self) -> None:
        self.set_calls: list[tuple[str, int, object]] = []

    def set(self, action_id: str, timer_seq: int, at) -> None:
        self.set_calls.append((action_id, timer_seq, at))

    def latest(self, action_id: str) -> tuple[int, object]:
        seq, at = next((s, a) for i, s, a in reversed(self.set_calls) if i == action_id)
        return seq, at


class RecordingPublisher:
    """core.ports.ReviewPublisher."""

    def __init__(self) -> None:
        self.reviews: list[str] = []
        self.escalations: list[tuple[str, int]] = []
        self.audits: list[str] = []

    def review_needed(self, action_id: str) -> None:
        self.reviews.append(action_id)

    def escalated(self, action_id: str, seq: int) -> None:
        self.escalations.append((action_id, seq))

    def audit_needed(self, action_id: str) -> None:
        self.audits.append(action_id)
