"""Estimates for all traffic, not only the part people looked at.

Rates among reviewed actions describe the risky remainder that routing sends to people, and they
rise as routing improves. What runs unreviewed is known only through spot checks, and those are
drawn with unequal probabilities (core/policy/audit_draw.py) on purpose. So the error rate of
auto-approved traffic is a stratified estimate: the auto-approvals are grouped by the probability
they were drawn with (a stratum each), each stratum's flagged share among its checked ones stands
for the stratum, and the strata are weighed by their size.

The interval is the stratified normal one with Agresti–Coull adjusted shares (each stratum's count
plus z²/2 flags in z² checks), so that a stratum with 0 flags of 12 still says "up to about 25%",
not "exactly 0". Strata without a single verdict are left out and reported as not covered.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    rate: float | None  # None: nothing checked
    low: float | None
    high: float | None
    population: int  # actions the estimate speaks for
    uncovered: int = 0  # auto-approvals in strata with no verdict yet: not in `population`
    checks: int = 0  # verdicts it rests on
    flagged: int = 0

    @property
    def expected(self) -> float | None:
        """Errors expected in the population."""
        return None if self.rate is None else self.rate * self.population


def escaped(strata: Mapping[str, int], verdicts: Mapping[str, tuple[int, int]]) -> Estimate:
    """`strata`: auto-approvals per probability key; `verdicts`: (checked, flagged) per key."""
    covered = {k: n for k, n in strata.items() if n > 0 and verdicts.get(k, (0, 0))[0] > 0}
    total = sum(covered.values())
    uncovered = sum(n for k, n in strata.items() if n > 0 and k not in covered)
    checks = sum(verdicts.get(k, (0, 0))[0] for k in covered)
    flagged = sum(verdicts.get(k, (0, 0))[1] for k in covered)
    if not total:
        return Estimate(None, None, None, 0, uncovered, 0, 0)
    if len(covered) == 1:  # one stratum: the Wilson score interval itself
        rate = flagged / checks
        low, high = wilson(flagged, checks)
        return Estimate(rate, low, high, total, uncovered, checks, flagged)
    z2 = Z95 * Z95
    rate = centre = variance = 0.0
    for k, n in covered.items():
        checked, bad = verdicts[k]
        w = n / total
        rate += w * bad / checked
        adjusted_n = checked + z2
        adjusted = (bad + z2 / 2) / adjusted_n
        centre += w * adjusted
        variance += w * w * adjusted * (1 - adjusted) / adjusted_n
    margin = Z95 * math.sqrt(variance)
    return Estimate(rate, max(0.0, centre - margin), min(1.0, centre + margin), total, uncovered, checks, flagged)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion; (0, 1) with no data."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n)), min(1.0, (centre + margin) / (1 + z * z / n))


def all_traffic(reviewed: int, wrong_reviewed: int, auto: Estimate) -> Estimate:
    """The agent's error rate over everything people reviewed (each one known) and every covered
    auto-approval (estimated): how often what it proposes is wrong, wherever it goes."""
    population = reviewed + auto.population
    if not population:
        return Estimate(None, None, None, 0, auto.uncovered)
    if auto.rate is None or auto.low is None or auto.high is None:
        rate = wrong_reviewed / reviewed
        return Estimate(rate, rate, rate, reviewed, auto.uncovered)
    share = auto.population / population
    known = wrong_reviewed / population
    return Estimate(known + share * auto.rate, known + share * auto.low, known + share * auto.high, population,
                    auto.uncovered, auto.checks, auto.flagged)
