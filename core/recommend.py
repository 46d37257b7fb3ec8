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

from core.gate import Gate
from core.store.tables import Action
from core.vocabulary import Status

HUMAN = (Status.APPROVED.value, Status.MODIFIED.value, Status.REJECTED.value)
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


def recommend(gate: Gate, action_type: str, *, target: float = 0.95, min_samples: int = 30, days: int = 90,
              now: datetime | None = None) -> Recommendation:
    since = (now or gate.clock()) - timedelta(days=days)
    with gate.db.read() as s:
        rows = s.execute(select(Action.confidence, Action.decision).where(
            Action.action_type == action_type, Action.created_at >= since, Action.decision.is_not(None))).all()
    everything = [c for c, _ in rows]
    reviewed = sorted(((c, d == Status.APPROVED.value) for c, d in rows if d in HUMAN), reverse=True)
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


def action_types(gate: Gate, days: int = 90, now: datetime | None = None) -> list[str]:
    since = (now or gate.clock()) - timedelta(days=days)
    with gate.db.read() as s:
        return sorted(s.scalars(select(Action.action_type).where(Action.created_at >= since).distinct()))
