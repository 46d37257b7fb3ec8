"""How likely an auto-approval is to be drawn for a spot check: the action type's rate, raised
toward what is most likely wrong. Pure; the draw itself is the caller's.

The probability is recorded with the draw (on the route, the spot check and the rollups'
strata), so the stats can weigh each spot check by how it was drawn and estimate the error rate
of all auto-approved traffic, not only of the riskiest part that was looked at.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.vocabulary import Risk

MARGIN = 0.05  # confidence this close above the threshold is the likeliest to be wrong...
MARGIN_SHARE = 0.25  # ...but at most this share of the room above it: with a threshold of 0.93, 0.0175.
# A fixed 0.05 above 0.93 covered nearly every auto-approval of a confident agent (the simulation's
# sat at 0.93-0.995), so it tripled the spot checks instead of leaning them toward the riskiest.
MARGIN_BOOST = 3.0
RISK_BOOST = 2.0  # high risk (critical is never auto-approved under the default risk classes)
TIGHTENED_BOOST = 3.0  # the type's drift test has seen flags lately (core/drift.py): look harder until it clears


@dataclass(frozen=True)
class Draw:
    probability: float
    why: tuple[str, ...]  # what raised it above the base rate


def probability(base: float, *, confidence: float, threshold: float | None, risk: Risk,
                tightened: bool = False) -> Draw:
    p, why = base, []
    if tightened:  # acceptance sampling's switching rule: suspicion moves normal inspection to tightened
        p *= TIGHTENED_BOOST
        why.append("recent flags: tightened")
    margin = MARGIN if threshold is None else min(MARGIN, round((1.0 - threshold) * MARGIN_SHARE, 4))
    if threshold is not None and confidence - threshold < margin:
        p *= MARGIN_BOOST
        why.append(f"within {margin:g} of the threshold")
    if risk.rank >= Risk.HIGH.rank:
        p *= RISK_BOOST
        why.append(f"{risk.value} risk")
    return Draw(round(min(1.0, p), 6), tuple(why))


def stratum(p: float) -> str:
    """The rollups' and the spot checks' key for a probability: the same text for the same draw."""
    return f"{p:.6g}"
