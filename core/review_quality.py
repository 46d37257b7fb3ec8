"""How well the humans and the agent's confidence are doing: calibration of confidence against
human approval, reviewer load, rubber-stamping, and agreement between reviewers."""
from __future__ import annotations

from dataclasses import dataclass
from statistics import median

BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
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


def calibration(rows: list[tuple[float, bool]]) -> Calibration:
    """`rows`: (confidence, approved unmodified) for human-decided proposals."""
    buckets = []
    total = len(rows)
    ece = 0.0
    for i, (low, high) in enumerate(zip(BUCKETS, BUCKETS[1:])):
        last = i == len(BUCKETS) - 2
        inside = [(c, ok) for c, ok in rows if low <= c < high or (last and c == high)]
        if not inside:
            buckets.append(Bucket(low, high, 0, None, None))
            continue
        conf = sum(c for c, _ in inside) / len(inside)
        rate = sum(ok for _, ok in inside) / len(inside)
        ece += len(inside) / total * abs(rate - conf)
        buckets.append(Bucket(low, high, len(inside), conf, rate))
    return Calibration(buckets, ece if total else None)


@dataclass(frozen=True)
class ReviewerLoad:
    reviewer: str
    votes: int
    approve_share: float
    median_seconds: float
    rubber_stamp: bool  # nearly everything approved, in a couple of seconds


@dataclass(frozen=True)
class Agreement:
    items: int  # action revisions that got more than one vote
    agreeing: int  # of those, all votes the same kind

    @property
    def rate(self) -> float | None:
        return self.agreeing / self.items if self.items else None


def reviewer_load(votes: list[tuple[str, str, float]]) -> list[ReviewerLoad]:
    """`votes`: (reviewer, kind, seconds from proposal to the vote). Busiest first."""
    by: dict[str, list[tuple[str, float]]] = {}
    for reviewer, kind, seconds in votes:
        by.setdefault(reviewer, []).append((kind, seconds))
    out = []
    for reviewer, vs in by.items():
        share = sum(k == "approve" for k, _ in vs) / len(vs)
        med = median(s for _, s in vs)
        stamp = (len(vs) >= RUBBER_STAMP_MIN_VOTES and share >= RUBBER_STAMP_APPROVE_SHARE
                 and med <= RUBBER_STAMP_MEDIAN_SECONDS)
        out.append(ReviewerLoad(reviewer, len(vs), share, med, stamp))
    return sorted(out, key=lambda r: (-r.votes, r.reviewer))


def agreement(votes: list[tuple[str, int, str]]) -> Agreement:
    """`votes`: (action_id, revision, kind). Items are action revisions with two or more votes."""
    groups: dict[tuple[str, int], set[str]] = {}
    counts: dict[tuple[str, int], int] = {}
    for action_id, revision, kind in votes:
        groups.setdefault((action_id, revision), set()).add(kind)
        counts[(action_id, revision)] = counts.get((action_id, revision), 0) + 1
    multi = [k for k, n in counts.items() if n > 1]
    return Agreement(len(multi), sum(1 for k in multi if len(groups[k]) == 1))
