"""One write use case, one transaction: the change, its audit log events, its rollup tallies and its effects.

Service functions say what happened (`log`, `count_*`, `owe`, `action_changed`); the unit of work
writes it all in the change's own transaction, in the order that keeps locks short (the rollup rows
last but the audit events, which lock nothing), and after the commit hands the effects to the
process's dispatcher. The durable ones are in the outbox by then, so a process that dies after its
commit, or has no dispatcher at all (the CLI), leaves them to the workers' relay instead of losing
them. A write that only adds rows (a new proposal) uses core/insert_plan.py: the same parts, sent
as one statement.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import audit_log, outbox, rollups, states
from core.effects import Effect, Owed
from core.services import Services
from core.store.tables import Action, Vote
from core.vocabulary import Status

# The decision, not the outcome the agent reports afterwards: that is what a callback carries.
CALLBACK_STATUSES = frozenset(states.DECIDED - {Status.EXECUTED, Status.FAILED})


class Work:
    def __init__(self, session: Session, now: datetime):
        self.session = session
        self.now = now
        self.events: list[tuple[str, str | None, Mapping[str, Any]]] = []
        self.owed: list[Owed] = []
        self._seen: set[Owed] = set()

    def due(self, services: Services) -> Callable[[Owed], datetime]:
        """When each effect's outbox row falls to the relay: at once for what this process cannot
        carry out (the CLI), after the grace period for what its dispatcher does right after the commit."""
        dispatcher = services.dispatcher
        later = self.now + timedelta(seconds=dispatcher.grace_seconds) if dispatcher else self.now
        return lambda o: later if dispatcher is not None and dispatcher.carries(o.kind) else self.now

    # ---- the audit log ----
    def log(self, kind: str, action_id: str | None, data: Mapping[str, Any]) -> None:
        self.events.append((kind, action_id, data))

    # ---- the /hitl-stats rollups ----
    def count_proposed(self, action: Action) -> None:
        rollups.proposed(self.session, action)

    def count_vote(self, action: Action, vote: Vote) -> None:
        rollups.voted(self.session, action, vote)

    def count_decided(self, action: Action) -> None:
        rollups.decided(self.session, action)

    # ---- effects ----
    def owe(self, kind: Effect, action_id: str, ref: str | int = "") -> None:
        owed = Owed(kind, action_id, str(ref))
        if owed not in self._seen:  # a batch may change one action twice; one effect carries both
            self._seen.add(owed)
            self.owed.append(owed)

    def timer(self, action_id: str, timer_seq: int, at: datetime) -> None:
        self.owed.append(Owed(Effect.TIMER_SET, action_id, at=at, timer_seq=timer_seq))

    def action_changed(self, action: Action, *, reviewed: bool = True) -> None:
        """Wake the agent's long-poll; refresh the review message (`reviewed`: the action has or had
        one); owe the agent its callback once the action is decided."""
        self.owe(Effect.ACTION_CHANGED, action.id, action.status)
        if reviewed:
            self.owe(Effect.REVIEW_CHANGED, action.id)
        if action.callback_url and Status(action.status) in CALLBACK_STATUSES:
            self.owe(Effect.CALLBACK_OWED, action.id)

    def _finish(self, services: Services) -> None:
        s = self.session
        s.flush()
        outbox.write(s, self.owed, self.now, self.due(services))
        rollups.fold_staged(s)
        if self.events:
            audit_log.append_many(s, self.events, self.now)


@contextmanager
def unit_of_work(services: Services) -> Iterator[Work]:
    """Commits when the block ends normally, rolls back (writing and dispatching nothing) when it raises."""
    with services.db.transaction() as s:
        work = Work(s, services.clock())
        yield work
        work._finish(services)
    if services.dispatcher is not None and work.owed:
        services.dispatcher.dispatch(work.owed)
