"""A reviewer's queue for App Home: the pending actions they may decide and have not yet voted on,
most urgent first. Urgency is, in order: the SLA (the next escalation step or deadline; none
last), the risk, and how far the agent's confidence sits below the type's auto-approve threshold
(the least sure first; a type with no threshold counts its confidence alone)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from core.access import is_reviewer
from core.ports import GroupDirectory
from core.services import Services
from core.store.tables import Action, ReviewMessage, Vote
from core.vocabulary import DecisionKind, ReviewMode, Risk, Status

SCANNED = 1000  # pending actions read per queue: the oldest SLAs first, so the most urgent are among them
FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Waiting:
    action_id: str
    title: str
    action_type: str
    risk: Risk
    confidence: float
    due_at: datetime | None
    shadow: bool  # decided unaided: its title would give the agent's answer away
    channel: str | None  # where its review message is; None before it is posted
    message_ts: str | None
    approvals: int
    approvals_required: int


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def waiting_for(services: Services, user: str, groups: GroupDirectory, limit: int = 20) -> tuple[list[Waiting], int]:
    """(the `limit` most urgent, how many wait for `user` in all)."""
    policy = services.policies.current().policy
    with services.db.read() as s:
        rows = s.execute(
            select(Action.id, Action.title, Action.action_type, Action.risk, Action.confidence, Action.timer_at,
                   Action.review_mode, Action.route, Action.revision, Action.approvals_required,
                   ReviewMessage.channel, ReviewMessage.message_ts)
            .outerjoin(ReviewMessage, ReviewMessage.action_id == Action.id)
            .where(Action.status == Status.PENDING.value)
            .order_by(Action.timer_at.is_(None), Action.timer_at, Action.created_at).limit(SCANNED)).all()
        mine = [r for r in rows if is_reviewer((r.route or {}).get("reviewers") or {}, user, groups)]
        votes: dict[str, list[tuple[int, str, str]]] = {}
        ids = [r.id for r in mine]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for action_id, revision, reviewer, kind in s.execute(
                    select(Vote.action_id, Vote.revision, Vote.reviewer, Vote.kind).where(Vote.action_id.in_(chunk))):
                votes.setdefault(action_id, []).append((revision, reviewer, kind))
    out = []
    for r in mine:
        on_this = [(who, kind) for revision, who, kind in votes.get(r.id, []) if revision == r.revision]
        if any(who == user for who, _ in on_this):
            continue  # their vote is in; the rest of the quorum is someone else's to give
        out.append(Waiting(
            action_id=r.id, title=r.title, action_type=r.action_type, risk=Risk(r.risk), confidence=r.confidence,
            due_at=_aware(r.timer_at), shadow=r.review_mode == ReviewMode.SHADOW.value, channel=r.channel,
            message_ts=r.message_ts, approvals=sum(1 for _, kind in on_this if kind == DecisionKind.APPROVE.value),
            approvals_required=r.approvals_required))

    def urgency(w: Waiting):
        threshold = policy.for_action_type(w.action_type)[0].auto_approve_threshold
        return (w.due_at or FAR, -w.risk.rank, w.confidence - (threshold if threshold is not None else 0))

    out.sort(key=urgency)
    return out[:limit], len(out)
