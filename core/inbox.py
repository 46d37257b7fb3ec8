"""Reviewer clicks: recorded in one INSERT before Slack gets its ack, applied once by a worker.

The ack stays within milliseconds whatever the decision costs, and a click is never lost: if
the job is lost with Redis, the row is still there to apply (see `unapplied`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update

from core import deciding, gold, reviews, spot_checks
from core.effects import Effect
from core.errors import HitlError, StaleView
from core.ports import GroupDirectory
from core.seen import Seen
from core.services import Services
from core.store.db import affected
from core.store.tables import Interaction
from core.unit_of_work import unit_of_work
from core.vocabulary import Verdict

# The verdicts: spot checks. "modify" is only recorded straight away for a gold item, which opens no modal.
KINDS = ("approve", "reject", "claim", "modify", Verdict.LOOKS_RIGHT.value, Verdict.FLAGGED.value)


@dataclass(frozen=True)
class Applied:
    notice: str | None  # what to tell the reviewer privately, if anything
    reply_channel: str | None
    reviewer: str


def _insert(services: Services, action_id: str, reviewer: str, kind: str, reason_tags, reply_channel, source,
            seen: Seen | None):
    if kind not in KINDS or (kind == "modify" and not gold.is_gold(action_id)):  # a real Modify goes through its modal
        raise ValueError(f"unknown interaction kind {kind!r}")
    return insert(Interaction).values(
        action_id=action_id[:64], reviewer=reviewer[:100], kind=kind, reason_tags=list(reason_tags or []),
        reply_channel=reply_channel, source=source, received_at=services.clock(),
        seen=seen.token() if seen else None,
    ).returning(Interaction.id)


def receive(services: Services, action_id: str, reviewer: str, kind: str, reason_tags: list[str] | None = None,
            reply_channel: str | None = None, source: str = "slack", seen: Seen | None = None) -> int:
    with services.db.transaction() as s:
        return s.execute(_insert(services, action_id, reviewer, kind, reason_tags, reply_channel, source,
                                 seen)).scalar_one()


async def receive_async(services: Services, action_id: str, reviewer: str, kind: str, reason_tags: list[str] | None = None,
                        reply_channel: str | None = None, source: str = "slack", seen: Seen | None = None) -> int:
    """The same, awaited on an event loop (PostgreSQL); SQLite's local write is short enough to make inline."""
    if services.db.is_sqlite:
        return receive(services, action_id, reviewer, kind, reason_tags, reply_channel, source, seen)
    async with services.db.async_engine.begin() as conn:
        result = await conn.execute(_insert(services, action_id, reviewer, kind, reason_tags, reply_channel, source,
                                            seen))
        return result.scalar_one()


def apply(services: Services, interaction_id: int, groups: GroupDirectory | None, explain=None) -> Applied | None:
    """Apply a recorded click; None if it was applied already. `explain` turns an error into a notice."""
    with services.db.read() as s:
        row = s.get(Interaction, interaction_id)
    if row is None or row.applied_at is not None:
        return None
    notice: str | None = None
    try:
        if gold.is_gold(row.action_id):
            if row.kind != "claim":  # a gold item has nobody to hand it over to: a claim changes nothing
                gold.answer(services, row.action_id, row.reviewer, row.kind, list(row.reason_tags or []), groups)
        elif row.kind == "claim":
            holder = reviews.claim(services, row.action_id, row.reviewer, groups)
            if holder != row.reviewer:
                notice = f"<@{holder}> has already claimed this action."
        elif row.kind in (Verdict.LOOKS_RIGHT.value, Verdict.FLAGGED.value):
            spot_checks.record_verdict(services, row.action_id, row.reviewer, row.kind, list(row.reason_tags or []),
                                       groups)
        else:
            # A click recorded before votes were bound to what their voter saw has no `seen`: it is
            # applied as it was then. Listeners record every new Approve and Reject with one.
            deciding.decide(services, row.action_id, reviewer=row.reviewer, kind=row.kind, reason_tags=row.reason_tags,
                            source=row.source, groups=groups, with_view=False, seen=Seen.parse(row.seen))
        result = "ok" if notice is None else notice
    except HitlError as exc:
        notice = explain(exc) if explain else exc.message
        result = f"{exc.code}: {exc.message}"
        stale = isinstance(exc, StaleView)
    else:
        stale = False
    with unit_of_work(services) as work:
        done = work.session.execute(update(Interaction).where(Interaction.id == interaction_id,
                                                              Interaction.applied_at.is_(None))
                                    .values(applied_at=work.now, result=result[:1000]))
        if stale and affected(done):  # the clicker's message may still show the old payload: redraw it
            work.owe(Effect.REVIEW_CHANGED, row.action_id)
    if affected(done) == 0:
        return None  # another worker applied it at the same time; it sent any notice
    return Applied(notice=notice, reply_channel=row.reply_channel, reviewer=row.reviewer)


def unapplied(services: Services, older_than_seconds: float = 30, limit: int = 500) -> list[int]:
    """Clicks whose job never ran (Redis lost it, or was down): for a reconciler to re-enqueue."""
    from datetime import timedelta

    cutoff = services.clock() - timedelta(seconds=older_than_seconds)
    with services.db.read() as s:
        return list(s.scalars(select(Interaction.id).where(Interaction.applied_at.is_(None),
                                                           Interaction.received_at <= cutoff)
                              .order_by(Interaction.id).limit(limit)))
