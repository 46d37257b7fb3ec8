"""Which actions a stats question covers (Scope) and over which hours (Window)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core import rollups
from core.services import Services
from core.store.tables import Action, Agent


@dataclass(frozen=True)
class Window:
    days: int
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end: datetime, days: int) -> Window:
        """Windows end on the hour (the current one: the end of this hour), so rollups cover them exactly."""
        end = ceil_to(end, "hour")
        return cls(days=days, start=end - timedelta(days=days), end=end)

    def previous(self) -> Window:
        return Window.ending(self.start, self.days)


@dataclass(frozen=True)
class Scope:
    """Which actions count: some agents', one action type's, both, or all; for someone who is not a
    manager, only within the action types they review (`only_types`)."""

    label: str
    agent_ids: tuple[int, ...] | None = None
    action_type: str | None = None
    only_types: tuple[str, ...] | None = None

    def filter(self, stmt, table=Action):
        """Narrow a statement over `table` (actions, or anything with agent_id and action_type columns)."""
        if self.agent_ids is not None:
            stmt = stmt.where(table.agent_id.in_(self.agent_ids))
        if self.action_type is not None:
            stmt = stmt.where(table.action_type == self.action_type)
        if self.only_types is not None:
            stmt = stmt.where(table.action_type.in_(self.only_types))
        return stmt

    def narrow(self, stmt, action_id):
        """Filter a statement over a table that refers to actions, joining them only when the scope needs it."""
        if self.agent_ids is None and self.action_type is None and self.only_types is None:
            return stmt
        return self.filter(stmt.join(Action, Action.id == action_id))


def scope_of(services: Services, subject: str | None, only_types: tuple[str, ...] | None = None) -> Scope:
    """A subject naming an agent scopes by agent; otherwise it names an action type."""
    if subject is None:
        label = "all action types" if only_types is None else "the action types you review"
        return Scope(label, only_types=only_types)
    with services.db.read() as s:
        ids = tuple(s.scalars(select(Agent.id).where(Agent.name == subject)))
    if ids:
        return Scope(subject, agent_ids=ids, only_types=only_types)
    return Scope(subject, action_type=subject, only_types=only_types)


def ceil_to(moment: datetime, grain: str) -> datetime:
    floor = rollups.floor_to(moment, grain)
    return floor if floor == moment else floor + rollups.GRAINS[grain]


