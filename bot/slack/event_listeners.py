"""Events API listeners: replies in a review's thread become comments on the action."""
from __future__ import annotations

from bot.slack.deps import SlackDeps
from core import reviews
from core.errors import HitlError


def register(app, deps: SlackDeps) -> None:
    app.event("message")(lambda event: on_message(deps, event))


def on_message(deps: SlackDeps, event: dict) -> None:
    thread = event.get("thread_ts")
    if not thread or thread == event.get("ts") or event.get("subtype") or event.get("bot_id"):
        return  # not a human reply inside a thread
    action_id = reviews.action_at(deps.services, event.get("channel", ""), thread)
    if action_id is None:
        return
    try:
        reviews.add_comment(deps.services, action_id, event.get("user", "?"), event.get("text", ""), f"slack:{event['ts']}")
    except HitlError:
        pass  # text no database can store; nothing to keep
