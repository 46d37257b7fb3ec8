"""Escalation notices, one row per (action, escalation, target): a target is told at most once, a
failing target is retried on its own without repeating the others, and a target Slack says can
never be reached (not_in_channel, a deactivated user) is given up on, once, with a reason."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as lite_insert

from core.services import Services
from core.store.tables import EscalationNotice

SENT, FAILED, UNREACHABLE = "sent", "failed", "unreachable"


def settled_targets(services: Services, action_id: str, seq: int) -> dict[str, str]:
    """{target: state} of the targets that need nothing more (sent, or unreachable)."""
    with services.db.read() as s:
        rows = s.execute(select(EscalationNotice.target, EscalationNotice.state)
                         .where(EscalationNotice.action_id == action_id, EscalationNotice.seq == seq,
                                EscalationNotice.state.in_([SENT, UNREACHABLE])))
        return {r.target: r.state for r in rows}


def record(services: Services, action_id: str, seq: int, target: str, state: str, error: str | None = None) -> None:
    """Upsert one target's outcome (the first writer of SENT wins; a later FAILED never undoes it)."""
    now = services.clock()
    insert = lite_insert if services.db.is_sqlite else pg_insert
    stmt = insert(EscalationNotice).values(action_id=action_id, seq=seq, target=target, state=state, attempts=1,
                                           last_error=(error or None) and error[:200], updated_at=now)
    keep_sent = EscalationNotice.state != SENT
    stmt = stmt.on_conflict_do_update(
        index_elements=["action_id", "seq", "target"],
        set_={"state": stmt.excluded.state, "attempts": EscalationNotice.attempts + 1,
              "last_error": stmt.excluded.last_error, "updated_at": stmt.excluded.updated_at},
        where=keep_sent)
    with services.db.transaction() as s:
        s.execute(stmt)


def unreachable(services: Services, since=None) -> list[EscalationNotice]:
    """Targets given up on (for an operator, and for /hitl-stats counts)."""
    with services.db.read() as s:
        q = select(EscalationNotice).where(EscalationNotice.state == UNREACHABLE)
        if since is not None:
            q = q.where(EscalationNotice.updated_at >= since)
        return list(s.scalars(q.order_by(EscalationNotice.updated_at)))
