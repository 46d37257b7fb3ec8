"""Reading Slack interaction payloads (shapes as in tests/fixtures/slack/samples)."""
from __future__ import annotations

from typing import Any

from core.seen import Seen


def user_id(body: dict) -> str:
    return body["user"]["id"]


def channel_id(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def clicked_value(body: dict) -> str:
    """The action id a button names, with or without what it showed (`bound_value`)."""
    return clicked(body)[0]


def clicked(body: dict) -> tuple[str, Seen | None]:
    """The action id and what the button showed; None for a button of a message posted before
    votes were bound to it (or a crafted value)."""
    action_id, _, token = (body["actions"][0].get("value") or "").partition(":")
    return action_id, Seen.parse(token)


def bound_value(action_id: str, seen: Seen) -> str:
    return f"{action_id}:{seen.token()}"


def state_value(values: dict, action_id: str) -> Any:
    """The value of the element with this action_id in any block of state.values."""
    for block in (values or {}).values():
        element = block.get(action_id)
        if element is None:
            continue
        kind = element.get("type")
        if kind == "static_select":
            return (element.get("selected_option") or {}).get("value")
        if kind == "multi_static_select":
            return [o["value"] for o in element.get("selected_options") or []]
        return element.get("value")
    return None


def input_value(values: dict, block_id: str, action_id: str) -> Any:
    element = (values or {}).get(block_id, {}).get(action_id)
    if element is None:
        return None
    return state_value({block_id: {action_id: element}}, action_id)
