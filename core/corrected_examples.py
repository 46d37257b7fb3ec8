"""Few-shot examples for agents: their own proposals that a human corrected, rejected, or flagged in a
spot check after they ran.

An agent sees only its own actions (as everywhere in the intake), so one agent's payloads never
leak into another's prompt. Only human verdicts count: a policy's expiry is not a correction.

Which ones: the newest alone would let a burst of one mistake push every older lesson out. So the
candidates (the newest CANDIDATES) are grouped by failure pattern (the set of fields a reviewer
changed, or the reason tags of a rejection or a flag), the patterns are taken most common first,
and the examples are dealt round-robin, newest first within each pattern. With `similar_to` (a
payload the agent is about to propose) the most similar come first instead: the share of
top-level fields with equal values.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from core.audit_log import canonical
from core.rollups import modified_fields
from core.services import AgentIdentity, Services
from core.store.learning_tables import SpotCheck
from core.store.tables import Action, Vote
from core.vocabulary import DecisionSource, Status, Verdict

CORRECTED = (Status.MODIFIED.value, Status.REJECTED.value)
MAX_LIMIT = 50
CANDIDATES = 500


class Example(BaseModel):
    action_id: str
    title: str
    summary: str = Field(description="The agent's reasoning when it proposed.")
    context: dict[str, Any] = Field(description="The evidence it proposed with.")
    outcome: Literal["modified", "rejected", "flagged"] = Field(
        description="modified (the corrected payload is the answer), rejected, or flagged: it ran, and a spot check "
        "said it should not have.")
    confidence: float
    agent_version: str | None
    proposed_payload: dict[str, Any]
    corrected_payload: dict[str, Any] | None = Field(description="What the reviewer approved instead; null otherwise.")
    patch: list[dict[str, Any]] | None = Field(description="RFC 6902 JSON Patch from proposed to corrected.")
    text_diff: str | None
    reason_tags: list[str]
    comment: str | None
    reviewers: list[str]
    pattern: str = Field(description="The failure pattern it stands for: `fields:amount,currency` or `tags:wrong_action`.")
    decided_at: datetime


def recent(services: Services, agent: AgentIdentity, action_type: str, limit: int = 5,
           similar_to: dict[str, Any] | None = None) -> list[Example]:
    limit = max(1, min(limit, MAX_LIMIT))
    candidates = _candidates(services, agent, action_type)
    if similar_to is not None:
        candidates.sort(key=lambda e: (-_similarity(e.proposed_payload, similar_to), -e.decided_at.timestamp()))
        return candidates[:limit]
    return _balanced(candidates, limit)


def _candidates(services: Services, agent: AgentIdentity, action_type: str) -> list[Example]:
    with services.db.read() as s:
        corrected = list(s.scalars(select(Action).where(
            Action.agent_id == agent.id, Action.action_type == action_type, Action.decision.in_(CORRECTED),
            Action.decision_source == DecisionSource.HUMAN.value)
            .order_by(Action.decided_at.desc()).limit(CANDIDATES)))
        flagged = s.execute(select(SpotCheck, Action).join(Action, Action.id == SpotCheck.action_id).where(
            Action.agent_id == agent.id, Action.action_type == action_type,
            SpotCheck.verdict == Verdict.FLAGGED.value).order_by(SpotCheck.decided_at.desc()).limit(CANDIDATES)).all()
        votes: dict[str, list[Vote]] = defaultdict(list)
        ids = [a.id for a in corrected]
        for chunk in range(0, len(ids), 500):
            for v in s.scalars(select(Vote).where(Vote.action_id.in_(ids[chunk:chunk + 500])).order_by(Vote.created_at)):
                votes[v.action_id].append(v)
    out = [e for a in corrected if (e := _from_review(a, votes[a.id])) is not None]
    out += [_from_spot_check(check, a) for check, a in flagged]
    out.sort(key=lambda e: e.decided_at, reverse=True)
    return out


def _from_review(a: Action, votes: list[Vote]) -> Example | None:
    deciding = [v for v in votes if v.kind in ("modify", "reject")]
    if not deciding or a.decided_at is None:  # decided by a cancel or the policy, not a person
        return None
    tags = sorted({t for v in deciding for t in v.reason_tags or []})
    modified = a.decision == Status.MODIFIED.value
    pattern = (f"fields:{','.join(sorted(modified_fields(a.patch)))}" if modified and a.patch
               else f"tags:{','.join(tags) or 'none'}")
    return Example(
        action_id=a.id, title=a.title, summary=a.summary, context=a.context or {},
        outcome="modified" if modified else "rejected", confidence=a.confidence, agent_version=a.agent_version,
        proposed_payload=a.payload, corrected_payload=a.final_payload if modified else None, patch=a.patch,
        text_diff=a.text_diff, reason_tags=tags, comment="\n".join(v.comment for v in deciding if v.comment) or None,
        reviewers=sorted({v.reviewer for v in deciding}), pattern=pattern, decided_at=a.decided_at)


def _from_spot_check(check: SpotCheck, a: Action) -> Example:
    tags = sorted(check.reason_tags or [])
    return Example(
        action_id=a.id, title=a.title, summary=a.summary, context=a.context or {}, outcome="flagged",
        confidence=a.confidence, agent_version=a.agent_version, proposed_payload=a.payload, corrected_payload=None,
        patch=None, text_diff=None, reason_tags=tags, comment=None, reviewers=[check.auditor] if check.auditor else [],
        pattern=f"tags:{','.join(tags) or 'none'}", decided_at=check.decided_at or a.created_at)


def _balanced(candidates: list[Example], limit: int) -> list[Example]:
    """Round-robin over failure patterns, the most common first; newest first within each."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for e in candidates:  # already newest first
        groups[e.pattern].append(e)
    order = sorted(groups, key=lambda p: (-len(groups[p]), -groups[p][0].decided_at.timestamp(), p))
    out: list[Example] = []
    depth = 0
    while len(out) < limit and any(depth < len(groups[p]) for p in order):
        out += [groups[p][depth] for p in order if depth < len(groups[p])][: limit - len(out)]
        depth += 1
    return out


def _similarity(payload: dict[str, Any], target: dict[str, Any]) -> float:
    """Share of top-level fields, in either, with equal values (compared as canonical JSON)."""
    keys = set(payload) | set(target)
    if not keys:
        return 1.0
    same = sum(1 for k in keys if k in payload and k in target and canonical(payload[k]) == canonical(target[k]))
    return same / len(keys)
