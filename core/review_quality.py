"""How well the humans and the agent's confidence are doing: calibration of confidence against
human approval, reviewer load, rubber-stamping, and agreement between reviewers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from statistics import median

from sqlalchemy import func, select

from core.rollups import CONFIDENCE_BUCKETS as BUCKETS  # the rollups keep calibration sums by these
from core.store.tables import Vote

RUBBER_STAMP_MIN_VOTES = 10
RUBBER_STAMP_APPROVE_SHARE = 0.95
RUBBER_STAMP_MEDIAN_SECONDS = 5.0


@dataclass(frozen=True)
class Bucket:
    low: float
    high: float
    count: int
    mean_confidence: float | None
    approval_rate: float | None  # approved unmodified


@dataclass(frozen=True)
class Calibration:
    buckets: list[Bucket]
    ece: float | None  # expected calibration error: Σ n_b/N · |approval_b − confidence_b|


def calibration_of(sums) -> Calibration:
    """From the rolled-up sums per bucket index i: "n:i" decisions, "sum:i" Σ confidence, "ok:i" approved unmodified."""
    by = {i: (sums.get(f"n:{i}", 0), sums.get(f"sum:{i}", 0.0), sums.get(f"ok:{i}", 0)) for i in range(len(BUCKETS) - 1)}
    total = sum(n for n, _, _ in by.values())
    buckets, ece = [], 0.0
    for i, (low, high) in enumerate(pairwise(BUCKETS)):
        n, conf_sum, ok = by.get(i, (0, 0.0, 0))
        if not n:
            buckets.append(Bucket(low, high, 0, None, None))
            continue
        conf, rate = conf_sum / n, ok / n
        ece += n / total * abs(rate - conf)
        buckets.append(Bucket(low, high, n, conf, rate))
    return Calibration(buckets, ece if total else None)


@dataclass(frozen=True)
class ReviewerLoad:
    reviewer: str
    votes: int
    approve_share: float
    median_seconds: float
    rubber_stamp: bool  # nearly everything approved, in a couple of seconds
    exact: bool = True  # False: the median comes from a histogram, within 2.5%


@dataclass(frozen=True)
class Agreement:
    items: int  # revisions of the actions decided in the window that got more than one vote
    agreeing: int  # of those, all votes the same kind

    @property
    def rate(self) -> float | None:
        return self.agreeing / self.items if self.items else None


def reviewer_load(votes: list[tuple[str, str, float]]) -> list[ReviewerLoad]:
    """`votes`: (reviewer, kind, seconds from proposal to the vote). Busiest first."""
    by: dict[str, list[tuple[str, float]]] = {}
    for reviewer, kind, seconds in votes:
        by.setdefault(reviewer, []).append((kind, seconds))
    return loads_of([(r, len(vs), sum(k == "approve" for k, _ in vs), median(s for _, s in vs)) for r, vs in by.items()])


def loads_of(rows) -> list[ReviewerLoad]:
    """From per-reviewer sums: (reviewer, votes, approvals, median seconds[, exact]). Busiest first."""
    out = []
    for reviewer, votes, approvals, med, *exact in rows:
        share = approvals / votes
        stamp = (votes >= RUBBER_STAMP_MIN_VOTES and share >= RUBBER_STAMP_APPROVE_SHARE
                 and med <= RUBBER_STAMP_MEDIAN_SECONDS)
        out.append(ReviewerLoad(reviewer, votes, share, float(med), stamp, *exact))
    return sorted(out, key=lambda r: (-r.votes, r.reviewer))


def reviewer_load_of(s, narrow, start: datetime, end: datetime) -> list[ReviewerLoad]:
    """Reviewer load over the votes cast in [start, end); `narrow` filters them to the scope."""
    in_window = (Vote.created_at >= start, Vote.created_at < end)
    if s.get_bind().dialect.name == "postgresql":  # the median per reviewer, computed where the rows are
        return loads_of(s.execute(narrow(select(
            Vote.reviewer, func.count(), func.count().filter(Vote.kind == "approve"),
            func.percentile_cont(0.5).within_group(Vote.time_to_decision_s)).where(*in_window)
            .group_by(Vote.reviewer))).all())
    return reviewer_load(s.execute(narrow(select(Vote.reviewer, Vote.kind, Vote.time_to_decision_s)
                                          .where(*in_window))).all())
