"""What `hitl recommend` weighs for one action type: recent human verdicts only.

- Reviews: proposals a person decided (approved unmodified is right; modified or rejected is wrong).
- Spot checks: auto-approvals a person checked after they ran (looks right, or flagged: wrong).
  They keep evidence flowing above a threshold once it is applied; without them the evidence
  there would freeze the day the threshold was set.
- Everything proposed, for the share a threshold would let through.

Recent: the last `days` only, so an improvement shows and old errors stop blocking it, and a drift
is not diluted by months of clean history. One agent version: the newest (of the newest proposal),
unless `all_versions`; a new model has not earned the old one's autonomy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from core.policy.audit_draw import stratum
from core.rollups import HUMAN
from core.services import Services
from core.store.learning_tables import SpotCheck
from core.store.tables import Action
from core.vocabulary import DecisionSource, ReviewMode, Status, Verdict


@dataclass(frozen=True)
class Judged:
    confidence: float
    right: bool
    spot_check: bool  # False: a review


@dataclass
class Evidence:
    action_type: str
    since: datetime
    version: str | None  # the agent version weighed; None: unversioned, or every version (all_versions)
    all_versions: bool
    verdicts: list[Judged] = field(default_factory=list)
    proposed: list[float] = field(default_factory=list)  # confidences of everything proposed
    approved: int = 0
    modified: int = 0
    rejected: int = 0
    shadow_decided: int = 0
    shadow_agreed: int = 0
    auto_approved: int = 0
    strata: dict[str, int] = field(default_factory=dict)  # auto-approvals per draw probability
    checks: dict[str, tuple[int, int]] = field(default_factory=dict)  # (checked, flagged) per draw probability

    @property
    def reviewed(self) -> int:
        return self.approved + self.modified + self.rejected

    @property
    def scope(self) -> str:
        if self.all_versions:
            return "all agent versions"
        return "proposals without an agent_version" if self.version is None else f"agent version {self.version}"


def gather(services: Services, action_type: str, *, days: int = 30, now: datetime | None = None,
           all_versions: bool = False) -> Evidence:
    since = (now or services.clock()) - timedelta(days=days)
    with services.db.read() as s:
        newest = s.execute(select(Action.agent_version).where(Action.action_type == action_type)
                           .order_by(Action.created_at.desc()).limit(1)).scalar()
        where = [Action.action_type == action_type, Action.created_at >= since]
        if not all_versions:
            where.append(Action.agent_version.is_(None) if newest is None else Action.agent_version == newest)
        rows = s.execute(select(Action.confidence, Action.decision, Action.decision_source, Action.review_mode,
                                Action.route).where(*where)).all()
        checked = s.execute(select(Action.confidence, SpotCheck.verdict, SpotCheck.probability)
                            .join(SpotCheck, SpotCheck.action_id == Action.id).where(*where)).all()
    ev = Evidence(action_type, since, newest, all_versions)
    for confidence, decision, source, mode, route in rows:
        ev.proposed.append(confidence)
        if decision == Status.AUTO_APPROVED.value:
            ev.auto_approved += 1
            if (p := (route or {}).get("audit_p")) is not None:
                ev.strata[stratum(p)] = ev.strata.get(stratum(p), 0) + 1
        if source != DecisionSource.HUMAN.value or decision not in HUMAN:
            continue
        setattr(ev, decision, getattr(ev, decision) + 1)
        ev.verdicts.append(Judged(confidence, decision == Status.APPROVED.value, False))
        if mode == ReviewMode.SHADOW.value:
            ev.shadow_decided += 1
            ev.shadow_agreed += decision == Status.APPROVED.value
    for confidence, verdict, p in checked:
        if verdict is None:
            continue
        ev.verdicts.append(Judged(confidence, verdict == Verdict.LOOKS_RIGHT.value, True))
        if p is not None:
            c, f = ev.checks.get(stratum(p), (0, 0))
            ev.checks[stratum(p)] = (c + 1, f + (verdict == Verdict.FLAGGED.value))
    return ev
