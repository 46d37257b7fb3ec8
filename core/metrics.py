"""The numbers managers read (/hitl-stats, `hitl stats`): computed exactly from stored decisions.

Definitions (ARCHITECTURE.md vocabulary): reviewed = approved + modified + rejected by a human in
the window; override rate = modified / reviewed; rejection rate = rejected / reviewed;
time-to-decision over reviewed actions; exception diversity = distinct reason tags plus distinct
sets of modified top-level fields.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.gate import Gate
from core.store.tables import Action, Agent, Escalation, SampleAudit, Vote
from core.vocabulary import Status

HUMAN = (Status.APPROVED.value, Status.MODIFIED.value, Status.REJECTED.value)
_WINDOW = re.compile(r"^(\d{1,3})d$")


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


@dataclass(frozen=True)
class Stats:
    scope: str
    window: Window
    current: Headline
    previous: Headline
    pending: int
    oldest_pending: datetime | None


def parse_args(text: str) -> tuple[str | None, int]:
    """`[action_type|agent] [7d|30d|90d]` in any order; unknown words are the filter."""
    days, subject = 7, None
    for word in (text or "").split():
        m = _WINDOW.match(word)
        if m:
            days = max(1, min(int(m[1]), 365))
        elif subject is None:
            subject = word
    return subject, days


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _scope_filter(stmt, subject: str | None, agent_ids: list[int] | None):
    if subject is None:
        return stmt
    if agent_ids:
        return stmt.where(Action.agent_id.in_(agent_ids))
    return stmt.where(Action.action_type == subject)


def _agent_ids(gate: Gate, subject: str | None) -> list[int] | None:
    """A subject naming an agent scopes by agent; otherwise it names an action type."""
    if subject is None:
        return None
    with gate.db.read() as s:
        return list(s.scalars(select(Agent.id).where(Agent.name == subject)))


def headline(gate: Gate, window: Window, subject: str | None = None, agent_ids: list[int] | None = None) -> Headline:
    if agent_ids is None:
        agent_ids = _agent_ids(gate, subject)
    with gate.db.read() as s:
        proposed_stmt = _scope_filter(select(Action.decision, func.count()).where(
            Action.created_at >= window.start, Action.created_at < window.end).group_by(Action.decision), subject, agent_ids)
        by_decision = dict(s.execute(proposed_stmt).all())
        decided = s.execute(_scope_filter(select(Action.id, Action.decision, Action.created_at, Action.decided_at, Action.patch)
                                          .where(Action.decided_at >= window.start, Action.decided_at < window.end,
                                                 Action.decision.in_(HUMAN)), subject, agent_ids)).all()
        ids = [row.id for row in decided]
        tags: dict[str, int] = {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for (vote_tags,) in s.execute(select(Vote.reason_tags).where(Vote.action_id.in_(chunk))):
                for t in vote_tags or []:
                    tags[t] = tags.get(t, 0) + 1
        audits = s.execute(_scope_filter(
            select(func.count(), func.count(SampleAudit.verdict),
                   func.count().filter(SampleAudit.verdict == "flagged"))
            .select_from(SampleAudit).join(Action, Action.id == SampleAudit.action_id)
            .where(Action.created_at >= window.start, Action.created_at < window.end), subject, agent_ids)).one()
        fired = s.execute(_scope_filter(
            select(func.count().filter(Escalation.kind.in_(("escalated", "ack_timeout"))),
                   func.count(func.distinct(Escalation.action_id)))
            .select_from(Escalation).join(Action, Action.id == Escalation.action_id)
            .where(Escalation.fired_at >= window.start, Escalation.fired_at < window.end), subject, agent_ids)).one()
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
    )


def stats(gate: Gate, subject: str | None = None, days: int = 7, now: datetime | None = None) -> Stats:
    window = Window.ending(now or gate.clock(), days)
    agent_ids = _agent_ids(gate, subject)
    with gate.db.read() as s:
        pending, oldest = s.execute(_scope_filter(select(func.count(), func.min(Action.created_at))
                                                  .where(Action.status == Status.PENDING.value), subject, agent_ids)).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite hands aggregates back without the column's type
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=UTC)
    return Stats(scope=subject or "all action types", window=window, current=headline(gate, window, subject, agent_ids),
                 previous=headline(gate, window.previous(), subject, agent_ids), pending=pending, oldest_pending=oldest)


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
    """Plain text, shared by /hitl-stats and `hitl stats`."""
    c, p = st.current, st.previous
    out = [
        f"hitl-stats: {st.scope}, last {st.window.days} days ({c.proposed} proposed, {c.reviewed} reviewed by people)",
        f"Override rate    {_pct(c.override_rate)}{_change(c.override_rate, p.override_rate)}",
        f"Rejection rate   {_pct(c.rejection_rate)}{_change(c.rejection_rate, p.rejection_rate)}",
        f"Time to decision p50 {_secs(c.ttd_p50)}, p90 {_secs(c.ttd_p90)}",
        f"Exception diversity {c.distinct_tags} reason tags, {c.distinct_field_sets} modified-field sets",
        f"Needed a human   {_pct(c.intervention_rate)}; auto-approved {_pct(c.auto_approve_share)}",
    ]
    if c.top_tags:
        out.append("Top reason tags  " + ", ".join(f"{t} ({n})" for t, n in c.top_tags))
    if c.sampled:
        out.append(f"Sampled audits   {c.audited} of {c.sampled} audited; {c.escaped} flagged as should not have "
                   f"happened (escaped errors)")
    if c.sla_breaches:
        out.append(f"SLA breaches     {c.sla_breaches} action(s) went past their first SLA; {c.escalations} escalation(s)")
    oldest = f", oldest since {st.oldest_pending:%Y-%m-%d %H:%M} UTC" if st.oldest_pending else ""
    out.append(f"Pending now      {st.pending}{oldest}")
    return out
