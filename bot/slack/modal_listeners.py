"""Modal submissions. Validation problems go back inline with response_action=errors."""
from __future__ import annotations

import json

from bot.slack import ids
from bot.slack.deps import SlackDeps
from bot.slack.modal_metadata import ModalMetadata
from bot.slack.notices import notice
from bot.slack.request_body import input_value, user_id
from core import deciding
from core.errors import HitlError, StaleView
from core.queries import review_context
from core.seen import Seen


def register(app, deps: SlackDeps) -> None:
    app.view(ids.REJECT_VIEW)(lambda ack, body, view: on_reject_submit(deps, ack, body, view))
    app.view(ids.MODIFY_VIEW)(lambda ack, body, view: on_modify_submit(deps, ack, body, view))


def _common(values: dict) -> tuple[list[str], str | None]:
    tags = input_value(values, ids.TAGS_BLOCK, ids.INPUT) or []
    comment = input_value(values, ids.COMMENT_BLOCK, ids.INPUT)
    return tags, comment


def on_reject_submit(deps: SlackDeps, ack, body: dict, view: dict) -> None:
    values = view["state"]["values"]
    tags, comment = _common(values)
    meta = ModalMetadata.of(view)
    try:
        deciding.decide(deps.services, meta.action_id, reviewer=user_id(body), kind="reject", reason_tags=tags,
                        comment=comment, source="slack", groups=deps.groups, seen=_seen(meta))
    except HitlError as exc:
        ack(response_action="errors", errors={ids.TAGS_BLOCK: notice(exc)[:150]})
        return
    ack()


def parse_fields(values: dict, current: dict, masked_keys: list[str]) -> tuple[dict, dict[str, str]]:
    """The edited payload from the modal's inputs, and per-block errors. Masked fields were not
    shown for editing, so they keep their values."""
    errors: dict[str, str] = {}
    if ids.JSON_BLOCK in values:
        raw = input_value(values, ids.JSON_BLOCK, ids.INPUT) or ""
        try:
            edited = json.loads(raw)
        except ValueError as exc:
            return {}, {ids.JSON_BLOCK: f"Not valid JSON: {exc.msg} (line {exc.lineno})"}
        if not isinstance(edited, dict):
            return {}, {ids.JSON_BLOCK: "The payload must be a JSON object { … }"}
        kept = {k: current[k] for k in masked_keys if k in current}
        return {**edited, **kept}, errors
    edited = dict(current)
    for block_id in values:
        if not block_id.startswith(ids.FIELD_PREFIX):
            continue
        key = block_id[len(ids.FIELD_PREFIX):]
        raw = input_value(values, block_id, ids.INPUT)
        old = current.get(key)
        if isinstance(old, bool) or old is None or isinstance(old, (dict, list)):
            try:
                edited[key] = json.loads(raw) if raw not in (None, "") else None
            except ValueError as exc:
                errors[block_id] = f"Not valid JSON: {exc.msg} (line {exc.lineno})"
        elif isinstance(old, (int, float)):
            try:
                number = float(raw)
            except (TypeError, ValueError):
                errors[block_id] = "Enter a number"
                continue
            edited[key] = int(number) if isinstance(old, int) and number.is_integer() else number
        else:
            edited[key] = raw or ""
    return edited, errors


def _seen(meta: ModalMetadata) -> Seen:
    seen = Seen.parse(meta.seen)
    if seen is None:  # a modal opened before votes named what they saw
        raise StaleView("this form is out of date: close it and open it again from the message")
    return seen


def on_modify_submit(deps: SlackDeps, ack, body: dict, view: dict) -> None:
    values = view["state"]["values"]
    meta = ModalMetadata.of(view)
    action_id = meta.action_id
    try:
        ctx = review_context(deps.services, action_id)
    except HitlError as exc:
        ack(response_action="errors", errors={ids.COMMENT_BLOCK: notice(exc)[:150]})
        return
    edited, errors = parse_fields(values, ctx.action.current_payload, ctx.route.get("mask_fields") or [])
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ratings = {}
    for block_id in values:
        if block_id.startswith(ids.RATING_PREFIX) and (v := input_value(values, block_id, ids.INPUT)):
            ratings[block_id[len(ids.RATING_PREFIX):]] = int(v)
    tags, comment = _common(values)
    reviewer = user_id(body)
    try:
        deciding.decide(deps.services, action_id, reviewer=reviewer, kind="modify", edited_payload=edited,
                        reason_tags=tags, comment=comment, ratings=ratings or None, source="slack",
                        groups=deps.groups, seen=_seen(meta))
    except HitlError as exc:
        first = next(iter(values), ids.COMMENT_BLOCK)
        ack(response_action="errors", errors={first: notice(exc)[:150]})
        return
    ack()  # the diff reply in the review's thread is one of the decision's effects (core/deciding.py)
