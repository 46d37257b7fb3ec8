"""/hitl-stats as text: the words people type after the command, and the report `hitl stats`, the
Slack command and GET /v1/stats all print."""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.metrics import PERIODS, Headline, Stats
from core.population import Estimate
from core.wording import plural, tag_label

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


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def secs(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.0f}s" if v < 90 else f"{v / 60:.1f}m" if v < 5400 else f"{v / 3600:.1f}h"


def points(now: float | None, before: float | None) -> str:
    """`▲ 5 pts`: percentage points against the previous window of the same length; "" without both."""
    if now is None or before is None:
        return ""
    delta = round((now - before) * 100)
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
    return f"{arrow} {abs(delta)} pts"


def _change(now: float | None, before: float | None) -> str:
    moved = points(now, before)
    return f" ({moved} vs the previous window)" if moved else ""


def _of_reviewed(h: Headline) -> str:
    """Says whom a rate covers: the reviewed remainder, not all traffic (see the estimates)."""
    return f" of {h.reviewed} reviewed by people" if h.reviewed else ""


def _interval(e: Estimate) -> str:
    return f"{_pct1(e.rate)} (95% CI {_pct1(e.low)}–{_pct1(e.high)})"


def _pct1(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _estimate_lines(c: Headline) -> list[Line]:
    """Estimates for what people did not look at, each naming its population and its evidence."""
    out = []
    auto, traffic = c.escaped_estimate, c.traffic_estimate
    if auto is not None and auto.rate is not None:
        out.append(Line("Escaped errors", f"est. {_interval(auto)} of {auto.population} auto-approved, from "
                        f"{plural(auto.checks, 'spot check')} weighed by how they were drawn ({auto.flagged} flagged)"))
    elif c.auto_approved:
        out.append(Line("Escaped errors", f"no estimate: none of the {c.auto_approved} auto-approved has a spot-check "
                        "verdict yet"))
    if auto is not None and auto.uncovered and auto.rate is not None:
        out.append(Line("", f"{auto.uncovered} auto-approved not covered: no verdict yet at their draw probability"))
    if traffic is not None and traffic.rate is not None and auto is not None and auto.rate is not None:
        out.append(Line("All traffic", f"est. {_interval(traffic)} of proposals were wrong, over {traffic.population} "
                        "reviewed or auto-approved (reviewed: as decided; auto-approved: estimated)"))
    return out


@dataclass(frozen=True)
class Line:
    """One figure of the report: a label and its text, and for a headline figure its sparkline. The
    terminal pads the label into a column; Slack shows it in bold."""

    label: str
    text: str
    spark: str = ""


def _tags(pairs) -> str:
    return ", ".join(f"{tag_label(t)} ({n})" for t, n in pairs)


def headline(st: Stats) -> list[Line]:
    """The four headline figures, then who needed a human. Each ends with its sparkline over the last
    periods (by week or by day), oldest on the left."""
    c, p = st.current, st.previous
    heads = [h for _, h in st.trend]
    approx = "" if c.ttd_exact or c.ttd_p50 is None else "≈"
    return [
        Line("Override rate", f"{pct(c.override_rate)}{_of_reviewed(c)}{_change(c.override_rate, p.override_rate)}",
             sparkline([h.override_rate for h in heads])),
        Line("Rejection rate", f"{pct(c.rejection_rate)}{_of_reviewed(c)}{_change(c.rejection_rate, p.rejection_rate)}",
             sparkline([h.rejection_rate for h in heads])),
        Line("Time to decision", f"p50 {approx}{secs(c.ttd_p50)}, p90 {approx}{secs(c.ttd_p90)}",
             sparkline([h.ttd_p50 for h in heads])),
        Line("Exception diversity", f"{plural(c.distinct_tags, 'reason tag')}, "
             f"{plural(c.distinct_field_sets, 'modified-field set')}",
             sparkline([h.distinct_tags + h.distinct_field_sets if h.reviewed else None for h in heads])),
        Line("Needed a human", f"{pct(c.intervention_rate)}; auto-approved {pct(c.auto_approve_share)}"),
    ]


def patterns(st: Stats) -> list[Line]:
    """What reviewers corrected: the failure patterns, overall and per action type."""
    c = st.current
    out = []
    if c.top_tags:
        out.append(Line("Top reason tags", _tags(c.top_tags)))
    if c.top_fields:
        out.append(Line("Most modified", ", ".join(f"{f} ({n})" for f, n in c.top_fields)))
    if len(st.by_type) > 1:
        for action_type, (tags, fields) in list(st.by_type.items())[:8]:
            if tags or fields:
                out.append(Line("", f"{action_type}: " + "; ".join(part for part in (
                    _tags(tags), ", ".join(f"{f} ({n}) modified" for f, n in fields)) if part)))
    return out


def queue(st: Stats) -> list[Line]:
    """What is waiting now, and what waited too long in the window."""
    c = st.current
    out = []
    if c.policy_approved or c.policy_rejected or c.expired:
        out.append(Line("Nobody answered", f"{c.expired} expired, {c.policy_approved} approved and {c.policy_rejected} "
                        "rejected by the policy's final action (not reviews: in no rate above)"))
    if c.sla_breaches:
        out.append(Line("SLA breaches", f"{plural(c.sla_breaches, 'action')} went past their first SLA; "
                        f"{plural(c.escalations, 'escalation')}"))
    oldest = f", oldest since {st.oldest_pending:%Y-%m-%d %H:%M} UTC" if st.oldest_pending else ""
    out.append(Line("Pending now", f"{st.pending}{oldest}"))
    return out


def alerts(st: Stats, person=str) -> list[Line]:
    """What a manager should look into (⚠), naming people through `person` (Slack: a mention)."""
    out = []
    for stamp in st.stamps:
        if stamp.why == "fast":
            out.append(Line("⚠ Rubber stamp?", f"{person(stamp.reviewer)} approved {stamp.approve_share:.0%} of "
                            f"{stamp.votes} in a median of {secs(stamp.seconds)} after seeing it"))
        else:
            out.append(Line("⚠ Rubber stamp?", f"{person(stamp.reviewer)} approved {stamp.approve_share:.0%} of "
                            f"{stamp.votes}, peers {pct(stamp.peers_share)} on the same action types"))
    for g in st.gold:
        if g.flagged:
            out.append(Line("⚠ Gold accuracy", f"{person(g.reviewer)} answered {g.rate:.0%} of {g.answered} gold items "
                            f"right (at most {g.high:.0%}, 95% interval)"))
    for r in st.ratings:
        if r.stays_low:
            out.append(Line("⚠ Low rating", f"{r.action_type} {r.dimension}: {r.mean:.1f} of 5 over {r.count}, and "
                            f"{r.previous_mean:.1f} the window before"))
    for _, a in st.recommendations:
        if a.alert:
            move = f"review_mode {a.mode} → {a.recommended}" if a.recommended else f"review_mode {a.mode}"
            rate = f", audit_rate {a.audit_rate:g}" if a.audit_rate is not None else ""
            out.append(Line("⚠ Autonomy", f"{a.action_type}: {move}{rate}; {a.why}"))
    return out


def details(st: Stats, person=str) -> list[Line]:
    """Everything behind the headline: spot checks and estimates, calibration, reviewer load and
    accuracy, ratings, advice, versions and agreement."""
    c = st.current
    out = []
    if c.sampled:
        out.append(Line("Spot checks", f"{c.audited} of {c.sampled} checked; {c.escaped} flagged as should not have "
                        "happened (escaped errors)"))
    out += _estimate_lines(c)
    if c.shadow_decided:
        out.append(Line("Shadow mode", f"the agent's proposal matched the human's decision in "
                        f"{pct(c.shadow_agreed / c.shadow_decided)} of {c.shadow_decided}"))
    cal = st.calibration
    if cal is not None and cal.ece is not None:
        cells = [f"{b.low:.1f}–{b.high:.1f}: {pct(b.approval_rate)} of {b.count}" for b in cal.buckets if b.count]
        out.append(Line("Calibration", f"approved unmodified by confidence: {'; '.join(cells)}; ECE {cal.ece:.2f}"))
    if st.reviewers:
        out.append(Line("Reviewer load", ", ".join(f"{person(r.reviewer)} {r.votes} (median {'' if r.exact else '≈'}"
                                                   f"{secs(r.median_seconds)})" for r in st.reviewers[:5])))
    if st.gold:
        out.append(Line("Gold items", ", ".join(
            f"{person(g.reviewer)} {g.correct} of {g.answered} right ({g.missed} missed, "
            f"{plural(g.false_alarms, 'false alarm')})" for g in st.gold[:5]) + ": past decisions with a known answer, "
            "shown again"))
    if st.ratings:
        by_type: dict[str, list[str]] = {}
        for r in st.ratings:
            by_type.setdefault(r.action_type, []).append(f"{r.dimension} {r.mean:.1f} ({r.count})")
        out.append(Line("Ratings (of 5)", "; ".join(f"{t}: {', '.join(cells)}" for t, cells in by_type.items())))
    for rec, a in st.recommendations:
        if rec.threshold is not None:
            bound = ("" if rec.expected_escaped_rate is None  # a threshold kept on thin evidence: `why` says so
                     else f", escaped errors at most {rec.expected_escaped_rate:.1%}")
            out.append(Line("Recommended", f"{rec.action_type}: auto_approve_threshold {rec.threshold:g} would "
                            f"auto-approve {rec.auto_approve_share:.0%}{bound} ({rec.why})"))
        if a.recommended and not a.alert:
            rate = f", audit_rate {a.audit_rate:g}" if a.audit_rate is not None else ""
            out.append(Line("Autonomy", f"{a.action_type}: review_mode {a.mode} → {a.recommended}{rate}; {a.why}"))
    if st.recommend_skipped:
        out.append(Line("Recommended", "too many decisions to weigh here: run `hitl recommend`"))
    for v in st.versions:
        out.append(Line("Agent version", f"{v.version or '(none)'}: {v.proposed} proposed, {v.reviewed} reviewed by "
                        f"people, override {pct(v.override_rate)}, rejection {pct(v.rejection_rate)}, "
                        f"{v.auto_approved} auto-approved, {v.flagged} of {v.checked} spot checks flagged"))
    if st.agreement is not None and st.agreement.items:
        out.append(Line("Agreement", f"{pct(st.agreement.rate)} of {plural(st.agreement.items, 'item')} reviewed "
                        "more than once"))
    return out


def title(st: Stats) -> str:
    c = st.current
    heads = len(st.trend)
    return (f"hitl-stats: {st.scope}, last {st.window.days} days ({c.proposed} proposed, {c.reviewed} reviewed by people)"
            + (f"; trends by {st.by}, {heads} {st.by}s" if heads else ""))


LABEL_WIDTH = 16


def _column(lines: list[Line]) -> list[str]:
    """Labels in a column; the sparklines of one group in a column of their own."""
    rows = [f"{line.label:<{LABEL_WIDTH}} {line.text}" if line.label else f"  {line.text}" for line in lines]
    width = max((len(r) for r, line in zip(rows, lines, strict=True) if line.spark.strip()), default=0)
    return [f"{r:<{width}}   {line.spark}" if line.spark.strip() else r for r, line in zip(rows, lines, strict=True)]


def lines(st: Stats) -> list[str]:
    """Plain text, shared by `hitl stats`, GET /v1/stats and Slack's fallback text."""
    return [title(st)] + _column(headline(st)) + _column(patterns(st) + details(st) + queue(st) + alerts(st))
