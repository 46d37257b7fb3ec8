"""Confidence-threshold recommendations from past human decisions.

For an action type, a threshold t is safe when the proposals a human reviewed with confidence >= t
were approved unmodified at the target rate, judged by the Wilson score lower bound (so a handful
of lucky approvals proves nothing) and with at least `min_samples` of them. The recommendation is
the lowest safe threshold: it lets the most through. It is a proposal for a person to write into
the policy file; nothing here changes the policy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.rollups import HUMAN
from core.services import Services
from core.store.tables import Action
from core.vocabulary import DecisionSource, Status

Z95 = 1.959963984540054


def wilson_lower(successes: int, n: int, z: float = Z95) -> float:
    """Lower bound of the Wilson score interval for a binomial proportion."""
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / (1 + z * z / n)


@dataclass(frozen=True)
class Recommendation:
    action_type: str
    reviewed: int  # human-decided proposals in the window
    threshold: float | None  # None: no threshold is safe yet
    samples: int  # reviewed proposals at or above the threshold
    approval_rate: float | None  # approved unmodified, among those
    wilson_lower: float | None
    auto_approve_share: float | None  # of all proposals in the window, the share at or above the threshold
    expected_escaped_rate: float | None  # upper bound on errors among those it would let through (1 - wilson_lower)
    why: str


def recommend(services: Services, action_type: str, *, target: float = 0.95, min_samples: int = 30, days: int = 90,
              now: datetime | None = None) -> Recommendation:
    since = (now or services.clock()) - timedelta(days=days)
    with services.db.read() as s:
        rows = s.execute(select(Action.confidence, Action.decision, Action.decision_source).where(
            Action.action_type == action_type, Action.created_at >= since, Action.decision.is_not(None))).all()
    everything = [c for c, _, _ in rows]
    reviewed = sorted(((c, d == Status.APPROVED.value) for c, d, source in rows
                       if d in HUMAN and source == DecisionSource.HUMAN.value), reverse=True)
    best = None
    ok = 0
    # Walk thresholds from the top down: each step adds the proposals at that confidence.
    for i, (confidence, approved) in enumerate(reviewed):
        ok += approved
        n = i + 1
        if i + 1 < len(reviewed) and reviewed[i + 1][0] == confidence:
            continue  # a threshold takes every proposal at its confidence
        if n >= min_samples and wilson_lower(ok, n) >= target:
            best = (confidence, n, ok)
    if best is None:
        return Recommendation(action_type, len(reviewed), None, 0, None, None, None, None,
                              f"no threshold reaches a {target:.0%} unmodified-approval lower bound with at least "
                              f"{min_samples} reviewed proposals (reviewed: {len(reviewed)})")
    threshold, n, ok = best
    lower = wilson_lower(ok, n)
    share = sum(1 for c in everything if c >= threshold) / len(everything)
    return Recommendation(action_type, len(reviewed), threshold, n, ok / n, lower, share, 1 - lower,
                          f"{ok} of {n} reviewed proposals with confidence ≥ {threshold:g} were approved unmodified "
                          f"(Wilson 95% lower bound {lower:.1%} ≥ target {target:.0%})")


def action_types(services: Services, days: int = 90, now: datetime | None = None) -> list[str]:
    since = (now or services.clock()) - timedelta(days=days)
    with services.db.read() as s:
        return sorted(s.scalars(select(Action.action_type).where(Action.created_at >= since).distinct()))


# ---- earned autonomy: review → sample → auto, and back when the evidence turns ----

PROMOTE_REVIEWS = 100  # reviewed proposals needed before sampling is suggested
PROMOTE_APPROVAL = 0.98  # Wilson lower bound of unmodified approval needed for that
AUTO_AUDITS = 50  # audited samples needed before full autonomy is suggested
AUTO_ESCAPED = 0.02  # upper bound (95 %) on flagged samples allowed for that: ~190 clean audits
DEMOTE_ESCAPED = 0.05  # a lower bound of flagged samples above this is drift
HIGH_CONFIDENCE = 0.9
MISCALIBRATED = 0.10  # lower bound of overrides among high-confidence proposals that raises the alarm
ALARM_SAMPLES = 20


@dataclass(frozen=True)
class Autonomy:
    action_type: str
    mode: str  # the policy's review_mode now
    recommended: str | None  # a different mode to move to, or None to keep
    alert: bool  # drift or miscalibration: the evidence says to trust the agent less
    why: str


def autonomy(services: Services, action_type: str, mode: str, *, days: int = 30, now: datetime | None = None) -> Autonomy:
    """What the last `days` of human decisions and sampled audits say about this action type's mode."""
    from core.store.learning_tables import SpotCheck

    since = (now or services.clock()) - timedelta(days=days)
    with services.db.read() as s:
        rows = s.execute(select(Action.confidence, Action.decision).where(
            Action.action_type == action_type, Action.created_at >= since, Action.decision.in_(HUMAN),
            Action.decision_source == DecisionSource.HUMAN.value)).all()
        audits = s.execute(select(SpotCheck.verdict).join(Action, Action.id == SpotCheck.action_id).where(
            Action.action_type == action_type, Action.created_at >= since, SpotCheck.verdict.is_not(None))).all()
    n, ok = len(rows), sum(d == Status.APPROVED.value for _, d in rows)
    high = [d for c, d in rows if c >= HIGH_CONFIDENCE]
    overridden = sum(d != Status.APPROVED.value for d in high)
    audited, flagged = len(audits), sum(v == "flagged" for (v,) in audits)

    if len(high) >= ALARM_SAMPLES and wilson_lower(overridden, len(high)) > MISCALIBRATED:
        back = {"auto": "sample", "sample": "review"}.get(mode)
        return Autonomy(action_type, mode, back, True,
                        f"miscalibration: {overridden} of {len(high)} proposals at confidence ≥ {HIGH_CONFIDENCE:g} "
                        f"were modified or rejected (lower bound {wilson_lower(overridden, len(high)):.0%})")
    if audited and mode in ("sample", "auto") and wilson_lower(flagged, audited) > DEMOTE_ESCAPED:
        return Autonomy(action_type, mode, "review" if mode == "sample" else "sample", True,
                        f"drift: {flagged} of {audited} sampled auto-approvals were flagged as should not have "
                        f"happened (lower bound {wilson_lower(flagged, audited):.0%})")
    if mode == "review":
        lower = wilson_lower(ok, n)
        if n >= PROMOTE_REVIEWS and lower >= PROMOTE_APPROVAL:
            return Autonomy(action_type, mode, "sample", False,
                            f"{ok} of {n} reviewed proposals were approved unmodified (lower bound {lower:.1%}): "
                            f"auto-approve and audit a sample afterwards")
        return Autonomy(action_type, mode, None, False, f"keep reviewing: {ok} of {n} approved unmodified "
                        f"(needs ≥ {PROMOTE_REVIEWS} with a lower bound ≥ {PROMOTE_APPROVAL:.0%})")
    if mode == "sample":
        upper = 1 - wilson_lower(audited - flagged, audited) if audited else 1.0
        if audited >= AUTO_AUDITS and upper <= AUTO_ESCAPED:
            return Autonomy(action_type, mode, "auto", False,
                            f"{flagged} of {audited} audited samples flagged (escaped errors at most {upper:.1%})")
        return Autonomy(action_type, mode, None, False, f"keep sampling: {flagged} of {audited} audited samples "
                        f"flagged (needs ≥ {AUTO_AUDITS} audits with escaped errors at most {AUTO_ESCAPED:.0%})")
    return Autonomy(action_type, mode, None, False, "no change suggested")
