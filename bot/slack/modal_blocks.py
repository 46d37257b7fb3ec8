"""The modals: reject with reasons, modify (or, unaided, decide), and the full payload."""
from __future__ import annotations

import json
from typing import Any

from bot.slack import block_kit as bk
from bot.slack import ids
from bot.slack.block_kit import MAX_MODAL_BLOCKS, title, unaided
from bot.slack.mrkdwn import clip, masked, mrkdwn
from core.deciding import RATING_KEYS
from core.queries import ReviewContext


def reject_modal(ctx: ReviewContext, metadata: str) -> dict:
    return {
        "type": "modal", "callback_id": ids.REJECT_VIEW, "private_metadata": metadata,
        "title": bk.text_obj("plain_text", "Reject action"), "submit": bk.text_obj("plain_text", "Reject"),
        "close": bk.text_obj("plain_text", "Cancel"),
        "blocks": [
            bk.section(clip(f"*{mrkdwn(title(ctx), 200)}*", 3000)),
            {"type": "input", "block_id": ids.TAGS_BLOCK, "label": bk.text_obj("plain_text", "Why? (reason tags)"),
             "element": {"type": "multi_static_select", "action_id": ids.INPUT, "options": bk.options(ctx.reason_tags),
                         "placeholder": bk.text_obj("plain_text", "Pick one or more")}},
            _comment_input(),
        ],
    }


def _comment_input() -> dict:
    return {"type": "input", "block_id": ids.COMMENT_BLOCK, "optional": True, "label": bk.text_obj("plain_text", "Comment"),
            "element": {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True, "max_length": 3000}}


def _field_input(key: str, value: Any, prefill: bool = True) -> dict | None:
    """One input per top-level payload field, of the value's type, holding the value unless not
    `prefill`; None when Slack cannot hold it (then JSON mode is used)."""
    label = bk.text_obj("plain_text", clip(key, 2000))
    block_id = ids.FIELD_PREFIX + key
    if len(block_id) > 255:
        return None
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, indent=1)
        element = {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True}
        hint = bk.text_obj("plain_text", "JSON")
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
    intro = [bk.context(clip(f"What should *{mrkdwn(title(ctx), 200)}* do? Fill in every field as you would do it; "
                           "masked fields keep the agent's values." if blind else
                           f"Editing *{mrkdwn(a.title, 200)}*. Masked fields are kept as they are.", 3000))]
    if None in inputs or len(intro) + len(inputs) + len(extra) > MAX_MODAL_BLOCKS:
        raw = json.dumps({k: None for k in editable} if blind else editable, ensure_ascii=False, indent=1)
        if len(raw) > 3000:
            inputs = [bk.section("This payload is too large to edit in Slack. Use `hitl decide "
                               f"{a.id} modify --payload …` instead.")]
        else:
            inputs = [{"type": "input", "block_id": ids.JSON_BLOCK, "label": bk.text_obj("plain_text", "Payload (JSON)"),
                       "element": {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True,
                                   "initial_value": raw}}]
    return {
        "type": "modal", "callback_id": ids.MODIFY_VIEW, "private_metadata": metadata,
        "title": bk.text_obj("plain_text", "Your decision" if blind else "Modify action"),
        "submit": bk.text_obj("plain_text", "Decide" if blind else "Approve edits"),
        "close": bk.text_obj("plain_text", "Cancel"),
        "blocks": (intro + inputs + extra)[:MAX_MODAL_BLOCKS],
    }


def _ratings_input(key: str) -> dict:
    return {"type": "input", "block_id": ids.RATING_PREFIX + key, "optional": True,
            "label": bk.text_obj("plain_text", key.replace("_", " ").capitalize() + " (1-5)"),
            "element": {"type": "static_select", "action_id": ids.INPUT,
                        "options": [{"text": bk.text_obj("plain_text", str(i)), "value": str(i)} for i in range(1, 6)]}}


def _tags_input(ctx: ReviewContext, optional: bool) -> dict:
    return {"type": "input", "block_id": ids.TAGS_BLOCK, "optional": optional,
            "label": bk.text_obj("plain_text", "Reason tags"),
            "element": {"type": "multi_static_select", "action_id": ids.INPUT, "options": bk.options(ctx.reason_tags)}}


def payload_modal(ctx: ReviewContext) -> dict:
    shown = masked(ctx.action.current_payload, ctx.route.get("mask_fields") or [])
    raw = mrkdwn(json.dumps(shown, ensure_ascii=False, indent=2).replace("```", "ˋˋˋ"), 10**9)
    chunks = [raw[i:i + 2900] for i in range(0, len(raw), 2900)] or [""]
    blocks = [bk.section(f"```{c}```") for c in chunks[:MAX_MODAL_BLOCKS - 1]]
    if len(chunks) > MAX_MODAL_BLOCKS - 1:
        blocks.append(bk.context("Truncated: the full payload is at GET /v1/actions/" + ctx.action.id))
    return {"type": "modal", "callback_id": ids.PAYLOAD_VIEW, "title": bk.text_obj("plain_text", "Full payload"),
            "close": bk.text_obj("plain_text", "Close"), "blocks": blocks}
