"""Confidence-threshold recommendations from recent human verdicts (core/evidence.py).

For an action type, a threshold t is safe when the proposals at confidence >= t that a person
judged (reviews, and spot checks of what already ran) were right at the target rate, by the Wilson
score lower bound (a handful of lucky approvals proves nothing) and with at least `min_samples` of
them. The recommendation is the lowest safe threshold: it lets the most through.

With costs (`cost_error`: one wrong action that runs; `cost_review`: one human review) it is
instead the threshold with the lowest expected cost per proposal, among those with enough
evidence: (share below t) × cost_review + (share at or above t) × (error rate there) × cost_error,
the error rate smoothed as (wrong + 1) / (judged + 2). The curve is printed with it.

Either way it is a proposal for a person to write into the policy file; nothing here changes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from core import drift
from core import evidence as ev
from core.population import wilson
from core.services import Services
from core.store.tables import Action


def wilson_lower(successes: int, n: int) -> float:
    """Lower bound of the Wilson score interval for a binomial proportion (0 with no data)."""
    return wilson(successes, n)[0] if n else 0.0


@dataclass(frozen=True)
class CostPoint:
    threshold: float | None  # None: review everything
    auto_share: float
    error_rate: float  # smoothed, among judged proposals at or above the threshold
    judged: int
    cost_per_1000: float


@dataclass(frozen=True)
class Recommendation:
    action_type: str
    reviewed: int  # proposals a person decided in the window (this agent version)
    threshold: float | None  # None: no threshold is safe yet (or by cost: review everything)
    samples: int  # judged proposals (reviews and spot checks) at or above the threshold
    approval_rate: float | None  # right, among those
    wilson_lower: float | None
    auto_approve_share: float | None  # of all proposals in the window, the share at or above the threshold
    expected_escaped_rate: float | None  # upper bound on errors among those it would let through (1 - wilson_lower)
    why: str
    checked: int = 0  # spot-check verdicts among the judged
    scope: str = ""  # which agent version(s) the evidence covers
    curve: list[CostPoint] = field(default_factory=list)  # with costs: the expected cost per threshold


def _steps(judged: list[ev.Judged]) -> list[tuple[float, int, int]]:
    """(threshold, judged at or above it, right among them), from the top down; one step per confidence."""
    ordered = sorted(judged, key=lambda j: j.confidence, reverse=True)
    out, ok = [], 0
    for i, j in enumerate(ordered):
        ok += j.right
        if i + 1 < len(ordered) and ordered[i + 1].confidence == j.confidence:
            continue  # a threshold takes every proposal at its confidence
        out.append((j.confidence, i + 1, ok))
    return out


def recommend(services: Services, action_type: str, *, target: float = 0.95, min_samples: int = 30, days: int = 30,
              now: datetime | None = None, all_versions: bool = False, cost_error: float | None = None,
              cost_review: float | None = None, evidence: ev.Evidence | None = None,
              current: float | None = None) -> Recommendation:
    """`current`: the threshold in force. Once it applies, reviews above it stop, so fresh evidence
    there is only the spot checks: it is kept unless they speak against it (their upper bound of
    right answers under the target) or a drift alarm is open. It is never kept on no evidence at all."""
    e = evidence or ev.gather(services, action_type, days=days, now=now, all_versions=all_versions)
    steps = _steps(e.verdicts)
    checked = sum(j.spot_check for j in e.verdicts)
    share = (lambda t: sum(1 for c in e.proposed if c >= t) / len(e.proposed)) if e.proposed else (lambda t: 0.0)
    if drift.open_alarm(services, action_type) is not None:
        return Recommendation(action_type, e.reviewed, None, 0, None, None, None, None,
                              "a drift alarm is open: no auto-approval until it is understood (hitl drift list)",
                              checked, e.scope)
    if cost_error is not None and cost_review is not None:
        return _by_cost(e, steps, share, checked, min_samples, cost_error, cost_review)
    best = None
    for threshold, n, ok in steps:
        if n >= min_samples and wilson_lower(ok, n) >= target:
            best = (threshold, n, ok)
    if best is None and current is not None:
        above = [(n, ok) for t, n, ok in steps if t >= current]
        n, ok = above[-1] if above else (0, 0)
        if n and wilson(ok, n)[1] >= target:
            return Recommendation(action_type, e.reviewed, current, n, ok / n, wilson_lower(ok, n), share(current),
                                  None, f"keep {current:g}: {ok} of {n} judged at or above it since were right, too few "
                                  f"to move it and none against it; spot checks and the drift test watch it ({e.scope})",
                                  checked, e.scope)
    if best is None:
        return Recommendation(action_type, e.reviewed, None, 0, None, None, None, None,
                              f"no threshold reaches a {target:.0%} lower bound of right answers with at least "
                              f"{min_samples} judged proposals (judged: {len(e.verdicts)}, {e.scope})",
                              checked, e.scope)
    threshold, n, ok = best
    lower = wilson_lower(ok, n)
    return Recommendation(action_type, e.reviewed, threshold, n, ok / n, lower, share(threshold), 1 - lower,
                          f"{ok} of {n} judged proposals with confidence ≥ {threshold:g} were right (reviews and spot "
                          f"checks; Wilson 95% lower bound {lower:.1%} ≥ target {target:.0%}; {e.scope})",
                          checked, e.scope)


def _by_cost(e: ev.Evidence, steps, share, checked: int, min_samples: int, cost_error: float,
             cost_review: float) -> Recommendation:
    curve = [CostPoint(None, 0.0, 0.0, 0, 1000 * cost_review)]
    for threshold, n, ok in steps:
        if n < min_samples:
            continue
        rate, auto = (n - ok + 1) / (n + 2), share(threshold)
        curve.append(CostPoint(threshold, auto, rate, n, 1000 * ((1 - auto) * cost_review + auto * rate * cost_error)))
    best = min(curve, key=lambda p: (p.cost_per_1000, -(p.threshold or 0)))
    saving = curve[0].cost_per_1000 - best.cost_per_1000
    if best.threshold is None:
        why = (f"reviewing everything is cheapest at {cost_error:g} per escaped error and {cost_review:g} per review "
               f"({e.scope}; thresholds need ≥ {min_samples} judged proposals above them)")
        return Recommendation(e.action_type, e.reviewed, None, 0, None, None, None, None, why, checked, e.scope, curve)
    n = best.judged
    ok = next(k for t, m, k in steps if t == best.threshold)
    why = (f"lowest expected cost: {best.cost_per_1000:,.0f} per 1,000 proposals against {curve[0].cost_per_1000:,.0f} "
           f"reviewing everything (saves {saving:,.0f}); {best.auto_share:.0%} auto-approved with an estimated "
           f"{best.error_rate:.1%} error rate ({e.scope})")
    return Recommendation(e.action_type, e.reviewed, best.threshold, n, ok / n, wilson_lower(ok, n), best.auto_share,
                          1 - wilson_lower(ok, n), why, checked, e.scope, curve)


def action_types(services: Services, days: int = 30, now: datetime | None = None) -> list[str]:
    since = (now or services.clock()) - timedelta(days=days)
    with services.db.read() as s:
        return sorted(s.scalars(select(Action.action_type).where(Action.created_at >= since).distinct()))
