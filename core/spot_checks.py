"""Post-hoc audits of sampled auto-approvals (human on the loop).

In sample mode a fraction of auto-approved actions is drawn at intake (the draw is on the route).
An auditor then says "looks right" or flags it ("should not have happened", with reason tags);
a flag is an escaped error: an action that went ahead and a human says should not have.
"""
from __future__ import annotations

from sqlalchemy import update

from core.access import is_reviewer
from core.effects import Effect
from core.errors import AlreadyDecided, InvalidRequest, NotAuthorised, NotFound
from core.ports import GroupDirectory
from core.services import Services
from core.store.db import affected
from core.store.tables import Action, SpotCheck
from core.unit_of_work import unit_of_work

LOOKS_RIGHT = "looks_right"
FLAGGED = "flagged"
VERDICTS = (LOOKS_RIGHT, FLAGGED)


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
        s.refresh(item)
        return item
