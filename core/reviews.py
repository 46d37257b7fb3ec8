"""The review surface's bookkeeping: where a review is shown, who claimed it, what reviewers wrote."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit, escalation
from core.access import is_reviewer
from core.errors import InvalidRequest, NotAuthorised
from core.gate import Gate
from core.locking import claim_or_explain
from core.ports import GroupDirectory
from core.store.tables import Action, Comment, ReviewMessage
from core.text import text_problem
from core.vocabulary import Status

MAX_COMMENT = 3000


def record_posted(gate: Gate, action_id: str, channel: str, message_ts: str) -> bool:
    """Remember where the review was posted. False if it was recorded already (a job ran twice)."""
    now = gate.clock()
    try:
        with gate.db.transaction() as s:
            if s.get(ReviewMessage, action_id) is not None:
                return False
            s.add(ReviewMessage(action_id=action_id, channel=channel, message_ts=message_ts, posted_at=now))
            s.flush()
            audit.append(s, "posted", action_id, {"channel": channel, "ts": message_ts}, now)
    except IntegrityError:
        return False
    return True


def unposted(gate: Gate, older_than_seconds: float, limit: int = 500) -> list[str]:
    """Pending actions with no review message yet (their post job was lost, or Redis was down)."""
    cutoff = gate.clock() - timedelta(seconds=older_than_seconds)
    with gate.db.read() as s:
        return list(s.scalars(
            select(Action.id).outerjoin(ReviewMessage, ReviewMessage.action_id == Action.id)
            .where(Action.status == Status.PENDING.value, ReviewMessage.action_id.is_(None), Action.created_at <= cutoff)
            .order_by(Action.created_at).limit(limit)))


def location(gate: Gate, action_id: str) -> ReviewMessage | None:
    with gate.db.read() as s:
        return s.get(ReviewMessage, action_id)


def action_at(gate: Gate, channel: str, message_ts: str) -> str | None:
    with gate.db.read() as s:
        return s.scalar(select(ReviewMessage.action_id).where(ReviewMessage.channel == channel,
                                                                ReviewMessage.message_ts == message_ts))


def claim(gate: Gate, action_id: str, user: str, groups: GroupDirectory | None) -> str:
    """"I'm on it". Returns who holds the claim (the caller, or whoever claimed first)."""
    now = gate.clock()
    with gate.db.transaction() as s:
        action = claim_or_explain(s, action_id, [Status.PENDING])
        if groups is not None and not is_reviewer(action.route.get("reviewers") or {}, user, groups):
            raise NotAuthorised(f"{user} is not a reviewer for {action.action_type}")
        if action.claimed_by and action.claimed_by != user:
            return action.claimed_by
        action.claimed_by, action.claimed_at = user, now
        ack_until = escalation.acknowledge(s, action, now)
        audit.append(s, "claimed", action_id, {"by": user, "escalation_paused_until": ack_until.isoformat()
                                                  if ack_until else None}, now)
        timer_seq = action.timer_seq
    gate.notifier.action_changed(action_id, Status.PENDING)
    if ack_until is not None and gate.timers is not None:
        gate.timers.set(action_id, timer_seq, ack_until)
    return user


def add_comment(gate: Gate, action_id: str, author: str, text: str, source_ref: str) -> bool:
    """Store a reviewer's free-text note; a redelivered message (same source_ref) is stored once."""
    text = (text or "").strip()
    if not text:
        return False
    if problem := text_problem(text):
        raise InvalidRequest(f"the comment {problem}")
    now = gate.clock()
    try:
        with gate.db.transaction() as s:
            if s.get(Action, action_id) is None:
                return False
            s.add(Comment(action_id=action_id, author=author[:100], text=text[:MAX_COMMENT], source_ref=source_ref[:100],
                          created_at=now))
            s.flush()
            audit.append(s, "commented", action_id, {"by": author, "ref": source_ref}, now)
    except IntegrityError:
        return False
    return True
