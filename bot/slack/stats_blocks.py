"""/hitl-stats as a Block Kit report: a header naming the scope and window, the four headline
figures with their move against the previous window, the trend chart, the failure patterns, the
queue, what needs a manager's eye, and behind "More" the details. People are mentions, so Slack
shows their names. The text of every line is core/stats_text.py's, the terminal's own."""
from __future__ import annotations

import re

from bot.slack.block_kit import context, section, text_obj
from bot.slack.mrkdwn import clip, neutral, plain
from core import stats_text as t
from core.access import USER_ID
from core.metrics import Stats
from core.wording import plural

MORE = "stats_more"
FOR_MORE = "`/hitl-stats` for the failure patterns, the queue and the details."  # under a headline shown alone
SECTION_CHARS = 3000
_PERSON = "\u2063"  # marks a user id through escaping; it becomes a mention only if it is one
_MARKED = re.compile(f"{_PERSON}([^{_PERSON}]*){_PERSON}")


def _person(user: str) -> str:
    return f"{_PERSON}{user}{_PERSON}"


def _mentions(escaped: str) -> str:
    return _MARKED.sub(lambda m: f"<@{m[1]}>" if USER_ID.fullmatch(m[1]) else m[1], escaped)


def _line(line: t.Line) -> str:
    text = _mentions(neutral(line.text, 1000))
    return f"*{neutral(line.label, 100)}*  {text}" if line.label else f"    {text}"


def _sections(title: str, lines: list[t.Line]) -> list[dict]:
    """The lines under a bold title, in as few sections as Slack's 3,000 characters allow."""
    out, chunk = [], f"*{title}*"
    for line in lines:
        row = _line(line)
        if len(chunk) + 1 + len(row) > SECTION_CHARS:
            out.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{row}" if chunk else row
    out.append(section(clip(chunk, SECTION_CHARS)))
    return out


def _field(label: str, value: str, moved: str = "") -> dict:
    return text_obj("mrkdwn", f"*{label}*\n{value}" + (f"  {moved}" if moved else ""))


def _seconds_moved(now: float | None, before: float | None) -> str:
    if now is None or before is None or round(now) == round(before):
        return ""
    return f"{'▲' if now > before else '▼'} {t.secs(abs(now - before))}"


def headline_blocks(st: Stats, chart_url: str | None) -> list[dict]:
    c, p = st.current, st.previous
    approx = "" if c.ttd_exact or c.ttd_p50 is None else "≈"
    fields = [
        _field("Override rate", t.pct(c.override_rate), t.points(c.override_rate, p.override_rate)),
        _field("Rejection rate", t.pct(c.rejection_rate), t.points(c.rejection_rate, p.rejection_rate)),
        _field("Time to decision", f"p50 {approx}{t.secs(c.ttd_p50)} · p90 {approx}{t.secs(c.ttd_p90)}",
               _seconds_moved(c.ttd_p50, p.ttd_p50)),
        _field("Exception diversity", f"{plural(c.distinct_tags, 'reason tag')} · "
               f"{plural(c.distinct_field_sets, 'field set')}",
               _count_moved(c.distinct_tags + c.distinct_field_sets, p.distinct_tags + p.distinct_field_sets)),
    ]
    blocks = [
        {"type": "header", "text": text_obj("plain_text", plain(f"hitl-stats · {st.scope} · last {st.window.days} days",
                                                                150))},
        context(neutral(f"{c.proposed} proposed · {c.reviewed} reviewed by people · needed a human "
                        f"{t.pct(c.intervention_rate)} · auto-approved {t.pct(c.auto_approve_share)} · ▲/▼ against "
                        f"the {st.window.days} days before", 3000)),
        {"type": "section", "fields": fields},
    ]
    if chart_url:
        blocks.append({"type": "image", "image_url": chart_url,
                       "alt_text": f"Override and rejection rates and time to decision by {st.by}"})
    return blocks


def _count_moved(now: int, before: int) -> str:
    return "" if now == before else f"{'▲' if now > before else '▼'} {abs(now - before)}"


def report(st: Stats, query: str, chart_url: str | None = None, details: bool = False) -> list[dict]:
    blocks = headline_blocks(st, chart_url)
    if patterns := t.patterns(st):
        blocks += _sections("Top failure patterns", patterns)
    blocks += _sections("Queue", t.queue(st))
    if alerts := t.alerts(st, _person):
        blocks += _sections("Needs a look", alerts)
    if details:
        blocks += _sections("Details", t.details(st, _person) or [t.Line("", "nothing more in this window")])
    else:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": text_obj("plain_text", "More"), "action_id": MORE, "value": query[:2000]}]})
    return blocks[:50]


def fallback(st: Stats) -> str:
    """The notification text, and what a client that cannot draw blocks shows: the headline."""
    return clip(neutral("\n".join([t.title(st)] + [f"{x.label}: {x.text}" for x in t.headline(st)]), 2900), 3000)
