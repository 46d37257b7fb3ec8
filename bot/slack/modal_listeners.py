"""Modal submissions. Validation problems go back inline with response_action=errors."""
from __future__ import annotations

import json
import math

from bot.slack import ids
from bot.slack.deps import SlackDeps
from bot.slack.modal_metadata import ModalMetadata
from bot.slack.notices import notice
from bot.slack.request_body import input_value, user_id
from core import deciding, masking
from core.errors import HitlError, InvalidEdit, StaleView
from core.queries import review_context
from core.seen import Seen
from core.text_checks import json_problem


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


def parse_fields(values: dict, current: dict, masks: list) -> tuple[dict, list[str], dict[str, str]]:
    """The edited payload from the modal's inputs, the fields removed on purpose, and per-block
    errors. Fields the form did not show (masked ones) keep their values; so do masked values
    inside a shown field (core/deciding.py puts them back under the row lock)."""
    removed = input_value(values, ids.REMOVE_BLOCK, ids.INPUT) or []
    if ids.JSON_BLOCK in values:
        raw = input_value(values, ids.JSON_BLOCK, ids.INPUT) or ""
        try:
            edited = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            return {}, removed, {ids.JSON_BLOCK: _json_error(exc)}
        if not isinstance(edited, dict):
            return {}, removed, {ids.JSON_BLOCK: "The payload must be a JSON object { … }"}
        kept = {k: current[k] for k in current if masking.covers(masks, (k,))}
        return {**edited, **kept}, removed, {}
    errors: dict[str, str] = {}
    edited = dict(current)
    for block_id in values:
        if not block_id.startswith(ids.FIELD_PREFIX):
            continue
        key = block_id[len(ids.FIELD_PREFIX):]
        if key not in current or masking.covers(masks, (key,)):
            continue  # not a field this form showed
        raw = input_value(values, block_id, ids.INPUT)
        old = current[key]
        try:
            edited[key] = _field_value(old, raw)
        except ValueError as exc:
            errors[block_id] = str(exc)
    for pointer in removed:
        key = masking.parse(pointer)[0] if pointer.startswith("/") else pointer
        if not masking.covers(masks, (key,)):
            edited.pop(key, None)
    return edited, removed, errors


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON can carry")


def _json_error(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "Not valid JSON: nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"Not valid JSON: {exc.msg} (line {exc.lineno})"
    return f"Not valid JSON: {exc}"


def _field_value(old, raw):
    """One input's value, of the type the field had."""
    if isinstance(old, bool):
        if raw not in ("true", "false"):
            raise ValueError("Choose true or false")
        return raw == "true"
    if old is None or isinstance(old, (dict, list)):
        if raw in (None, ""):
            if old is None:
                return None
            raise ValueError("Enter the value as JSON, or pick the field under Remove fields")
        try:
            value = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise ValueError(_json_error(exc)) from None
        if (found := json_problem(value)) is not None:
            raise ValueError(f"{found[0] or 'Value'}: {found[1]}")
        return value
    if isinstance(old, (int, float)):
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError("Enter a number") from None
        if not math.isfinite(number):
            raise ValueError("Enter a finite number: JSON cannot carry NaN, Infinity or numbers as large as 1e400")
        return int(number) if isinstance(old, int) and number.is_integer() and abs(number) < 2**53 else number
    if raw in (None, "") and old != "":
        raise ValueError("Enter a value, or pick the field under Remove fields")
    return raw or ""


def edit_errors(exc: InvalidEdit, values: dict) -> dict[str, str]:
    """Each problem beside the input of the top-level field it is in."""
    errors: dict[str, str] = {}
    fallback = ids.JSON_BLOCK if ids.JSON_BLOCK in values else ids.COMMENT_BLOCK
    for where, problem in exc.problems:
        parts = masking.parse(where) if where else ()
        block = ids.FIELD_PREFIX + parts[0] if parts and ids.FIELD_PREFIX + parts[0] in values else fallback
        inner = where if len(parts) > 1 or block == fallback else ""
        text = f"{inner} {problem}".strip() if inner else problem[:1].upper() + problem[1:]
        errors[block] = (errors[block] + "; " + text) if block in errors else text
    return {k: v[:150] for k, v in errors.items()}


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
    edited, removed, errors = parse_fields(values, ctx.action.current_payload, masking.paths(ctx.route))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ratings = {}
    for block_id in values:
        if block_id.startswith(ids.RATING_PREFIX) and (v := input_value(values, block_id, ids.INPUT)):
            if not (isinstance(v, str) and v in ("1", "2", "3", "4", "5")):
                ack(response_action="errors", errors={block_id: "Choose a rating from 1 to 5"})
                return
            ratings[block_id[len(ids.RATING_PREFIX):]] = int(v)
    tags, comment = _common(values)
    reviewer = user_id(body)
    try:
        deciding.decide(deps.services, action_id, reviewer=reviewer, kind="modify", edited_payload=edited,
                        reason_tags=tags, comment=comment, ratings=ratings or None, source="slack",
                        groups=deps.groups, seen=_seen(meta), removed_fields=removed or None, keep_masked=True)
    except InvalidEdit as exc:
        ack(response_action="errors", errors=edit_errors(exc, values))
        return
    except HitlError as exc:
        first = next(iter(values), ids.COMMENT_BLOCK)
        ack(response_action="errors", errors={first: notice(exc)[:150]})
        return
    ack()  # the diff reply in the review's thread is one of the decision's effects (core/deciding.py)
