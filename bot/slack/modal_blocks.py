"""The modals: reject with reasons, modify (or, unaided, decide), and the full payload."""
from __future__ import annotations

import json
from typing import Any

from bot.slack import block_kit as bk
from bot.slack import ids
from bot.slack.block_kit import MAX_MODAL_BLOCKS, title, unaided
from bot.slack.mrkdwn import MASK, clip, mrkdwn, neutral, split
from core import masking
from core.deciding import RATING_KEYS
from core.queries import ReviewContext


def reject_modal(ctx: ReviewContext, metadata: str) -> dict:
    return {
        "type": "modal", "callback_id": ids.REJECT_VIEW, "private_metadata": metadata,
        "title": bk.text_obj("plain_text", "Reject action"), "submit": bk.text_obj("plain_text", "Reject"),
        "close": bk.text_obj("plain_text", "Cancel"),
        "blocks": [
            bk.section(clip(f"*{neutral(title(ctx), 200)}*", 3000)),
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
    label = bk.text_obj("plain_text", clip(key, 2000) or "(empty key)")
    block_id = ids.FIELD_PREFIX + key
    if len(block_id) > 255:
        return None
    hint = None
    if isinstance(value, bool):
        # A select, not a text box: a boolean stays a boolean.
        options = [{"text": bk.text_obj("plain_text", t), "value": t} for t in ("true", "false")]
        element: dict[str, Any] = {"type": "static_select", "action_id": ids.INPUT, "options": options}
        if prefill:
            element["initial_option"] = options[0 if value else 1]
        text = ""
    elif value is None or isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, indent=1)
        element = {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": True}
        hint = bk.text_obj("plain_text", "JSON" + ("; masked values (••••••) are kept as they are" if MASK in text else ""))
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
        element = {"type": "number_input", "action_id": ids.INPUT, "is_decimal_allowed": isinstance(value, float)}
    else:
        text = value
        element = {"type": "plain_text_input", "action_id": ids.INPUT, "multiline": len(text) > 80 or "\n" in text}
    if len(text) > 3000:
        return None
    if text and prefill:
        element["initial_value"] = text
    # Only null and an empty string may be left empty: emptying a field is not how it is removed.
    block = {"type": "input", "block_id": block_id, "label": label, "element": element,
             "optional": value is None or value == ""}
    if hint:
        block["hint"] = hint
    return block


def _remove_input(keys: list[str]) -> dict:
    return {"type": "input", "block_id": ids.REMOVE_BLOCK, "optional": True,
            "label": bk.text_obj("plain_text", "Remove fields"),
            "hint": bk.text_obj("plain_text", "Fields to take out of the payload on purpose"),
            "element": {"type": "multi_static_select", "action_id": ids.INPUT,
                        "options": [{"text": bk.text_obj("plain_text", clip(k, 75) or "(empty key)"),
                                     "value": masking.pointer((k,))} for k in keys[:100]]}}


def editable_fields(ctx: ReviewContext) -> dict[str, Any]:
    """The top-level fields a Slack form shows, masked values replaced: a field that is masked
    as a whole is left out, and its value stays as it is."""
    masks = masking.paths(ctx.route)
    shown = masking.masked(ctx.action.current_payload, masks)
    return {k: v for k, v in shown.items() if not masking.covers(masks, (k,))}


def modify_modal(ctx: ReviewContext, metadata: str, editor_url: str | None = None) -> dict:
    """Edit the payload; in an unaided (shadow) review, the same inputs start empty: the reviewer
    fills in the action as they would do it, and the agent's proposal is compared afterwards.
    A payload Slack cannot hold gets no form and no submit button, only the browser editor's link."""
    a = ctx.action
    blind = unaided(ctx)
    editable = editable_fields(ctx)
    inputs = [_field_input(k, v, prefill=not blind) for k, v in editable.items()]
    extra = ([] if blind else [_ratings_input(k) for k in RATING_KEYS]) + [_tags_input(ctx, optional=True),
                                                                           _comment_input()]
    if editable and not blind:
        extra.insert(0, _remove_input(list(editable)))
    intro = [bk.context(clip(f"What should *{neutral(title(ctx), 200)}* do? Fill in every field as you would do it; "
                           "masked fields keep the agent's values." if blind else
                           f"Editing *{neutral(a.title, 200)}*. Masked fields are kept as they are.", 3000))]
    if None in inputs or len(intro) + len(inputs) + len(extra) > MAX_MODAL_BLOCKS:
        raw = json.dumps({k: None for k in editable} if blind else editable, ensure_ascii=False, indent=1)
        if len(raw) > 3000:
            return too_large_modal(ctx, editor_url)
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


def too_large_modal(ctx: ReviewContext, editor_url: str | None) -> dict:
    """No inputs and no submit: nothing here can approve an edit it does not carry."""
    blocks = [bk.section(clip(f"*{neutral(title(ctx), 200)}* is too large to edit in Slack.", 3000))]
    if editor_url:
        blocks.append({"type": "actions", "block_id": ids.EDITOR_BLOCK, "elements": [
            {"type": "button", "action_id": ids.OPEN_EDITOR, "text": bk.text_obj("plain_text", "Open the editor"),
             "url": editor_url, "style": "primary"}]})
        blocks.append(bk.context("The link is yours alone, for this version of the payload, and works for a few "
                                 "minutes. Open Modify again for a new one."))
    else:
        blocks.append(bk.context(f"Use `hitl decide {ctx.action.id} modify --payload …` instead."))
    return {"type": "modal", "callback_id": ids.EDITOR_VIEW, "title": bk.text_obj("plain_text", "Modify action"),
            "close": bk.text_obj("plain_text", "Close"), "blocks": blocks}


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
    """The whole payload and the agent's whole context, masked, in code blocks split on safe boundaries."""
    masks = masking.paths(ctx.route)
    blocks: list[dict] = []
    for label, value in (("Payload", masking.masked(ctx.action.current_payload, masks)), ("Context", ctx.action.context)):
        if label == "Context" and not value:
            continue
        raw = mrkdwn(json.dumps(value, ensure_ascii=False, indent=2).replace("```", "ˋˋˋ"), 10**9)
        blocks.append(bk.section(f"*{label}*"))
        blocks += [bk.section(f"```{c}```") for c in split(raw, 2900)]
    if len(blocks) > MAX_MODAL_BLOCKS:
        blocks = blocks[:MAX_MODAL_BLOCKS - 1] + [
            bk.context("Truncated: the whole action is at GET /v1/actions/" + ctx.action.id)]
    return {"type": "modal", "callback_id": ids.PAYLOAD_VIEW, "title": bk.text_obj("plain_text", "Full payload"),
            "close": bk.text_obj("plain_text", "Close"), "blocks": blocks}
