"""/hitl-stats as text: the words people type after the command, and the report `hitl stats`, the
Slack command and GET /v1/stats all print."""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.metrics import PERIODS, Headline, Stats
from core.population import Estimate

_WINDOW = re.compile(r"^(\d{1,3})d$")

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Query:
    subject: str | None
    days: int
    by: str
    by_version: bool = False  # `by version`: a line per agent version
    extra: tuple[str, ...] = ()  # words past the subject that mean nothing here


USAGE = "[action_type|agent] [7d|30d|90d] [by day|week] [by version]"


def problem(q: Query, action_types: list[str], agents: list[str]) -> str | None:
    """What is wrong with the words typed, naming what would be right; None when they make sense."""
    known = ("known action types: " + (", ".join(action_types) or "none yet")
             + "; agents: " + (", ".join(agents) or "none yet"))
    if q.extra:
        return f"unexpected {' '.join(q.extra)!r}: give one action type or agent at most ({known})"
    if q.subject is not None and q.subject not in action_types and q.subject not in agents:
        return f"no action type or agent called {q.subject!r} ({known})"
    return None


def parse_args(text: str) -> Query:
    """`[action_type|agent] [7d|30d|90d] [by day|week] [by version]` in any order; other words are the filter."""
    days, subject, by, by_version, extra = 7, None, "week", False, []
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
        elif word == "by" and i + 1 < len(words) and words[i + 1] == "version":
            by_version = True
            i += 1
        elif subject is None:
            subject = word
        else:
            extra.append(word)
        i += 1
    return Query(subject, days, by, by_version, tuple(extra))


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


def _of_reviewed(h: Headline) -> str:
    """Says whom a rate covers: the reviewed remainder, not all traffic (see the estimates)."""
    return f" of {h.reviewed} reviewed by people" if h.reviewed else ""


def _interval(e: Estimate) -> str:
    return f"{_pct1(e.rate)} (95% CI {_pct1(e.low)}–{_pct1(e.high)})"


def _pct1(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _estimate_lines(c: Headline) -> list[str]:
    """Estimates for what people did not look at, each naming its population and its evidence."""
    out = []
    auto, traffic = c.escaped_estimate, c.traffic_estimate
    if auto is not None and auto.rate is not None:
        out.append(f"Escaped errors   est. {_interval(auto)} of {auto.population} auto-approved, from {auto.checks} "
                   f"spot check(s) weighed by how they were drawn ({auto.flagged} flagged)")
    elif c.auto_approved:
        out.append(f"Escaped errors   no estimate: none of the {c.auto_approved} auto-approved has a spot-check verdict yet")
    if auto is not None and auto.uncovered and auto.rate is not None:
        out.append(f"                 {auto.uncovered} auto-approved not covered: no verdict yet at their draw probability")
    if traffic is not None and traffic.rate is not None and auto is not None and auto.rate is not None:
        out.append(f"All traffic      est. {_interval(traffic)} of proposals were wrong, over {traffic.population} reviewed "
                   f"or auto-approved (reviewed: as decided; auto-approved: estimated)")
    return out


def lines(st: Stats) -> list[str]:
    """Plain text, shared by /hitl-stats and `hitl stats`. Each headline figure ends with its sparkline
    over the last periods (by week or by day), oldest on the left."""
    c, p = st.current, st.previous
    heads = [h for _, h in st.trend]

    def approx(h: Headline) -> str:
        return "" if h.ttd_exact or h.ttd_p50 is None else "≈"

    def spark(values) -> str:
        line = sparkline(list(values))
        return f"   {line}" if line.strip() else ""

    out = [
        f"hitl-stats: {st.scope}, last {st.window.days} days ({c.proposed} proposed, {c.reviewed} reviewed by people)"
        + (f"; trends by {st.by}, {len(heads)} {st.by}s" if heads else ""),
        f"Override rate    {_pct(c.override_rate)}{_of_reviewed(c)}{_change(c.override_rate, p.override_rate)}"
        + spark(h.override_rate for h in heads),
        f"Rejection rate   {_pct(c.rejection_rate)}{_of_reviewed(c)}{_change(c.rejection_rate, p.rejection_rate)}"
        + spark(h.rejection_rate for h in heads),
        f"Time to decision p50 {approx(c)}{_secs(c.ttd_p50)}, p90 {approx(c)}{_secs(c.ttd_p90)}"
        + spark(h.ttd_p50 for h in heads),
        f"Exception diversity {c.distinct_tags} reason tags, {c.distinct_field_sets} modified-field sets"
        + spark(h.distinct_tags + h.distinct_field_sets if h.reviewed else None for h in heads),
        f"Needed a human   {_pct(c.intervention_rate)}; auto-approved {_pct(c.auto_approve_share)}",
    ]
    if c.top_tags:
        out.append("Top reason tags  " + ", ".join(f"{t} ({n})" for t, n in c.top_tags))
    if c.top_fields:
        out.append("Most modified    " + ", ".join(f"{f} ({n})" for f, n in c.top_fields))
    if len(st.by_type) > 1:
        for action_type, (tags, fields) in list(st.by_type.items())[:8]:
            if tags or fields:
                out.append(f"  {action_type}: " + "; ".join(part for part in (
                    ", ".join(f"{t} ({n})" for t, n in tags), ", ".join(f"{f} ({n}) modified" for f, n in fields))
                    if part))
    if c.sampled:
        out.append(f"Spot checks      {c.audited} of {c.sampled} checked; {c.escaped} flagged as should not have "
                   f"happened (escaped errors)")
    out += _estimate_lines(c)
    if c.shadow_decided:
        out.append(f"Shadow mode      the agent's proposal matched the human's decision in "
                   f"{_pct(c.shadow_agreed / c.shadow_decided)} of {c.shadow_decided}")
    if c.policy_approved or c.policy_rejected or c.expired:
        out.append(f"Nobody answered  {c.expired} expired, {c.policy_approved} approved and {c.policy_rejected} rejected "
                   f"by the policy's final action (not reviews: in no rate above)")
    if c.sla_breaches:
        out.append(f"SLA breaches     {c.sla_breaches} action(s) went past their first SLA; {c.escalations} escalation(s)")
    oldest = f", oldest since {st.oldest_pending:%Y-%m-%d %H:%M} UTC" if st.oldest_pending else ""
    out.append(f"Pending now      {st.pending}{oldest}")
    cal = st.calibration
    if cal is not None and cal.ece is not None:
        cells = [f"{b.low:.1f}–{b.high:.1f}: {_pct(b.approval_rate)} of {b.count}" for b in cal.buckets if b.count]
        out.append(f"Calibration      approved unmodified by confidence: {'; '.join(cells)}; ECE {cal.ece:.2f}")
    if st.reviewers:
        out.append("Reviewer load    " + ", ".join(f"{r.reviewer} {r.votes} (median {'' if r.exact else '≈'}"
                                                 f"{_secs(r.median_seconds)})"
                                                 for r in st.reviewers[:5]))
    for stamp in st.stamps:
        if stamp.why == "fast":
            out.append(f"⚠ Rubber stamp?  {stamp.reviewer} approved {stamp.approve_share:.0%} of {stamp.votes} "
                       f"in a median of {_secs(stamp.seconds)} after seeing it")
        else:
            out.append(f"⚠ Rubber stamp?  {stamp.reviewer} approved {stamp.approve_share:.0%} of {stamp.votes}, "
                       f"peers {_pct(stamp.peers_share)} on the same action types")
    if st.gold:
        out.append("Gold items       " + ", ".join(
            f"{g.reviewer} {g.correct} of {g.answered} right ({g.missed} missed, {g.false_alarms} false alarm(s))"
            for g in st.gold[:5]) + ": past decisions with a known answer, shown again")
    for g in st.gold:
        if g.flagged:
            out.append(f"⚠ Gold accuracy  {g.reviewer} answered {g.rate:.0%} of {g.answered} gold items right "
                       f"(at most {g.high:.0%}, 95% interval)")
    if st.ratings:
        by_type: dict[str, list[str]] = {}
        for r in st.ratings:
            by_type.setdefault(r.action_type, []).append(f"{r.dimension} {r.mean:.1f} ({r.count})")
        out.append("Ratings (of 5)   " + "; ".join(f"{t}: {', '.join(cells)}" for t, cells in by_type.items()))
        for r in st.ratings:
            if r.stays_low:
                out.append(f"⚠ Low rating     {r.action_type} {r.dimension}: {r.mean:.1f} of 5 over {r.count}, and "
                           f"{r.previous_mean:.1f} the window before")
    for rec, a in st.recommendations:
        if rec.threshold is not None:
            bound = ("" if rec.expected_escaped_rate is None  # a threshold kept on thin evidence: `why` says so
                     else f", escaped errors at most {rec.expected_escaped_rate:.1%}")
            out.append(f"Recommended      {rec.action_type}: auto_approve_threshold {rec.threshold:g} would auto-approve "
                       f"{rec.auto_approve_share:.0%}{bound} ({rec.why})")
        if a.recommended or a.alert:
            move = f"review_mode {a.mode} → {a.recommended}" if a.recommended else f"review_mode {a.mode}"
            rate = f", audit_rate {a.audit_rate:g}" if a.audit_rate is not None else ""
            out.append(f"{'⚠ ' if a.alert else ''}Autonomy         {a.action_type}: {move}{rate}; {a.why}")
    if st.recommend_skipped:
        out.append("Recommended      too many decisions to weigh here: run `hitl recommend`")
    for v in st.versions:
        out.append(f"Agent version    {v.version or '(none)'}: {v.proposed} proposed, {v.reviewed} reviewed by people, "
                   f"override {_pct(v.override_rate)}, rejection {_pct(v.rejection_rate)}, {v.auto_approved} "
                   f"auto-approved, {v.flagged} of {v.checked} spot checks flagged")
    if st.agreement is not None and st.agreement.items:
        out.append(f"Agreement        {_pct(st.agreement.rate)} of {st.agreement.items} item(s) reviewed more than once")
    return out
