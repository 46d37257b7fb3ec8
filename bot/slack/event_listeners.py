"""Events API listeners: replies in a review's thread become comments on the action; opening App
Home publishes the person's tab."""
from __future__ import annotations

import logging

import redis

from bot.slack.deps import SlackDeps
from core import reviews
from core.errors import HitlError

log = logging.getLogger(__name__)


def register(app, deps: SlackDeps) -> None:
    app.event("message")(lambda event: on_message(deps, event))
    app.event("app_home_opened")(lambda event: on_home_opened(deps, event))


def on_home_opened(deps: SlackDeps, event: dict) -> None:
    from bot.slack import home_jobs

    if event.get("tab", "home") == "home" and event.get("user"):
        try:
            home_jobs.opened(deps.runtime, event["user"])
        except redis.RedisError:  # the tab shows what it showed last time; the next opening tries again
            log.warning("App Home not published for %s: Redis is unavailable", event["user"])


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
