"""Datasets from human decisions, one JSON object per line.

- raw: every decided action with its context, the votes, the diff, the outcome and any audit verdict.
- sft: human-approved and human-modified actions as input/output pairs; the output is the payload
  that was allowed to run (the reviewer's correction for a modify).
- preference: modifications as chosen/rejected pairs (the reviewer's payload over the agent's),
  ready for preference optimisation (DPO and the like).

Streams in batches, so a large export never holds the table in memory. Fields the action type
masks (`mask_fields`) are masked in every payload, patch and diff unless the operator asks for
them `unmasked`.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from core import masking
from core.diffing import text_diff
from core.services import Services
from core.store.learning_tables import SpotCheck
from core.store.tables import Action, Agent, Vote
from core.vocabulary import DecisionSource, Status

FORMATS = ("raw", "sft", "preference")
BATCH = 500


def _query(fmt: str, since: datetime | None, until: datetime | None):
    q = select(Action).where(Action.decision.is_not(None))
    if fmt != "raw":  # training labels: a person's verdict only, never a timeout's
        q = q.where(Action.decision_source == DecisionSource.HUMAN.value)
    if fmt == "sft":
        q = q.where(Action.decision.in_((Status.APPROVED.value, Status.MODIFIED.value)))
    elif fmt == "preference":
        q = q.where(Action.decision == Status.MODIFIED.value)
    if since is not None:
        q = q.where(Action.decided_at >= since)
    if until is not None:
        q = q.where(Action.decided_at < until)
    return q


def count(services: Services, fmt: str, since: datetime | None = None, until: datetime | None = None) -> int:
    with services.db.read() as s:
        return s.scalar(select(func.count()).select_from(_query(fmt, since, until).subquery())) or 0


def records(services: Services, fmt: str, since: datetime | None = None, until: datetime | None = None,
            unmasked: bool = False) -> Iterator[dict]:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    last: tuple[datetime, str] | None = None
    while True:
        q = _query(fmt, since, until).order_by(Action.decided_at, Action.id).limit(BATCH)
        if last is not None:  # keyset pagination: stable and cheap however deep the export goes
            q = q.where((Action.decided_at > last[0]) | ((Action.decided_at == last[0]) & (Action.id > last[1])))
        with services.db.read() as s:
            actions = list(s.scalars(q))
            if not actions:
                return
            ids = [a.id for a in actions]
            votes: dict[str, list[Vote]] = {}
            for v in s.scalars(select(Vote).where(Vote.action_id.in_(ids)).order_by(Vote.created_at, Vote.id)):
                votes.setdefault(v.action_id, []).append(v)
            audits = {a.action_id: a for a in s.scalars(select(SpotCheck).where(SpotCheck.action_id.in_(ids)))}
            agents = dict(s.execute(select(Agent.id, Agent.name).where(
                Agent.id.in_({a.agent_id for a in actions}))).all())
        for a in actions:
            masks = [] if unmasked else masking.paths(a.route or {})
            yield _shape(fmt, a, votes.get(a.id, []), audits.get(a.id), agents.get(a.agent_id, "?"), masks)
        last = (actions[-1].decided_at, actions[-1].id)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _input(a: Action, agent: str) -> dict[str, Any]:
    """What the agent knew when it proposed: the task, its reasoning and context (not its answer)."""
    return {"agent": agent, "action_type": a.action_type, "title": a.title, "reasoning": a.summary,
            "context": a.context or {}}


def _shape(fmt: str, a: Action, votes: list[Vote], audit: SpotCheck | None, agent: str,
           masks: list[masking.Path]) -> dict[str, Any]:
    tags = sorted({t for v in votes for t in v.reason_tags or []})
    comments = [v.comment for v in votes if v.comment]
    meta = {"action_id": a.id, "decision": a.decision, "confidence": a.confidence, "risk": a.risk,
            "reason_tags": tags, "comment": "\n".join(comments) or None,
            "reviewers": sorted({v.reviewer for v in votes}), "decided_at": _iso(a.decided_at)}
    payload, final = masking.masked(a.payload, masks), masking.masked(a.final_payload, masks)
    patch = masking.masked_patch(a.patch, masks)
    if fmt == "sft":
        return {"input": _input(a, agent), "output": final, "meta": meta}
    if fmt == "preference":
        return {"prompt": _input(a, agent), "chosen": final, "rejected": payload, "patch": patch, "meta": meta}
    # The stored diff shows masked values: redo it from the masked payloads.
    diff = text_diff(payload, final) if masks and a.text_diff and final is not None else a.text_diff
    return {
        "action_id": a.id, "agent": agent, "action_type": a.action_type, "title": a.title, "summary": a.summary,
        "payload": payload, "confidence": a.confidence, "risk": a.risk, "context": a.context, "run_id": a.run_id,
        "review_mode": a.review_mode, "rule": a.rule, "policy_version": a.policy_version,
        "created_at": a.created_at.isoformat(), "decision": a.decision, "decided_at": _iso(a.decided_at),
        "decided_by": a.decided_by, "decision_source": a.decision_source, "agent_version": a.agent_version,
        "final_payload": final, "patch": patch, "text_diff": diff,
        "votes": [{"reviewer": v.reviewer, "kind": v.kind, "revision": v.revision, "reason_tags": v.reason_tags,
                   "comment": v.comment, "ratings": v.ratings, "patch": masking.masked_patch(v.patch, masks),
                   "time_to_decision_s": v.time_to_decision_s, "at": v.created_at.isoformat()} for v in votes],
        "outcome": {"status": a.status, "result": a.outcome_result,
                    "at": a.outcome_at.isoformat()} if a.outcome_at else None,
        "audit": {"verdict": audit.verdict, "reason_tags": audit.reason_tags, "auditor": audit.auditor}
        if audit is not None and audit.verdict else None,
    }
