"""Block Kit builders. Every agent-supplied string goes through text.escape/plain; every
surface stays inside Slack's limits (tests validate against the Block Kit JSON Schema)."""
from __future__ import annotations

import json
from typing import Any

from bot.slack import ids
from bot.slack.text import MASK, clip, masked, mrkdwn, plain, show_value
from core.deciding import RATING_KEYS
from core.queries import ReviewContext
from core.vocabulary import ReviewMode, Status

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


def _text(kind: str, text: str) -> dict:
    return {"type": kind, "text": text}


def _section(text: str) -> dict:
    return {"type": "section", "text": _text("mrkdwn", text)}


def _context(*texts: str) -> dict:
    return {"type": "context", "elements": [_text("mrkdwn", t) for t in texts[:10]]}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": _text("plain_text", label), "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def _options(values) -> list[dict]:
    return [{"text": _text("plain_text", clip(v.replace("_", " "), 75)), "value": v[:150]} for v in values][:100]


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 5400:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


def _date(at) -> str:
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def _targets(targets) -> str:
    """Escalation targets as mentions. They are Slack ids the policy loader checked, so the syntax is safe."""
    def one(t: str) -> str:
        if t[:1] in "UW":
            return f"<@{t}>"
        if t[:1] == "S":
            return f"<!subteam^{t}>"
        return f"<#{t}>"
    return ", ".join(one(t) for t in targets if t.isalnum())


def _who(users: list[str]) -> str:
    # Reviewer ids come from Slack itself (or the operator CLI); only Slack-shaped ids become mentions.
    return ", ".join(f"<@{u}>" if u[:1] in "UW" and u.isalnum() else mrkdwn(u, 100) for u in users) or "policy"


def unaided(ctx: ReviewContext) -> bool:
    """Shadow mode, still open: the reviewer decides without seeing what the agent proposed."""
    return ctx.action.review_mode is ReviewMode.SHADOW and ctx.action.decision is None


def title(ctx: ReviewContext) -> str:
    """The agent's title, except in an unaided review, where it would give the agent's answer away."""
    return f"{ctx.action.action_type} (shadow review)" if unaided(ctx) else ctx.action.title


def fallback_text(ctx: ReviewContext) -> str:
    """The notification text; while a tree runs it mentions the current level's targets (that is what pings)."""
    text = mrkdwn(f"Review needed: {title(ctx)}", 300)
    if ctx.escalation is not None and not ctx.escalation.paused:
        text += " · " + _targets(ctx.escalation.targets)
    return text


def payload_fields(ctx: ReviewContext, values: dict | None = None) -> tuple[list[dict], int]:
    """Sections of `*key*\\nvalue` fields (the current payload unless `values` is given); returns
    (blocks, fields not shown)."""
    shown = masked(ctx.action.current_payload if values is None else values, ctx.route.get("mask_fields") or [])
    items = list(shown.items())
    fields = [_text("mrkdwn", clip(f"*{mrkdwn(str(k), 200)}*\n{show_value(v, FIELD_VALUE_CHARS)}", 2000))
              for k, v in items[:SHOWN_FIELDS]]
    blocks = [{"type": "section", "fields": fields[i:i + FIELDS_PER_SECTION]}
              for i in range(0, len(fields), FIELDS_PER_SECTION)]
    return blocks, max(0, len(items) - SHOWN_FIELDS)


def review_message(ctx: ReviewContext) -> list[dict]:
    a = ctx.action
    blind = unaided(ctx)
    facts = [
        f"*Agent*\n{mrkdwn(ctx.agent, 200)}",
        f"*Action type*\n`{mrkdwn(a.action_type, 100)}`",
        f"*Risk*\n{a.risk.value}",
        *([] if blind else [f"*Confidence*\n{a.confidence:.0%}"]),
        f"*Review mode*\n{a.review_mode.value}",
    ]
    if ctx.due_at is not None:
        label = "Re-escalates" if ctx.escalation and ctx.escalation.paused else "SLA due"
        facts.append(f"*{label}*\n{_date(ctx.due_at)}")
    if ctx.escalation is not None:
        e = ctx.escalation
        where = f"Level {e.level} of {e.levels}" + (f", round {e.round} of {e.rounds}" if e.rounds > 1 else "")
        facts.append(f"*Escalation*\n{where}: {_targets(e.targets)}" + (" (paused: claimed)" if e.paused else ""))
    blocks: list[dict] = [
        {"type": "header", "text": _text("plain_text", plain(title(ctx), 150))},
        {"type": "section", "fields": [_text("mrkdwn", f) for f in facts]},
    ]
    if blind:
        # The situation the agent was given, not its answer: no title, reasoning, confidence or payload.
        blocks.append(_section("*Shadow mode*: decide what should happen without the agent's answer. Press "
                               "*Decide…* and fill in the action as you would do it, or *Reject* it. The agent's "
                               "proposal is compared with your decision and shown here afterwards."))
        field_blocks, hidden = payload_fields(ctx, a.context)
        blocks += ([_section("*Context*")] + field_blocks) if field_blocks else []
    else:
        if a.summary:
            blocks.append(_section(clip("*Reasoning*\n" + mrkdwn(a.summary, 2900), 3000)))
        if a.review_mode is ReviewMode.SHADOW and a.decision is not None:
            agreed = a.decision.status is Status.APPROVED
            blocks.append(_section("*Shadow mode*: the agent had proposed the payload below; "
                                   + ("it matched the decision ✅" if agreed else "the decision differed")))
        field_blocks, hidden = payload_fields(ctx, a.payload if a.review_mode is ReviewMode.SHADOW else None)
        blocks += field_blocks
    why = "" if blind else f": {mrkdwn(ctx.route.get('explanation', ''), 300)}"  # it may quote the confidence
    blocks.append(_context(
        f"Routed by *{mrkdwn(a.rule, 300)}*{why}",
        f"policy `{mrkdwn(a.policy_version, 80)}` · `{a.id}`" + (f" · {hidden} more field(s) not shown" if hidden else ""),
    ))
    blocks += _status_blocks(ctx)
    return blocks[:MAX_MESSAGE_BLOCKS]


def _status_blocks(ctx: ReviewContext) -> list[dict]:
    a = ctx.action
    if a.decision is None:
        progress = []
        if a.quorum.required > 1:
            progress.append(f"{len(a.quorum.approvals)} of {a.quorum.required} approvals"
                            + (f": {_who(a.quorum.approvals)}" if a.quorum.approvals else ""))
        if a.revision:
            progress.append(f"payload edited {a.revision}× (latest by {_who([a.votes[-1].reviewer])})" if a.votes else "")
        if a.claimed_by:
            progress.append(f"🙋 {_who([a.claimed_by])} is on it")
        blocks = [_context(*[p for p in progress if p])] if any(progress) else []
        select = {"type": "static_select", "action_id": ids.REASON_TAG,
                  "placeholder": _text("plain_text", "Reason tag…"), "options": _options(ctx.reason_tags)}
        if unaided(ctx):  # nothing that shows or signs off the agent's proposal unseen
            elements = [_button("Decide…", ids.MODIFY, a.id, "primary"), _button("Reject", ids.REJECT, a.id, "danger"),
                        select, _button("Claim", ids.CLAIM, a.id)]
        else:
            elements = [_button("Approve", ids.APPROVE, a.id, "primary"), _button("Modify…", ids.MODIFY, a.id),
                        _button("Reject", ids.REJECT, a.id, "danger"), select, _button("Claim", ids.CLAIM, a.id),
                        _button("Full payload", ids.VIEW_PAYLOAD, a.id)]
        blocks.append({"type": "actions", "block_id": f"{ids.ACTIONS_BLOCK}.{a.revision}", "elements": elements})
        return blocks
    d = a.decision
    line = f"{STATUS_ICON.get(d.status, '')} *{d.status.value.replace('_', ' ').capitalize()}*"
    if d.reviewers:
        line += f" by {_who(d.reviewers)}"
    line += f" · {_duration(d.time_to_decision_seconds)} after it was proposed"
    if d.reason_tags:
        line += " · " + ", ".join(f"`{mrkdwn(t, 75)}`" for t in d.reason_tags)
    blocks = [_section(clip(line, 3000))]
    if d.comment:
        blocks.append(_context(clip("💬 " + mrkdwn(d.comment, 2900), 3000)))
    if a.outcome is not None:
        blocks.append(_context(f"Agent reported: *{a.outcome.status.value}*"))
    return blocks


def diff_reply(ctx: ReviewContext, reviewer: str) -> str:
    vote = next((v for v in reversed(ctx.action.votes) if v.reviewer == reviewer and v.text_diff), None)
    if vote is None:
        return ""
    return clip(f"✏️ {_who([reviewer])} changed the payload:\n```{mrkdwn(vote.text_diff, 3500)}```", 3900)


def escalation_reply(ctx: ReviewContext, esc) -> str:
    """The thread reply when an escalation fires; its mentions are what notify the targets."""
    why = ("the claim lapsed without a decision; escalation starts again" if esc.kind == "ack_timeout"
           else "nobody has decided yet")
    e = ctx.escalation
    step = f"level {esc.level + 1}" + (f" of {e.levels}" if e else "") + (f", round {esc.round + 1}" if esc.round else "")
    return clip(f"⏫ Escalated to {step}: {_targets(esc.targets)}, please review ({why}).", 3000)


def escalation_dm(ctx: ReviewContext, level: int, where) -> str:
    """A direct message (or a notice in a target channel) pointing at the review; `level` counts from 0."""
    place = f" in <#{where.channel}>" if where is not None else ""
    due = f" Next escalation {_date(ctx.due_at)}." if ctx.due_at else ""
    return clip(f"⏫ *{mrkdwn(title(ctx), 200)}* needs a decision{place} "
                f"(`{mrkdwn(ctx.action.action_type, 64)}`, {ctx.action.risk.value} risk, "
                f"escalation level {level + 1}).{due}",
                3000)


def fallback_audit_text(ctx: ReviewContext) -> str:
    return mrkdwn(f"Audit a sampled auto-approval: {ctx.action.title}", 300)


def audit_message(ctx: ReviewContext, item) -> list[dict]:
    """A sampled auto-approval, after the fact: the action as it went ahead, then the auditor's verdict."""
    a = ctx.action
    blocks: list[dict] = [
        {"type": "header", "text": _text("plain_text", plain("Audit: " + a.title, 150))},
        _context(f"Auto-approved {_date(a.created_at)} for *{mrkdwn(ctx.agent, 200)}* · "
                 f"`{mrkdwn(a.action_type, 100)}` · {a.risk.value} risk · confidence {a.confidence:.0%}"),
    ]
    if a.summary:
        blocks.append(_section(clip("*Reasoning*\n" + mrkdwn(a.summary, 2900), 3000)))
    field_blocks, hidden = payload_fields(ctx)
    blocks += field_blocks
    blocks.append(_context(f"Routed by *{mrkdwn(a.rule, 300)}*: {mrkdwn(ctx.route.get('explanation', ''), 300)}",
                           f"`{a.id}`" + (f" · {hidden} more field(s) not shown" if hidden else "")))
    if item.verdict is None:
        blocks.append({"type": "actions", "block_id": ids.AUDIT_BLOCK, "elements": [
            _button("Looks right", ids.AUDIT_OK, a.id, "primary"),
            _button("Should not have happened", ids.AUDIT_FLAG, a.id, "danger"),
            {"type": "static_select", "action_id": ids.AUDIT_TAG, "placeholder": _text("plain_text", "Reason tag…"),
             "options": _options(ctx.reason_tags)},
        ]})
    else:
        line = ("✅ *Looks right*" if item.verdict == "looks_right" else "🚩 *Should not have happened*")
        line += f" · {_who([item.auditor])}"
        if item.reason_tags:
            line += " · " + ", ".join(f"`{mrkdwn(t, 75)}`" for t in item.reason_tags)
        blocks.append(_section(clip(line, 3000)))
    return blocks[:MAX_MESSAGE_BLOCKS]


def reject_modal(ctx: ReviewContext, metadata: str) -> dict:
    return {
        "type": "modal", "callback_id": ids.REJECT_VIEW, "private_metadata": metadata,
        "title": _text("plain_text", "Reject action"), "submit": _text("plain_text", "Reject"),
        "close": _text("plain_text", "Cancel"),
        "blocks": [
            _section(clip(f"*{mrkdwn(title(ctx), 200)}*", 3000)),
            {"type": "input", "block_id": ids.TAGS_BLOCK, "label": _text("plain_text", "Why? (reason tags)"),
             "element": {"type": "multi_static_select", "action_id": ids.INPUT, "options": _options(ctx.reason_tags),
                         "placeholder": _text("plain_text", "Pick one or more")}},
            _comment_input(),
        ],
    }


def _comment_input() -> dict:
    return {"type": "input", "block_id": ids.COMMENT_BLOCK, "optional": True, "label": _text("plain_text", "Comment"),
            "element": {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True, "max_length": 3000}}


def _field_input(key: str, value: Any, prefill: bool = True) -> dict | None:
    """One input per top-level payload field, of the value's type, holding the value unless not
    `prefill`; None when Slack cannot hold it (then JSON mode is used)."""
    label = _text("plain_text", clip(key, 2000))
    block_id = ids.FIELD_PREFIX + key
    if len(block_id) > 255:
        return None
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, indent=1)
        element = {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True}
        hint = _text("plain_text", "JSON")
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
        element = {"type": "number_input", "action_id": ids.INPUT, "is_decimal_allowed": isinstance(value, float)}
        hint = None
    else:
        text = value
        element = {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": len(text) > 80 or "\n" in text}
        hint = None
    if len(text) > 3000:
        return None
    if text and prefill:
        element["initial_value"] = text
    block = {"type": "input", "block_id": block_id, "label": label, "element": element, "optional": isinstance(value, str)}
    if hint:
        block["hint"] = hint
    return block


def modify_modal(ctx: ReviewContext, metadata: str) -> dict:
    """Edit the payload; in an unaided (shadow) review, the same inputs start empty: the reviewer
    fills in the action as they would do it, and the agent's proposal is compared afterwards."""
    a = ctx.action
    blind = unaided(ctx)
    hidden = set(ctx.route.get("mask_fields") or [])
    editable = {k: v for k, v in a.current_payload.items() if k not in hidden}
    inputs = [_field_input(k, v, prefill=not blind) for k, v in editable.items()]
    extra = ([] if blind else [_ratings_input(k) for k in RATING_KEYS]) + [_tags_input(ctx, optional=True),
                                                                           _comment_input()]
    intro = [_context(clip(f"What should *{mrkdwn(title(ctx), 200)}* do? Fill in every field as you would do it; "
                           "masked fields keep the agent's values." if blind else
                           f"Editing *{mrkdwn(a.title, 200)}*. Masked fields are kept as they are.", 3000))]
    if None in inputs or len(intro) + len(inputs) + len(extra) > MAX_MODAL_BLOCKS:
        raw = json.dumps({k: None for k in editable} if blind else editable, ensure_ascii=False, indent=1)
        if len(raw) > 3000:
            inputs = [_section("This payload is too large to edit in Slack. Use `hitl decide "
                               f"{a.id} modify --payload …` instead.")]
        else:
            inputs = [{"type": "input", "block_id": ids.JSON_BLOCK, "label": _text("plain_text", "Payload (JSON)"),
                       "element": {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True,
                                   "initial_value": raw}}]
    return {
        "type": "modal", "callback_id": ids.MODIFY_VIEW, "private_metadata": metadata,
        "title": _text("plain_text", "Your decision" if blind else "Modify action"),
        "submit": _text("plain_text", "Decide" if blind else "Approve edits"),
        "close": _text("plain_text", "Cancel"),
        "blocks": (intro + inputs + extra)[:MAX_MODAL_BLOCKS],
    }


def _ratings_input(key: str) -> dict:
    return {"type": "input", "block_id": ids.RATING_PREFIX + key, "optional": True,
            "label": _text("plain_text", key.replace("_", " ").capitalize() + " (1-5)"),
            "element": {"type": "static_select", "action_id": ids.INPUT,
                        "options": [{"text": _text("plain_text", str(i)), "value": str(i)} for i in range(1, 6)]}}


def _tags_input(ctx: ReviewContext, optional: bool) -> dict:
    return {"type": "input", "block_id": ids.TAGS_BLOCK, "optional": optional, "label": _text("plain_text", "Reason tags"),
            "element": {"type": "multi_static_select", "action_id": ids.INPUT, "options": _options(ctx.reason_tags)}}


def payload_modal(ctx: ReviewContext) -> dict:
    shown = masked(ctx.action.current_payload, ctx.route.get("mask_fields") or [])
    raw = mrkdwn(json.dumps(shown, ensure_ascii=False, indent=2).replace("```", "ˋˋˋ"), 10**9)
    chunks = [raw[i:i + 2900] for i in range(0, len(raw), 2900)] or [""]
    blocks = [_section(f"```{c}```") for c in chunks[:MAX_MODAL_BLOCKS - 1]]
    if len(chunks) > MAX_MODAL_BLOCKS - 1:
        blocks.append(_context("Truncated: the full payload is at GET /v1/actions/" + ctx.action.id))
    return {"type": "modal", "callback_id": ids.PAYLOAD_VIEW, "title": _text("plain_text", "Full payload"),
            "close": _text("plain_text", "Close"), "blocks": blocks}


__all__ = ["MASK", "audit_message", "title", "unaided", "diff_reply", "escalation_dm", "escalation_reply",
           "fallback_audit_text", "fallback_text", "modify_modal", "payload_modal", "reject_modal", "review_message"]
