"""Block Kit primitives and limits shared by the review, spot-check and modal builders. Every
agent-supplied string goes through mrkdwn.escape/plain; every surface stays inside Slack's limits
(tests validate against the Block Kit JSON Schema)."""
from __future__ import annotations

from bot.slack.mrkdwn import clip, mrkdwn, neutral, show_value
from core import masking
from core.queries import ReviewContext
from core.vocabulary import ReviewMode, Status
from core.wording import tag_label

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
FIELDS_PER_SECTION = 10
SHOWN_FIELDS = 20
FIELD_VALUE_CHARS = 300
STATUS_ICON = {
    Status.APPROVED: "✅", Status.MODIFIED: "✏️", Status.REJECTED: "❌", Status.EXPIRED: "⌛",
    Status.CANCELLED: "🚫", Status.AUTO_APPROVED: "✅", Status.BLOCKED: "⛔",
    Status.EXECUTED: "✅", Status.FAILED: "⚠️",
}


def text_obj(kind: str, text: str) -> dict:
    return {"type": kind, "text": text}


def section(text: str) -> dict:
    return {"type": "section", "text": text_obj("mrkdwn", text)}


def context(*texts: str) -> dict:
    return {"type": "context", "elements": [text_obj("mrkdwn", t) for t in texts[:10]]}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": text_obj("plain_text", label), "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def options(values) -> list[dict]:
    return [{"text": text_obj("plain_text", clip(tag_label(v), 75)), "value": v[:150]} for v in values][:100]


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 5400:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


def date(at) -> str:
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def targets(targets) -> str:
    """Escalation targets as mentions. They are Slack ids the policy loader checked, so the syntax is safe."""
    def one(t: str) -> str:
        if t[:1] in "UW":
            return f"<@{t}>"
        if t[:1] == "S":
            return f"<!subteam^{t}>"
        return f"<#{t}>"
    return ", ".join(one(t) for t in targets if t.isalnum())


def who(users: list[str]) -> str:
    # Reviewer ids come from Slack itself (or the operator CLI); only Slack-shaped ids become mentions.
    return ", ".join(f"<@{u}>" if u[:1] in "UW" and u.isalnum() else mrkdwn(u, 100) for u in users) or "policy"


def unaided(ctx: ReviewContext) -> bool:
    """Shadow mode, still open: the reviewer decides without seeing what the agent proposed."""
    return ctx.action.review_mode is ReviewMode.SHADOW and ctx.action.decision is None


def title(ctx: ReviewContext) -> str:
    """The agent's title, except in an unaided review, where it would give the agent's answer away.
    Once someone edited the payload, the title (the agent's words) may name values that changed:
    it says it was the proposal."""
    if unaided(ctx):
        return f"{ctx.action.action_type} (shadow review)"
    edited = ctx.action.revision or (ctx.action.decision is not None and ctx.action.decision.status is Status.MODIFIED)
    return f"{ctx.action.title} (as proposed; edited since)" if edited else ctx.action.title


def key_label(key: str) -> str:
    return f"*{neutral(key, 200)}*" if key else "_(empty key)_"


def payload_fields(ctx: ReviewContext, values: dict | None = None) -> tuple[list[dict], int]:
    """Sections of `*key*\nvalue` fields (the current payload unless `values` is given); returns
    (blocks, fields not shown)."""
    shown = masking.masked(ctx.action.current_payload if values is None else values, masking.paths(ctx.route))
    return value_fields(shown, tuple(ctx.route.get("link_hosts") or ()))


def value_fields(shown: dict, link_hosts: tuple[str, ...], value_chars: int = FIELD_VALUE_CHARS) -> tuple[list[dict], int]:
    items = list(shown.items())
    fields = [text_obj("mrkdwn", clip(f"{key_label(str(k))}\n{show_value(v, value_chars, link_hosts)}", 2000))
              for k, v in items[:SHOWN_FIELDS]]
    blocks = [{"type": "section", "fields": fields[i:i + FIELDS_PER_SECTION]}
              for i in range(0, len(fields), FIELDS_PER_SECTION)]
    return blocks, max(0, len(items) - SHOWN_FIELDS)
