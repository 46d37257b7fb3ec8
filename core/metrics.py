"""The numbers managers read (/hitl-stats, `hitl stats`): computed exactly from stored decisions.

Definitions (ARCHITECTURE.md vocabulary): reviewed = approved + modified + rejected by a human in
the window; override rate = modified / reviewed; rejection rate = rejected / reviewed;
time-to-decision over reviewed actions; exception diversity = distinct reason tags plus distinct
sets of modified top-level fields.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core import review_quality
from core.gate import Gate
from core.store.tables import Action, Agent, Escalation, SampleAudit, Vote
from core.vocabulary import Status

HUMAN = (Status.APPROVED.value, Status.MODIFIED.value, Status.REJECTED.value)
_WINDOW = re.compile(r"^(\d{1,3})d$")
PERIODS = {"week": (7, 8), "day": (1, 14)}  # sparkline: period length in days, how many periods
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Window:
    days: int
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end: datetime, days: int) -> "Window":
        return cls(days=days, start=end - timedelta(days=days), end=end)

    def previous(self) -> "Window":
        return Window.ending(self.start, self.days)


@dataclass(frozen=True)
class Headline:
    proposed: int
    reviewed: int
    approved: int
    modified: int
    rejected: int
    auto_approved: int
    override_rate: float | None
    rejection_rate: float | None
    intervention_rate: float | None  # share of proposals that needed a human
    auto_approve_share: float | None
    ttd_p50: float | None
    ttd_p90: float | None
    distinct_tags: int
    distinct_field_sets: int
    top_tags: list[tuple[str, int]]
    sampled: int = 0  # auto-approvals drawn for an audit after the fact
    audited: int = 0  # of those, with a verdict
    escaped: int = 0  # flagged "should not have happened": errors that got through
    escalations: int = 0  # escalation steps fired (levels and lapsed claims)
    sla_breaches: int = 0  # actions whose first SLA passed undecided (escalated, expired or ended by policy)
    shadow_decided: int = 0  # shadow mode: decided by a human, with the agent's proposal only recorded
    shadow_agreed: int = 0  # of those, the human went ahead with exactly what the agent proposed


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


@dataclass(frozen=True)
class Query:
    subject: str | None
    days: int
    by: str


def parse_args(text: str) -> Query:
    """`[action_type|agent] [7d|30d|90d] [by day|week]` in any order; other words are the filter."""
    days, subject, by = 7, None, "week"
    words = (text or "").split()
    i = 0
    while i < len(words):
        word = words[i]
        m = _WINDOW.match(word)
        if m:
            days = max(1, min(int(m[1]), 365))
        elif word == "by" and i + 1 < len(words) and words[i + 1] in PERIODS:
            by = words[i + 1]
            i += 1
        elif subject is None:
            subject = word
        i += 1
    return Query(subject, days, by)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


@dataclass(frozen=True)
class Scope:
    """Which actions count: some agents', one action type's, both, or all."""

    label: str
    agent_ids: tuple[int, ...] | None = None
    action_type: str | None = None

    def filter(self, stmt):
        if self.agent_ids is not None:
            stmt = stmt.where(Action.agent_id.in_(self.agent_ids))
        if self.action_type is not None:
            stmt = stmt.where(Action.action_type == self.action_type)
        return stmt


def scope_of(gate: Gate, subject: str | None) -> Scope:
    """A subject naming an agent scopes by agent; otherwise it names an action type."""
    if subject is None:
        return Scope("all action types")
    with gate.db.read() as s:
        ids = tuple(s.scalars(select(Agent.id).where(Agent.name == subject)))
    return Scope(subject, agent_ids=ids) if ids else Scope(subject, action_type=subject)


def headline(gate: Gate, window: Window, scope: Scope) -> Headline:
    with gate.db.read() as s:
        proposed_stmt = scope.filter(select(Action.decision, func.count()).where(
            Action.created_at >= window.start, Action.created_at < window.end).group_by(Action.decision))
        by_decision = dict(s.execute(proposed_stmt).all())
        decided = s.execute(scope.filter(select(Action.id, Action.decision, Action.created_at, Action.decided_at, Action.patch,
                                                Action.review_mode)
                                          .where(Action.decided_at >= window.start, Action.decided_at < window.end,
                                                 Action.decision.in_(HUMAN)))).all()
        tags: dict[str, int] = {}
        # One join over the window (the same rows as `decided`), not an IN list per 500 ids.
        for (vote_tags,) in s.execute(scope.filter(
                select(Vote.reason_tags).join(Action, Action.id == Vote.action_id)
                .where(Action.decided_at >= window.start, Action.decided_at < window.end,
                       Action.decision.in_(HUMAN)))):
            for t in vote_tags or []:
                tags[t] = tags.get(t, 0) + 1
        audits = s.execute(scope.filter(
            select(func.count(), func.count(SampleAudit.verdict),
                   func.count().filter(SampleAudit.verdict == "flagged"))
            .select_from(SampleAudit).join(Action, Action.id == SampleAudit.action_id)
            .where(Action.created_at >= window.start, Action.created_at < window.end))).one()
        fired = s.execute(scope.filter(
            select(func.count().filter(Escalation.kind.in_(("escalated", "ack_timeout"))),
                   func.count(func.distinct(Escalation.action_id)))
            .select_from(Escalation).join(Action, Action.id == Escalation.action_id)
            .where(Escalation.fired_at >= window.start, Escalation.fired_at < window.end))).one()
    counts = {k: sum(1 for r in decided if r.decision == k) for k in HUMAN}
    reviewed = len(decided)
    ttd = [(r.decided_at - r.created_at).total_seconds() for r in decided]
    field_sets = {frozenset(op["path"].split("/")[1] for op in r.patch or []) for r in decided
                  if r.decision == Status.MODIFIED.value and r.patch}
    proposed = sum(by_decision.values())
    needed_human = proposed - by_decision.get(Status.AUTO_APPROVED.value, 0) - by_decision.get(Status.BLOCKED.value, 0)
    return Headline(
        proposed=proposed, reviewed=reviewed, approved=counts[Status.APPROVED.value],
        modified=counts[Status.MODIFIED.value], rejected=counts[Status.REJECTED.value],
        auto_approved=by_decision.get(Status.AUTO_APPROVED.value, 0),
        override_rate=_ratio(counts[Status.MODIFIED.value], reviewed),
        rejection_rate=_ratio(counts[Status.REJECTED.value], reviewed),
        intervention_rate=_ratio(needed_human, proposed),
        auto_approve_share=_ratio(by_decision.get(Status.AUTO_APPROVED.value, 0), proposed),
        ttd_p50=percentile(ttd, 50), ttd_p90=percentile(ttd, 90),
        distinct_tags=len(tags), distinct_field_sets=len(field_sets),
        top_tags=sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:5],
        sampled=audits[0], audited=audits[1], escaped=audits[2], escalations=fired[0], sla_breaches=fired[1],
        shadow_decided=sum(1 for r in decided if r.review_mode == "shadow"),
        shadow_agreed=sum(1 for r in decided if r.review_mode == "shadow" and r.decision == Status.APPROVED.value),
    )


def stats(gate: Gate, subject: str | None = None, days: int = 7, now: datetime | None = None, by: str = "week",
          scope: Scope | None = None) -> Stats:
    window = Window.ending(now or gate.clock(), days)
    scope = scope or scope_of(gate, subject)
    with gate.db.read() as s:
        pending, oldest = s.execute(scope.filter(select(func.count(), func.min(Action.created_at))
                                                  .where(Action.status == Status.PENDING.value))).one()
        decided = s.execute(scope.filter(select(Action.confidence, Action.decision).where(
            Action.decided_at >= window.start, Action.decided_at < window.end, Action.decision.in_(HUMAN)))).all()
        votes = s.execute(scope.filter(select(Vote.reviewer, Vote.kind, Vote.time_to_decision_s, Vote.action_id,
                                              Vote.revision).join(Action, Action.id == Vote.action_id).where(
            Vote.created_at >= window.start, Vote.created_at < window.end))).all()
    if oldest is not None and oldest.tzinfo is None:  # SQLite hands aggregates back without the column's type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    length, count = PERIODS.get(by, PERIODS["week"])
    current, previous = headline(gate, window, scope), headline(gate, window.previous(), scope)
    known = {(window.start, window.end): current, (window.previous().start, window.previous().end): previous}
    trend = []
    for k in range(count - 1, -1, -1):
        end = window.end - timedelta(days=length * k)
        start = end - timedelta(days=length)
        # With 7d by week the last two periods are the two windows: computed once.
        trend.append((start, known.get((start, end)) or headline(gate, Window(length, start, end), scope)))
    return Stats(scope=scope.label, window=window, current=current, previous=previous, pending=pending, oldest_pending=oldest,
                 by=by, trend=trend,
                 calibration=review_quality.calibration([(c, d == Status.APPROVED.value) for c, d in decided]),
                 reviewers=review_quality.reviewer_load([(v.reviewer, v.kind, v.time_to_decision_s) for v in votes]),
                 agreement=review_quality.agreement([(v.action_id, v.revision, v.kind) for v in votes]))


def sparkline(values: list[float | None]) -> str:
    """One character per period, scaled to the series' own range; a gap where there is no data."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = high - low
    return "".join(" " if v is None else SPARKS[0 if span == 0 else round((v - low) / span * (len(SPARKS) - 1))]
                   for v in values)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def _secs(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.0f}s" if v < 90 else f"{v / 60:.1f}m" if v < 5400 else f"{v / 3600:.1f}h"


def _change(now: float | None, before: float | None) -> str:
    """Percentage points against the previous window of the same length."""
    if now is None or before is None:
        return ""
    delta = round((now - before) * 100)
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    return f" ({arrow} {abs(delta)} pts vs the previous window)"


def lines(st: Stats) -> list[str]:
    """Plain text, shared by /hitl-stats and `hitl stats`. Each headline figure ends with its sparkline
    over the last periods (by week or by day), oldest on the left."""
    c, p = st.current, st.previous
    heads = [h for _, h in st.trend]

    def spark(values) -> str:
        line = sparkline(list(values))
        return f"   {line}" if line.strip() else ""

    out = [
        f"hitl-stats: {st.scope}, last {st.window.days} days ({c.proposed} proposed, {c.reviewed} reviewed by people)"
        + (f"; trends by {st.by}, {len(heads)} {st.by}s" if heads else ""),
        f"Override rate    {_pct(c.override_rate)}{_change(c.override_rate, p.override_rate)}"
        + spark(h.override_rate for h in heads),
        f"Rejection rate   {_pct(c.rejection_rate)}{_change(c.rejection_rate, p.rejection_rate)}"
        + spark(h.rejection_rate for h in heads),
        f"Time to decision p50 {_secs(c.ttd_p50)}, p90 {_secs(c.ttd_p90)}" + spark(h.ttd_p50 for h in heads),
        f"Exception diversity {c.distinct_tags} reason tags, {c.distinct_field_sets} modified-field sets"
        + spark(h.distinct_tags + h.distinct_field_sets if h.reviewed else None for h in heads),
        f"Needed a human   {_pct(c.intervention_rate)}; auto-approved {_pct(c.auto_approve_share)}",
    ]
    if c.top_tags:
        out.append("Top reason tags  " + ", ".join(f"{t} ({n})" for t, n in c.top_tags))
    if c.sampled:
        out.append(f"Sampled audits   {c.audited} of {c.sampled} audited; {c.escaped} flagged as should not have "
                   f"happened (escaped errors)")
    if c.shadow_decided:
        out.append(f"Shadow mode      the agent's proposal matched the human's decision in "
                   f"{_pct(c.shadow_agreed / c.shadow_decided)} of {c.shadow_decided}")
    if c.sla_breaches:
        out.append(f"SLA breaches     {c.sla_breaches} action(s) went past their first SLA; {c.escalations} escalation(s)")
    oldest = f", oldest since {st.oldest_pending:%Y-%m-%d %H:%M} UTC" if st.oldest_pending else ""
    out.append(f"Pending now      {st.pending}{oldest}")
    cal = st.calibration
    if cal is not None and cal.ece is not None:
        cells = [f"{b.low:.1f}–{b.high:.1f}: {_pct(b.approval_rate)} of {b.count}" for b in cal.buckets if b.count]
        out.append(f"Calibration      approved unmodified by confidence: {'; '.join(cells)}; ECE {cal.ece:.2f}")
    if st.reviewers:
        out.append("Reviewer load    " + ", ".join(f"{r.reviewer} {r.votes} (median {_secs(r.median_seconds)})"
                                                 for r in st.reviewers[:5]))
        for r in st.reviewers:
            if r.rubber_stamp:
                out.append(f"⚠ Rubber stamp?  {r.reviewer} approved {r.approve_share:.0%} of {r.votes} "
                           f"in a median of {_secs(r.median_seconds)}")
    if st.agreement is not None and st.agreement.items:
        out.append(f"Agreement        {_pct(st.agreement.rate)} of {st.agreement.items} item(s) reviewed more than once")
    return out
