"""The numbers managers read (/hitl-stats, `hitl stats`, GET /v1/stats), from the rollups that
core/rollups.py keeps with every proposal, vote and decision; percentiles exact up to EXACT_LIMIT.
The text people read is core/stats_text.py's.

Definitions (ARCHITECTURE.md vocabulary): reviewed = approved + modified + rejected by a human in
the window; override rate = modified / reviewed; rejection rate = rejected / reviewed;
time-to-decision over reviewed actions; exception diversity = distinct reason tags plus distinct
sets of modified top-level fields.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.dialects import postgresql as pg

from core import autonomy, gold, learning_stats, population, recommend, review_quality, rollups, ttd_histogram
from core.rollups import HUMAN
from core.services import Services
from core.stats_scope import Scope, Window, ceil_to, scope_of
from core.store.learning_tables import GoldItem, Rollup, SpotCheck
from core.store.tables import Action, Escalation, Vote
from core.vocabulary import DecisionSource, Status

DAY = timedelta(days=1)
# Up to this many decisions (or votes) in a window, its percentiles and medians are computed from the
# rows themselves (about 1 µs a row on PostgreSQL, read from covering indexes); beyond it, from the
# rollups' histograms, within 2.5%, and shown with ≈.
EXACT_LIMIT = 50_000
# `hitl recommend` reads every proposal in the window in Python: /hitl-stats repeats its advice only
# up to this many reviewed (measured: +90 ms at 3,900 reviewed), and otherwise points to the command.
RECOMMEND_LIMIT = 5_000
PERIODS = {"week": (7, 8), "day": (1, 14)}  # sparkline: period length in days, how many periods


@dataclass(frozen=True)
class Headline:
    proposed: int
    reviewed: int
    approved: int
    modified: int
    rejected: int
    auto_approved: int
    blocked: int
    override_rate: float | None
    rejection_rate: float | None
    intervention_rate: float | None  # share of proposals that needed a human
    auto_approve_share: float | None
    ttd_p50: float | None
    ttd_p90: float | None
    ttd_exact: bool  # False: read from the rollups' histogram, within 2.5%
    distinct_tags: int
    distinct_field_sets: int
    top_tags: list[tuple[str, int]]
    top_fields: list[tuple[str, int]] = field(default_factory=list)  # top-level payload fields reviewers modified
    sampled: int = 0  # auto-approvals drawn for an audit after the fact
    audited: int = 0  # of those, with a verdict
    escaped: int = 0  # flagged "should not have happened": errors that got through
    escalations: int = 0  # escalation steps fired (levels and lapsed claims)
    sla_breaches: int = 0  # actions whose first SLA passed undecided (escalated, expired or ended by policy)
    shadow_decided: int = 0  # shadow mode: decided by a human, with the agent's proposal only recorded
    shadow_agreed: int = 0  # of those, the human went ahead with exactly what the agent proposed
    # Decided by the policy because nobody answered: never counted as reviews (or in any rate above)
    policy_approved: int = 0  # an escalation tree's final approve
    policy_rejected: int = 0  # its final reject
    expired: int = 0  # a final expire, or the agent's deadline
    # The window's (not the trend's): errors among auto-approved traffic and among all of it, estimated
    # from the spot checks weighed by how they were drawn (core/population.py)
    escaped_estimate: population.Estimate | None = None
    traffic_estimate: population.Estimate | None = None


@dataclass(frozen=True)
class Stats:
    scope: str
    window: Window
    current: Headline
    previous: Headline
    pending: int
    oldest_pending: datetime | None
    by: str = "week"
    trend: list[tuple[datetime, Headline]] = field(default_factory=list)  # oldest period first
    calibration: review_quality.Calibration | None = None
    reviewers: list[review_quality.ReviewerLoad] = field(default_factory=list)
    agreement: review_quality.Agreement | None = None
    by_type: dict[str, tuple[list, list]] = field(default_factory=dict)  # action type -> (top tags, top fields)
    # Per action type reviewed in the window: the threshold and earned-autonomy advice of `hitl recommend`,
    # from the same window. Empty for an agent's own view, and beyond RECOMMEND_LIMIT (then: run `hitl recommend`).
    recommendations: list[tuple[recommend.Recommendation, autonomy.Autonomy]] = field(default_factory=list)
    recommend_skipped: bool = False
    stamps: list[review_quality.Stamp] = field(default_factory=list)  # possible rubber-stamping (⚠)
    ratings: list[review_quality.Rating] = field(default_factory=list)  # reviewers' ratings per type and dimension
    gold: list[gold.Accuracy] = field(default_factory=list)  # reviewers' answers to gold items (core/gold.py)
    # `by version`: per agent version, newest first
    versions: list[learning_stats.VersionFigures] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _pieces(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime, int]]:
    """[start, end) as (grain, from, to, sign) rollup ranges: whole UTC days, plus the hours of the days
    cut at either end. Where a cut day's share is more than half of it, it is read as the whole day
    minus the hours outside, so no more than twelve hourly rows are read per cut."""
    first, last = ceil_to(start, "day"), rollups.floor_to(end, "day")
    if first > last:  # within one day
        return [("hour", start, end, 1)]
    out = [("day", first, last, 1)] if first < last else []
    cuts = []
    if start != first:  # the window starts inside day first - 1
        cuts.append((first - DAY, (start, first), (first - DAY, start)))
    if end != last:  # it ends inside day last
        cuts.append((last, (last, end), (end, last + DAY)))
    for day, inside, outside in cuts:
        if inside[1] - inside[0] <= DAY / 2:
            out.append(("hour", *inside, 1))
        else:
            out += [("day", day, day + DAY, 1), ("hour", *outside, -1)]
    return out


def _tallies(s, scope: Scope, periods: list[tuple[datetime, datetime]],
             maps: tuple[str, ...] = rollups.STAT_MAPS) -> list[dict[str, rollups.Tally]]:
    """Per period (they may overlap), the rolled-up tally of each action type. The time line is cut
    at every period boundary into disjoint segments; each rollup row is added to its segment once
    (a cut day at most twice), and a period is the sum of its segments."""
    bounds = sorted({t for p in periods for t in p})
    segments = list(pairwise(bounds))
    pieces = [(k, *piece) for k, (a, b) in enumerate(segments) for piece in _pieces(a, b)]
    sums: list[dict[str, rollups.Tally]] = [{} for _ in segments]
    for grain in ("day", "hour"):
        ranges = [(a, b, k, sign) for k, g, a, b, sign in pieces if g == grain]
        for row in rollups.read(s, lambda stmt: scope.filter(stmt, Rollup), grain, {(a, b) for a, b, _, _ in ranges},
                                maps):
            for a, b, k, sign in ranges:
                if a <= row.start < b:
                    into = sums[k]
                    (into.get(row.action_type) or into.setdefault(row.action_type, rollups.Tally())).add_row(
                        row, sign, maps)
    out = []
    for a, b in periods:
        by_type: dict[str, rollups.Tally] = {}
        for k, (c, d) in enumerate(segments):
            if a <= c and d <= b:
                for action_type, tally in sums[k].items():
                    by_type.setdefault(action_type, rollups.Tally()).add(tally)
        out.append(by_type)
    return out


def _total(by_type: dict[str, rollups.Tally]) -> rollups.Tally:
    total = rollups.Tally()
    for t in by_type.values():
        total.add(t)
    return total


def _bucket(column, periods):
    return case(*[(and_(column >= a, column < b), i) for i, (a, b) in enumerate(periods)], else_=None)


def _extras(s, scope: Scope, periods: list[tuple[datetime, datetime]]) -> list[dict]:
    """Sampled audits and escalations per period (periods must not overlap): small tables, read raw."""
    out = [dict(sampled=0, audited=0, escaped=0, escalations=0, sla_breaches=0) for _ in periods]
    low, high = min(a for a, _ in periods), max(b for _, b in periods)
    at = _bucket(SpotCheck.created_at, periods)
    for i, sampled, audited, escaped in s.execute(scope.narrow(
            select(at, func.count(), func.count(SpotCheck.verdict),
                   func.count().filter(SpotCheck.verdict == "flagged"))
            .where(SpotCheck.created_at >= low, SpotCheck.created_at < high).group_by(at), SpotCheck.action_id)):
        out[i].update(sampled=sampled, audited=audited, escaped=escaped)
    at = _bucket(Escalation.fired_at, periods)
    for i, fired, breached in s.execute(scope.narrow(
            select(at, func.count().filter(Escalation.kind.in_(("escalated", "ack_timeout"))),
                   func.count(func.distinct(Escalation.action_id)))
            .where(Escalation.fired_at >= low, Escalation.fired_at < high).group_by(at), Escalation.action_id)):
        out[i].update(escalations=fired, sla_breaches=breached)
    return out


def _ttd(s, scope: Scope, start: datetime, end: datetime) -> tuple[float | None, float | None]:
    """Exact nearest-rank p50 and p90 over the window's human decisions (PostgreSQL sorts them itself)."""
    where = (Action.decided_at >= start, Action.decided_at < end, Action.decision.in_(HUMAN),
             Action.decision_source == DecisionSource.HUMAN.value)
    if s.get_bind().dialect.name == "postgresql":
        # One sort of intervals for both (the index holds both timestamps: no table reads).
        both = type_coerce(func.percentile_disc(pg.array([0.5, 0.9])).within_group(Action.decided_at - Action.created_at),
                           pg.ARRAY(pg.INTERVAL))
        found = s.execute(scope.filter(select(both).where(*where))).scalar()
        p50, p90 = (None if v is None else v.total_seconds() for v in found or (None, None))
        return p50, p90
    values = [(d - c).total_seconds() for c, d in s.execute(scope.filter(
        select(Action.created_at, Action.decided_at).where(*where)))]
    return percentile(values, 50), percentile(values, 90)


def _top(counter, n: int = 5) -> list[tuple[str, int]]:
    return sorted(((k, v) for k, v in counter.items() if v), key=lambda kv: (-kv[1], kv[0]))[:n]


def headline_of(t: rollups.Tally, extras: dict, ttd: tuple[float | None, float | None] | None = None) -> Headline:
    """A period's figures from its tally. Without exact `ttd` the percentiles come from the histogram."""
    exact = ttd is not None
    if ttd is None:
        ttd = ttd_histogram.ttd_percentile(t.ttd, 50), ttd_histogram.ttd_percentile(t.ttd, 90)
    reviewed = t.reviewed
    return Headline(
        proposed=t.proposed, reviewed=reviewed, approved=t.approved, modified=t.modified, rejected=t.rejected,
        auto_approved=t.auto_approved, blocked=t.blocked,
        override_rate=_ratio(t.modified, reviewed), rejection_rate=_ratio(t.rejected, reviewed),
        intervention_rate=_ratio(t.proposed - t.auto_approved - t.blocked, t.proposed),
        auto_approve_share=_ratio(t.auto_approved, t.proposed),
        ttd_p50=ttd[0], ttd_p90=ttd[1], ttd_exact=exact,
        distinct_tags=sum(1 for v in t.tags.values() if v), distinct_field_sets=sum(1 for v in t.field_sets.values() if v),
        top_tags=_top(t.tags), top_fields=_top(t.fields),
        shadow_decided=t.shadow_decided, shadow_agreed=t.shadow_agreed,
        policy_approved=t.policy_approved, policy_rejected=t.policy_rejected, expired=t.expired, **extras,
    )


def headlines_by_type(services: Services, scope: Scope, now: datetime, days: int) -> dict[str, Headline]:
    """Each action type's headline over the window ending `now`, from the rollups alone: rates and
    counts as `stats` has them (percentiles from the histograms, no spot checks or escalations)."""
    window = Window.ending(now, days)
    with services.db.read() as s:
        (by_type,) = _tallies(s, scope, [(window.start, window.end)])
    none = dict(sampled=0, audited=0, escaped=0, escalations=0, sla_breaches=0)
    return {action_type: headline_of(tally, none) for action_type, tally in by_type.items()}


def _window_headline(s, scope: Scope, start: datetime, end: datetime, t: rollups.Tally, extras: dict,
                     limit: int) -> Headline:
    """A window's figures: its percentiles exact from the decisions themselves unless there are too many to sort."""
    return headline_of(t, extras, _ttd(s, scope, start, end) if t.reviewed <= limit else None)


def _reviewer_load(s, scope: Scope, window: Window, votes: int) -> list[review_quality.ReviewerLoad]:
    """Exact from the votes themselves; beyond EXACT_LIMIT votes, the medians come from rolled-up histograms."""
    if votes <= EXACT_LIMIT:
        return review_quality.reviewer_load_of(s, lambda stmt: scope.filter(stmt, Vote), window.start, window.end)
    sums = rollups.reviewer_sums(_total(_tallies(s, scope, [(window.start, window.end)], ("reviewers",))[0]).reviewers)
    return review_quality.loads_of([(who, n, ok, ttd_histogram.ttd_median(histogram), False)
                                    for who, (n, ok, histogram) in sums.items()])


def stats(services: Services, subject: str | None = None, days: int = 7, now: datetime | None = None, by: str = "week",
          scope: Scope | None = None, versions: bool = False, only_types: tuple[str, ...] | None = None) -> Stats:
    window = Window.ending(now or services.clock(), days)
    previous = window.previous()
    scope = scope or scope_of(services, subject, only_types)
    length, count = PERIODS.get(by, PERIODS["week"])
    periods = [(window.end - timedelta(days=length * (k + 1)), window.end - timedelta(days=length * k))
               for k in range(count - 1, -1, -1)]
    windows = [(previous.start, previous.end), (window.start, window.end)]
    # The previous window's percentiles show only in GET /v1/stats (the text compares rates): sort fewer.
    limits = (EXACT_LIMIT // 5, EXACT_LIMIT)
    with services.db.read() as s:
        tallies = _tallies(s, scope, periods + windows)
        extras = _extras(s, scope, periods) + _extras(s, scope, windows)
        first = len(periods)
        prev_head, cur_head = (_window_headline(s, scope, a, b, _total(tallies[first + i]), extras[first + i], limit)
                               for i, ((a, b), limit) in enumerate(zip(windows, limits, strict=True)))
        cur_head = replace(cur_head, **learning_stats.estimates(s, scope, window.start, window.end, _total(tallies[-1])))
        pending, oldest = s.execute(scope.filter(select(func.count(), func.min(Action.created_at))
                                                  .where(Action.status == Status.PENDING.value))).one()
        votes = _total(tallies[-1]).votes
        reviewers = _reviewer_load(s, scope, window, votes)
        stamps, ratings = [], []
        if votes <= EXACT_LIMIT:  # read vote by vote; past it, reviewer load still comes from the rollups
            narrow = lambda stmt: scope.filter(stmt, Vote)  # noqa: E731
            stamps = review_quality.stamps_of(s, narrow, window.start, window.end)
            ratings = review_quality.ratings_of(s, narrow, previous.start, window.start, window.end)
        flagged = {st.reviewer for st in stamps}
        scores = gold.accuracy(s, lambda stmt: scope.filter(stmt, GoldItem), window.start, window.end)
        reviewers = [replace(r, rubber_stamp=r.reviewer in flagged) for r in reviewers]
        split = learning_stats.by_version(s, scope, window.start, window.end) if versions else []
    if oldest is not None and oldest.tzinfo is None:  # SQLite hands aggregates back without the column's type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    exact = {windows[0]: prev_head, windows[1]: cur_head}
    # Periods that are one of the two windows (7d by week) show the exact figures.
    trend = [(a, exact.get((a, b)) or headline_of(_total(tallies[i]), extras[i])) for i, (a, b) in enumerate(periods)]
    rolled = _total(tallies[-1])
    calibration = review_quality.calibration_of(rolled.calibration)
    agreement = review_quality.Agreement(rolled.multi_voted, rolled.multi_agreed)
    by_type = {t: (_top(tally.tags, 3), _top(tally.fields, 3)) for t, tally in sorted(tallies[-1].items())
               if tally.reviewed}
    advice, skipped = learning_stats.advice(services, scope, window, by_type, cur_head.reviewed, RECOMMEND_LIMIT)
    return Stats(scope=scope.label, window=window, current=cur_head, previous=prev_head, pending=pending,
                 oldest_pending=oldest, by=by, trend=trend, calibration=calibration, reviewers=reviewers,
                 agreement=agreement, by_type=by_type, recommendations=advice, recommend_skipped=skipped,
                 versions=split, stamps=stamps, ratings=ratings, gold=scores)
