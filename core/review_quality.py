"""How well the humans and the agent's confidence are doing: calibration of confidence against
human approval, reviewer load, rubber-stamping, and agreement between reviewers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from statistics import median

from sqlalchemy import func, select

from core.population import wilson
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


# ---- rubber-stamping and ratings, read raw for the window (up to metrics.EXACT_LIMIT votes) ----

PEERS_MIN_VOTES = 20
PEERS_GAP = 0.15  # approving this much more often than peers on the same action types
RATING_MIN = 5  # ratings of one dimension in a window before it is judged
RATING_LOW = 2.5  # of 5


@dataclass(frozen=True)
class Stamp:
    reviewer: str
    votes: int
    approve_share: float
    seconds: float  # median from the review message being posted (or, unposted, the proposal) to the vote
    peers_share: float | None  # others' approval share on the same action types
    why: str


def stamps_of(s, narrow, start: datetime, end: datetime) -> list[Stamp]:
    """Who approves nearly everything within seconds of seeing it, or far more often than their peers
    on the same work. Seconds count from the message being posted: the time the reviewer could look."""
    from core.store.tables import Action, ReviewMessage

    rows = s.execute(narrow(select(Vote.reviewer, Vote.action_type, Vote.kind, Vote.created_at, ReviewMessage.posted_at,
                                   Action.created_at)
                            .join(Action, Action.id == Vote.action_id)
                            .outerjoin(ReviewMessage, ReviewMessage.action_id == Vote.action_id)
                            .where(Vote.created_at >= start, Vote.created_at < end))).all()
    by: dict[str, list[tuple[str, bool, float]]] = {}
    per_type: dict[str, list[int]] = {}  # action type -> [votes, approvals]
    for reviewer, action_type, kind, at, posted, proposed in rows:
        approve = kind == "approve"
        by.setdefault(reviewer, []).append((action_type, approve, max(0.0, (at - (posted or proposed)).total_seconds())))
        tally = per_type.setdefault(action_type, [0, 0])
        tally[0] += 1
        tally[1] += approve
    out = []
    for reviewer, votes in sorted(by.items()):
        n, ok = len(votes), sum(a for _, a, _ in votes)
        share, seconds = ok / n, median(sec for _, _, sec in votes)
        mine: dict[str, list[int]] = {}
        for t, a, _ in votes:
            mine.setdefault(t, [0, 0])[0] += 1
            mine[t][1] += a
        peer_votes = sum(per_type[t][0] - mine[t][0] for t in mine)
        peer_ok = sum(per_type[t][1] - mine[t][1] for t in mine)
        peers = peer_ok / peer_votes if peer_votes else None
        if n >= RUBBER_STAMP_MIN_VOTES and share >= RUBBER_STAMP_APPROVE_SHARE and seconds <= RUBBER_STAMP_MEDIAN_SECONDS:
            out.append(Stamp(reviewer, n, share, seconds, peers, "fast"))
        elif (peers is not None and n >= PEERS_MIN_VOTES and peer_votes >= PEERS_MIN_VOTES
              and share - peers >= PEERS_GAP and wilson(ok, n)[0] > peers):
            out.append(Stamp(reviewer, n, share, seconds, peers, "peers"))
    return out


@dataclass(frozen=True)
class Rating:
    action_type: str
    dimension: str
    count: int
    mean: float
    previous_mean: float | None  # the window before, if it had RATING_MIN ratings
    stays_low: bool  # low in this window and the one before


def ratings_of(s, narrow, previous_start: datetime, start: datetime, end: datetime) -> list[Rating]:
    """Reviewers' ratings of the agent's proposals (1..5 per dimension, given with an edit), per action type."""
    rows = s.execute(narrow(select(Vote.action_type, Vote.ratings, Vote.created_at)
                            .where(Vote.created_at >= previous_start, Vote.created_at < end,
                                   Vote.ratings.is_not(None)))).all()
    sums: dict[tuple[str, str, bool], list[float]] = {}
    for action_type, ratings, at in rows:
        for dimension, value in (ratings or {}).items():
            if isinstance(value, int | float):
                sums.setdefault((action_type or "?", dimension, at >= start), []).append(float(value))
    out = []
    for (action_type, dimension, current), values in sorted(sums.items()):
        if not current:
            continue
        before = sums.get((action_type, dimension, False), [])
        mean = sum(values) / len(values)
        previous = sum(before) / len(before) if len(before) >= RATING_MIN else None
        low = len(values) >= RATING_MIN and mean <= RATING_LOW and previous is not None and previous <= RATING_LOW
        out.append(Rating(action_type, dimension, len(values), mean, previous, low))
    return out
