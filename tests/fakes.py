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
