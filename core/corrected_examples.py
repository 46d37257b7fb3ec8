"""Few-shot examples for agents: their own recent proposals that a human corrected or rejected.

An agent sees only its own actions (as everywhere in the intake), so one agent's payloads never
leak into another's prompt. Only human decisions count: a policy's expiry is not a correction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from core.services import AgentIdentity, Services
from core.store.tables import Action, Vote
from core.vocabulary import DecisionSource, Status

CORRECTED = (Status.MODIFIED.value, Status.REJECTED.value)
MAX_LIMIT = 50


class Example(BaseModel):
    action_id: str
    title: str
    outcome: Status = Field(description="modified (the corrected payload is the answer) or rejected.")
    confidence: float
    proposed_payload: dict[str, Any]
    corrected_payload: dict[str, Any] | None = Field(description="What the reviewer approved instead; null when rejected.")
    patch: list[dict[str, Any]] | None = Field(description="RFC 6902 JSON Patch from proposed to corrected.")
    text_diff: str | None
    reason_tags: list[str]
    comment: str | None
    reviewers: list[str]
    decided_at: datetime


def recent(services: Services, agent: AgentIdentity, action_type: str, limit: int = 5) -> list[Example]:
    limit = max(1, min(limit, MAX_LIMIT))
    with services.db.read() as s:
        rows = list(s.scalars(select(Action).where(
            Action.agent_id == agent.id, Action.action_type == action_type, Action.decision.in_(CORRECTED),
            Action.decision_source == DecisionSource.HUMAN.value)
            .order_by(Action.decided_at.desc()).limit(limit * 2)))
        votes: dict[str, list[Vote]] = {}
        if rows:
            for v in s.scalars(select(Vote).where(Vote.action_id.in_([a.id for a in rows])).order_by(Vote.created_at)):
                votes.setdefault(v.action_id, []).append(v)
    out = []
    for a in rows:
        if a.decision is None:  # the query asks for decided actions; an undecided one teaches nothing
            continue
        deciding = [v for v in votes.get(a.id, []) if v.kind in ("modify", "reject")]
        if not deciding:  # decided by policy or by a cancel, not by a person
            continue
        tags = sorted({t for v in deciding for t in v.reason_tags or []})
        comments = [v.comment for v in deciding if v.comment]
        out.append(Example(
            action_id=a.id, title=a.title, outcome=Status(a.decision), confidence=a.confidence,
            proposed_payload=a.payload, corrected_payload=a.final_payload if a.decision == Status.MODIFIED else None,
            patch=a.patch, text_diff=a.text_diff, reason_tags=tags, comment="\n".join(comments) or None,
            reviewers=sorted({v.reviewer for v in deciding}), decided_at=a.decided_at))
        if len(out) == limit:
            break
    return out
