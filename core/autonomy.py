"""Earned autonomy: review → sample → auto, back when the evidence turns, and shadow → review.

Judged on what matters, the errors that would run without a human, from recent human verdicts of
one agent version (core/evidence.py):

- review → sample when, had everything been auto-approved, escaped errors would have been at most
  SAMPLE_ESCAPED (3%, 95% upper bound): the reviewed remainder's wrong share (Wilson) and the
  auto-approved part's estimate from spot checks (core/population.py), weighed by their shares.
  Needless edits count as wrong here, which a bound on unmodified approvals of 98% could never
  get past; this bound can be reached by an agent that is good enough.
- sample → auto when the spot checks bound escaped errors at most AUTO_ESCAPED.
- shadow → review when the agent's proposals matched what people decided unaided often enough.
- Back one step (⚠) on an open drift alarm (core/drift.py), when spot checks put escaped errors
  above DEMOTE_ESCAPED for sure, or when the agent's high confidence is often overridden.

Every piece of advice comes with an `audit_rate`: enough spot checks a week (AUDITS_PER_WEEK) to
keep the drift test and the estimates alive, and never under DETECT_RATE, so that a drift is
caught within about 200 of the type's actions (bench/drift_power.py). Raising scrutiny may happen by itself (`on_drift`);
lowering it is always a person's edit of the policy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core import drift
from core import evidence as ev
from core.population import escaped, wilson
from core.services import Services

PROMOTE_REVIEWS = 100  # human reviews needed before sampling is suggested
SAMPLE_ESCAPED = 0.03  # upper bound on would-be escaped errors for review → sample
AUTO_CHECKS = 50  # spot checks needed before full autonomy is suggested
AUTO_ESCAPED = 0.02  # upper bound on escaped errors for sample → auto: ~190 clean checks
DEMOTE_ESCAPED = 0.05  # a lower bound of escaped errors above this sends it back
HIGH_CONFIDENCE = 0.9
MISCALIBRATED = 0.10  # lower bound of overrides among high-confidence reviews that raises the alarm
ALARM_SAMPLES = 20
SHADOW_DECIDED = 100
SHADOW_AGREEMENT = 0.90  # lower bound of agreement for shadow → review
AUDITS_PER_WEEK = 20  # what the drift test needs to catch a drift within days, not months
# ...and within 200 actions: at 25 in 100 the test catches a drift to 11% wrong in time ~94% of
# the time, against ~82% at 15 (bench/drift_power.py). Costly at high volume; it is advice.
DETECT_RATE = 0.25
BACK = {"auto": "sample", "sample": "review", "review": None, "shadow": None, "block": None}


@dataclass(frozen=True)
class Autonomy:
    action_type: str
    mode: str  # the policy's review_mode now
    recommended: str | None  # a different mode to move to, or None to keep
    alert: bool  # drift or miscalibration: the evidence says to trust the agent less
    why: str
    audit_rate: float | None = None  # the spot-check rate to go with the advice
    scope: str = ""


def audit_rate_for(per_week: float) -> float:
    """Enough spot checks for the drift test: AUDITS_PER_WEEK, and at least DETECT_RATE."""
    if per_week <= 0:
        return 1.0
    return float(f"{min(1.0, max(DETECT_RATE, AUDITS_PER_WEEK / per_week)):.2g}")


def autonomy(services: Services, action_type: str, mode: str, *, days: int = 30, now: datetime | None = None,
             all_versions: bool = False, evidence: ev.Evidence | None = None) -> Autonomy:
    e = evidence or ev.gather(services, action_type, days=days, now=now, all_versions=all_versions)
    per_week = len(e.proposed) / days * 7
    rate = audit_rate_for(per_week)

    def advice(recommended: str | None, alert: bool, why: str) -> Autonomy:
        return Autonomy(action_type, mode, recommended, alert, f"{why} ({e.scope}, last {days} days)", rate, e.scope)

    if (alarm := drift.open_alarm(services, action_type)) is not None:
        held = "; held in review until `hitl drift clear`" if alarm.hold else ""
        return advice(BACK.get(mode), True, f"drift: {alarm.evidence}{held}")

    reviews = [j for j in e.verdicts if not j.spot_check]
    high = [j for j in reviews if j.confidence >= HIGH_CONFIDENCE]
    overridden = sum(not j.right for j in high)
    if len(high) >= ALARM_SAMPLES and (low := wilson(overridden, len(high))[0]) > MISCALIBRATED:
        return advice(BACK.get(mode), True, f"miscalibration: {overridden} of {len(high)} reviewed proposals at "
                      f"confidence ≥ {HIGH_CONFIDENCE:g} were modified or rejected (lower bound {low:.0%})")

    auto = escaped(e.strata, e.checks)
    if auto.low is not None and auto.checks >= ALARM_SAMPLES and auto.low > DEMOTE_ESCAPED:
        return advice(BACK.get(mode), True, f"escaped errors: {auto.flagged} of {auto.checks} spot checks flagged; an "
                      f"estimated {auto.rate:.1%} of auto-approvals should not have run (at least {auto.low:.1%})")

    if mode == "shadow":
        agreed, decided = e.shadow_agreed, e.shadow_decided
        low = wilson(agreed, decided)[0] if decided else 0.0
        if decided >= SHADOW_DECIDED and low >= SHADOW_AGREEMENT:
            return advice("review", False, f"graduate from shadow: the agent's proposal matched what people decided "
                          f"unaided in {agreed} of {decided} (lower bound {low:.0%}); review with the threshold "
                          f"`hitl recommend` gives")
        return advice(None, False, f"keep shadowing: agreement {agreed} of {decided} (needs ≥ {SHADOW_DECIDED} with a "
                      f"lower bound ≥ {SHADOW_AGREEMENT:.0%})")

    if mode == "review":
        if not e.reviewed:  # 0 of 0 is no data, not 0%
            return advice(None, False, "keep reviewing: no human reviews yet")
        wrong = e.modified + e.rejected
        upper_reviewed = wilson(wrong, e.reviewed)[1] if e.reviewed else 1.0
        covered = auto.population if auto.high is not None else 0
        total = e.reviewed + covered
        bound = ((e.reviewed * upper_reviewed + covered * (auto.high or 0.0)) / total) if total else 1.0
        parts = f"{wrong} of {e.reviewed} reviewed were modified or rejected" + (
            f"; {auto.flagged} of {auto.checks} spot checks flagged" if auto.checks else "")
        if e.reviewed >= PROMOTE_REVIEWS and bound <= SAMPLE_ESCAPED:
            return advice("sample", False, f"{parts}: auto-approving everything would let through at most {bound:.1%} "
                          f"errors; sample, and spot-check at audit_rate {rate:g}")
        return advice(None, False, f"keep reviewing: {parts}; auto-approving everything would let through up to "
                      f"{bound:.1%} errors (needs ≥ {PROMOTE_REVIEWS} reviews and at most {SAMPLE_ESCAPED:.0%})")

    if mode == "sample":
        if auto.high is not None and auto.checks >= AUTO_CHECKS and auto.high <= AUTO_ESCAPED:
            return advice("auto", False, f"{auto.flagged} of {auto.checks} spot checks flagged (escaped errors at most "
                          f"{auto.high:.1%}); keep spot-checking at audit_rate {rate:g}")
        upper = "—" if auto.high is None else f"{auto.high:.1%}"
        return advice(None, False, f"keep sampling: {auto.flagged} of {auto.checks} spot checks flagged, escaped errors "
                      f"at most {upper} (needs ≥ {AUTO_CHECKS} checks and at most {AUTO_ESCAPED:.0%})")
    return advice(None, False, "no change suggested")
