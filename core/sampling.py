"""Post-hoc audits of sampled auto-approvals (human on the loop).

In sample mode a fraction of auto-approved actions is drawn at intake (the draw is on the route).
An auditor then says "looks right" or flags it ("should not have happened", with reason tags);
a flag is an escaped error: an action that went ahead and a human says should not have.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core import audit
from core.access import is_reviewer
from core.errors import AlreadyDecided, InvalidRequest, NotAuthorised, NotFound
from core.gate import Gate
from core.ports import GroupDirectory
from core.store.db import affected
from core.store.tables import Action, SampleAudit

LOOKS_RIGHT = "looks_right"
FLAGGED = "flagged"
VERDICTS = (LOOKS_RIGHT, FLAGGED)


def get(gate: Gate, action_id: str) -> SampleAudit | None:
    with gate.db.read() as s:
        return s.get(SampleAudit, action_id)


def unposted(gate: Gate, older_than_seconds: float, limit: int = 500) -> list[str]:
    cutoff = gate.clock() - timedelta(seconds=older_than_seconds)
    with gate.db.read() as s:
        return list(s.scalars(select(SampleAudit.action_id)
                              .where(SampleAudit.posted_at.is_(None), SampleAudit.created_at <= cutoff)
                              .order_by(SampleAudit.created_at).limit(limit)))


def record_posted(gate: Gate, action_id: str, channel: str, message_ts: str) -> bool:
    now = gate.clock()
    with gate.db.transaction() as s:
        done = s.execute(update(SampleAudit)
                         .where(SampleAudit.action_id == action_id, SampleAudit.posted_at.is_(None))
                         .values(channel=channel, message_ts=message_ts, posted_at=now)
                         .execution_options(synchronize_session=False))
        if affected(done):
            audit.append(s, "audit_posted", action_id, {"channel": channel, "ts": message_ts}, now)
        return bool(affected(done))


def record_verdict(gate: Gate, action_id: str, auditor: str, verdict: str, reason_tags: list[str],
                   groups: GroupDirectory | None) -> SampleAudit:
    """The first verdict stands; a later one raises AlreadyDecided naming who gave the first."""
    if verdict not in VERDICTS:
        raise InvalidRequest(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    known = set(gate.policies.current().policy.reason_tags)
    if unknown := [t for t in reason_tags if t not in known]:
        raise InvalidRequest(f"unknown reason tag(s): {', '.join(unknown)}")
    if verdict == FLAGGED and not reason_tags:
        raise InvalidRequest("say why it should not have happened: pick a reason tag")
    now = gate.clock()
    with gate.db.transaction() as s:
        action = s.get(Action, action_id)
        item = s.get(SampleAudit, action_id)
        if action is None or item is None:
            raise NotFound(f"no sampled audit for {action_id!r}")
        if groups is not None and not is_reviewer((action.route or {}).get("reviewers") or {}, auditor, groups):
            raise NotAuthorised(f"{auditor} is not a reviewer for {action.action_type}")
        done = s.execute(update(SampleAudit)
                         .where(SampleAudit.action_id == action_id, SampleAudit.verdict.is_(None))
                         .values(verdict=verdict, reason_tags=list(reason_tags), auditor=auditor, decided_at=now)
                         .execution_options(synchronize_session=False))
        if not affected(done):
            s.refresh(item)
            raise AlreadyDecided(item.verdict, [item.auditor] if item.auditor else [])
        audit.append(s, "audited", action_id, {"verdict": verdict, "reason_tags": list(reason_tags), "by": auditor}, now)
        s.refresh(item)
        return item
