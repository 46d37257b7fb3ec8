"""Spot checks: a person looks at an auto-approval after the fact (human on the loop).

Every auto-approval, by threshold or in auto or sample mode, may be drawn at intake, with the
probability on its route (core/policy/audit_draw.py; the weekly floor in core/watch.py). A
checker then says "looks right" or flags it ("should not have happened", with reason tags): a
flag is an escaped error. Each verdict feeds the drift test (core/drift.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select, update

from core import drift, masking
from core.access import is_reviewer
from core.effects import Effect
from core.errors import AlreadyDecided, InvalidRequest, NotAuthorised, NotFound
from core.ports import GroupDirectory
from core.services import Services
from core.store.db import affected
from core.store.learning_tables import SpotCheck
from core.store.tables import Action
from core.unit_of_work import unit_of_work
from core.vocabulary import Verdict

LOOKS_RIGHT = Verdict.LOOKS_RIGHT.value
FLAGGED = Verdict.FLAGGED.value
VERDICTS = (LOOKS_RIGHT, FLAGGED)


class Waiting(BaseModel):
    """A drawn auto-approval nobody has given a verdict on yet (also the HTTP shape)."""

    action_id: str
    action_type: str
    title: str
    confidence: float
    risk: str
    agent_version: str | None
    probability: float | None = Field(description="How likely this auto-approval was to be drawn.")
    drawn_at: datetime
    payload: dict[str, Any] = Field(description="As it ran; masked fields (mask_fields) are masked.")


def pending(services: Services, action_type: str | None = None, limit: int = 50) -> list[Waiting]:
    """Oldest first: a spot check loses value as the agent moves on."""
    q = (select(SpotCheck, Action).join(Action, Action.id == SpotCheck.action_id)
         .where(SpotCheck.verdict.is_(None)).order_by(SpotCheck.created_at, SpotCheck.action_id).limit(limit))
    if action_type is not None:
        q = q.where(SpotCheck.action_type == action_type)
    with services.db.read() as s:
        rows = s.execute(q).all()
    return [Waiting(action_id=a.id, action_type=a.action_type, title=a.title, confidence=a.confidence, risk=a.risk,
                    agent_version=a.agent_version, probability=c.probability, drawn_at=c.created_at,
                    payload=masking.masked(a.final_payload or a.payload, masking.paths(a.route or {})))
            for c, a in rows]


def get(services: Services, action_id: str) -> SpotCheck | None:
    with services.db.read() as s:
        return s.get(SpotCheck, action_id)


def record_posted(services: Services, action_id: str, channel: str, message_ts: str) -> bool:
    with unit_of_work(services) as work:
        done = work.session.execute(update(SpotCheck)
                                    .where(SpotCheck.action_id == action_id, SpotCheck.posted_at.is_(None))
                                    .values(channel=channel, message_ts=message_ts, posted_at=work.now)
                                    .execution_options(synchronize_session=False))
        if affected(done):  # the event keeps its first name: the log is hash-chained history
            work.log("audit_posted", action_id, {"channel": channel, "ts": message_ts})
        return bool(affected(done))


def record_verdict(services: Services, action_id: str, auditor: str, verdict: str, reason_tags: list[str],
                   groups: GroupDirectory | None) -> SpotCheck:
    """The first verdict stands; a later one raises AlreadyDecided naming who gave the first."""
    if verdict not in VERDICTS:
        raise InvalidRequest(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    known = set(services.policies.current().policy.reason_tags)
    if unknown := [t for t in reason_tags if t not in known]:
        raise InvalidRequest(f"unknown reason tag(s): {', '.join(unknown)}")
    if verdict == FLAGGED and not reason_tags:
        raise InvalidRequest("say why it should not have happened: pick a reason tag")
    with unit_of_work(services) as work:
        s = work.session
        action = s.get(Action, action_id)
        item = s.get(SpotCheck, action_id)
        if action is None or item is None:
            raise NotFound(f"no sampled audit for {action_id!r}")
        if groups is not None and not is_reviewer((action.route or {}).get("reviewers") or {}, auditor, groups):
            raise NotAuthorised(f"{auditor} is not a reviewer for {action.action_type}")
        done = s.execute(update(SpotCheck)
                         .where(SpotCheck.action_id == action_id, SpotCheck.verdict.is_(None))
                         .values(verdict=verdict, reason_tags=list(reason_tags), auditor=auditor, decided_at=work.now)
                         .execution_options(synchronize_session=False))
        if not affected(done):
            s.refresh(item)
            raise AlreadyDecided(item.verdict, [item.auditor] if item.auditor else [])
        work.log("audited", action_id, {"verdict": verdict, "reason_tags": list(reason_tags), "by": auditor})
        work.owe(Effect.SPOT_CHECK_CHANGED, action_id)
        entry, _ = services.policies.current().policy.for_action_type(action.action_type)
        drift.check(work, action.action_type, entry.on_drift)
        s.refresh(item)
    services.watch.forget_holds()  # this process sees a hold, or tightened checks, from its next proposal
    return item
