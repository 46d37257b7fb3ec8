"""The review surface's bookkeeping: where a review is shown, who claimed it, what reviewers wrote."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import escalation
from core.access import is_reviewer
from core.errors import InvalidRequest, NotAuthorised
from core.locking import lock_or_explain
from core.ports import GroupDirectory
from core.services import Services
from core.store.tables import Action, Comment, ReviewMessage
from core.text_checks import text_problem
from core.unit_of_work import unit_of_work
from core.vocabulary import Status

MAX_COMMENT = 3000


def record_posted(services: Services, action_id: str, channel: str, message_ts: str) -> bool:
    """Remember where the review was posted. False if it was recorded already (a job ran twice)."""
    try:
        with unit_of_work(services) as work:
            if work.session.get(ReviewMessage, action_id) is not None:
                return False
            work.session.add(ReviewMessage(action_id=action_id, channel=channel, message_ts=message_ts,
                                           posted_at=work.now))
            work.session.flush()
            work.log("posted", action_id, {"channel": channel, "ts": message_ts})
    except IntegrityError:
        return False
    return True


def location(services: Services, action_id: str) -> ReviewMessage | None:
    with services.db.read() as s:
        return s.get(ReviewMessage, action_id)


def action_at(services: Services, channel: str, message_ts: str) -> str | None:
    with services.db.read() as s:
        return s.scalar(select(ReviewMessage.action_id).where(ReviewMessage.channel == channel,
                                                                ReviewMessage.message_ts == message_ts))


def claim(services: Services, action_id: str, user: str, groups: GroupDirectory | None) -> str:
    """"I'm on it". Returns who holds the claim (the caller, or whoever claimed first)."""
    with unit_of_work(services) as work:
        action = lock_or_explain(work.session, action_id, [Status.PENDING])
        if groups is not None and not is_reviewer(action.route.get("reviewers") or {}, user, groups):
            raise NotAuthorised(f"{user} is not a reviewer for {action.action_type}")
        if action.claimed_by and action.claimed_by != user:
            return action.claimed_by
        action.claimed_by, action.claimed_at = user, work.now
        ack_until = escalation.acknowledge(action, work.now)
        work.log("claimed", action_id, {"by": user, "escalation_paused_until": ack_until.isoformat()
                                        if ack_until else None})
        work.action_changed(action)
        if ack_until is not None:
            work.timer(action_id, action.timer_seq, ack_until)
    return user


def add_comment(services: Services, action_id: str, author: str, text: str, source_ref: str) -> bool:
    """Store a reviewer's free-text note; a redelivered message (same source_ref) is stored once."""
    text = (text or "").strip()
    if not text:
        return False
    if problem := text_problem(text):
        raise InvalidRequest(f"the comment {problem}")
    try:
        with unit_of_work(services) as work:
            if work.session.get(Action, action_id) is None:
                return False
            work.session.add(Comment(action_id=action_id, author=author[:100], text=text[:MAX_COMMENT],
                                     source_ref=source_ref[:100], created_at=work.now))
            work.session.flush()
            work.log("commented", action_id, {"by": author, "ref": source_ref})
    except IntegrityError:
        return False
    return True
