"""The outbox table's three users: the unit of work writes rows, the relay carries out the due ones,
and the job that did the work settles them (core/effects.py says what each kind means)."""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from core.effects import Effect, Owed
from core.services import Services
from core.store.db import affected
from core.store.tables import OutboxRow

MAX_BACKOFF_SECONDS = 600.0


def write(s: Session, owed: Sequence[Owed], now: datetime, due: Callable[[Owed], datetime]) -> None:
    """Inside the change's transaction: one statement for all of a unit of work's durable effects."""
    if rows := row_values(owed, now, due):
        s.execute(insert(OutboxRow), rows)


def row_values(owed: Sequence[Owed], now: datetime, due: Callable[[Owed], datetime]) -> list[dict]:
    return [{"kind": o.kind.value, "action_id": o.action_id, "ref": o.ref, "created_at": now, "due_at": due(o),
             "attempts": 0} for o in owed if o.durable]


def take_due(services: Services, kinds: Collection[Effect], grace_seconds: float, limit: int = 200) -> list[Owed]:
    """The relay's read: open rows that are due, pushed back (doubling from `grace_seconds`) before
    they are returned, so a row whose job is lost again comes round again, and a row whose job
    is merely slow does not flood the queues. Rows another relay holds are skipped (PostgreSQL)."""
    if not kinds:
        return []
    now = services.clock()
    due = (OutboxRow.done_at.is_(None), OutboxRow.due_at <= now, OutboxRow.kind.in_([k.value for k in kinds]))
    query = select(OutboxRow).where(*due).order_by(OutboxRow.id).limit(limit)
    if not services.db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    with services.db.read() as s:  # cheap when nothing is due, which is nearly always: no write lock taken
        if s.scalar(select(OutboxRow.id).where(*due).limit(1)) is None:
            return []
    with services.db.transaction() as s:
        rows = list(s.scalars(query))
        for row in rows:
            row.attempts += 1
            row.due_at = now + timedelta(seconds=min(MAX_BACKOFF_SECONDS, grace_seconds * 2 ** row.attempts))
        return [Owed(Effect(r.kind), r.action_id, r.ref, outbox_id=r.id) for r in rows]


def open_rows(services: Services, kind: Effect, action_id: str, ref: str = "") -> list[int]:
    """A job reads the rows it is about to carry out before it reads the action: a change that
    commits later has its own row, which stays open for the next job."""
    with services.db.read() as s:
        return list(s.scalars(select(OutboxRow.id).where(OutboxRow.action_id == action_id, OutboxRow.kind == kind.value,
                                                         OutboxRow.ref == ref, OutboxRow.done_at.is_(None))))


def settle(services: Services, ids: Sequence[int]) -> None:
    if not ids:
        return
    with services.db.transaction() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id.in_(list(ids)), OutboxRow.done_at.is_(None))
                  .values(done_at=services.clock()).execution_options(synchronize_session=False))


def unsettled(services: Services, action_id: str | None = None) -> list[OutboxRow]:
    with services.db.read() as s:
        query = select(OutboxRow).where(OutboxRow.done_at.is_(None)).order_by(OutboxRow.id)
        if action_id is not None:
            query = query.where(OutboxRow.action_id == action_id)
        return list(s.scalars(query))


def prune(services: Services, older_than: timedelta) -> int:
    """Settled rows are only history; keep a day of them for looking into what happened."""
    with services.db.transaction() as s:
        return affected(s.execute(delete(OutboxRow).where(OutboxRow.done_at.is_not(None),
                                                          OutboxRow.done_at < services.clock() - older_than)))


def abandon(services: Services, older_than: timedelta) -> dict[str, int]:
    """Open rows no process has carried out for `older_than`: kinds nobody carries (Slack effects in a
    deployment without Slack). They are dropped so the table stays small; the caller logs what went."""
    cutoff = services.clock() - older_than
    stale = (OutboxRow.done_at.is_(None), OutboxRow.created_at < cutoff)
    with services.db.transaction() as s:
        counts = dict(s.execute(select(OutboxRow.kind, func.count()).where(*stale).group_by(OutboxRow.kind)).all())
        if counts:
            s.execute(delete(OutboxRow).where(*stale))
        return counts
