"""The learning loop's part of a /hitl-stats window: estimates for all traffic from the spot checks,
the split by agent version, and `hitl recommend`'s advice. core/metrics.py assembles the report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, select

from core import autonomy, evidence, population, recommend, rollups
from core.policy.audit_draw import stratum
from core.rollups import HUMAN
from core.services import Services
from core.store.learning_tables import SpotCheck
from core.store.tables import Action
from core.vocabulary import DecisionSource, Status, Verdict

if TYPE_CHECKING:
    from core.stats_scope import Scope, Window


@dataclass(frozen=True)
class VersionFigures:
    """One agent version's proposals in the window (read raw: asked for, not kept in the rollups)."""

    version: str | None
    proposed: int
    reviewed: int
    modified: int
    rejected: int
    auto_approved: int
    checked: int
    flagged: int

    @property
    def override_rate(self) -> float | None:
        return self.modified / self.reviewed if self.reviewed else None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.reviewed if self.reviewed else None


def by_version(s, scope: Scope, start: datetime, end: datetime) -> list[VersionFigures]:
    human = and_(Action.decision_source == DecisionSource.HUMAN.value, Action.decision.in_(HUMAN))
    rows = s.execute(scope.filter(select(
        Action.agent_version, func.count(), func.count().filter(human),
        func.count().filter(human, Action.decision == Status.MODIFIED.value),
        func.count().filter(human, Action.decision == Status.REJECTED.value),
        func.count().filter(Action.decision == Status.AUTO_APPROVED.value),
        func.count(SpotCheck.verdict), func.count().filter(SpotCheck.verdict == Verdict.FLAGGED.value),
        func.max(Action.created_at))
        .outerjoin(SpotCheck, SpotCheck.action_id == Action.id)
        .where(Action.created_at >= start, Action.created_at < end).group_by(Action.agent_version))).all()
    rows = sorted(rows, key=lambda r: str(r[-1]), reverse=True)
    return [VersionFigures(*r[:-1]) for r in rows]


def estimates(s, scope: Scope, start: datetime, end: datetime, t: rollups.Tally) -> dict:
    """The window's spot-check verdicts per stratum, against its auto-approvals per stratum."""
    verdicts: dict[str, tuple[int, int]] = {}
    for p, checked, flagged in s.execute(scope.narrow(
            select(SpotCheck.probability, func.count(SpotCheck.verdict),
                   func.count().filter(SpotCheck.verdict == Verdict.FLAGGED.value))
            .where(SpotCheck.created_at >= start, SpotCheck.created_at < end, SpotCheck.probability.is_not(None))
            .group_by(SpotCheck.probability), SpotCheck.action_id)):
        key = stratum(p)
        c, f = verdicts.get(key, (0, 0))
        verdicts[key] = (c + checked, f + flagged)
    auto = population.escaped(t.strata, verdicts)
    return {"escaped_estimate": auto,
            "traffic_estimate": population.all_traffic(t.reviewed, t.modified + t.rejected, auto)}


def advice(services: Services, scope: Scope, window: Window, by_type: dict, reviewed: int, limit: int):
    """`hitl recommend` for the action types reviewed in the window, over the same window. It reads
    every proposal in it, so past `limit` reviewed it is left to `hitl recommend`."""
    if scope.agent_ids is not None or not by_type:  # thresholds are policy-wide: not an agent's own view
        return [], False
    if reviewed > limit:
        return [], True
    policy = services.policies.current().policy
    out = []
    for t in by_type:
        found = evidence.gather(services, t, days=window.days, now=window.end)
        entry, _ = policy.for_action_type(t)
        out.append((recommend.recommend(services, t, days=window.days, evidence=found,
                                        current=entry.auto_approve_threshold),
                    autonomy.autonomy(services, t, entry.review_mode.value, days=window.days, evidence=found)))
    return out, False
