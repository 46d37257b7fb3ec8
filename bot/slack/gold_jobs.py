"""The jobs that post gold items and show their known answer once one is given (core/gold.py)."""
from __future__ import annotations

import logging

from bot.slack.jobs import BUSY, lease, post_message
from core.effects import Effect
from workers.context import runtime
from workers.names import SLACK
from workers.queue import job
from workers.settle import NotYet, settled

log = logging.getLogger(__name__)


@job(SLACK)
def post_gold(gold_id: str) -> str:
    from bot.slack.gold_blocks import fallback_text, gold_message
    from core import gold

    rt = runtime()

    def work() -> str:
        item = gold.get(rt.services, gold_id)
        if item is None or item.posted_at is not None:
            return "nothing owed"
        channel = item.channel or rt.settings.slack_default_channel
        if not channel:
            raise NotYet("no channel")
        with lease(rt, f"hitl:gold:{gold_id}") as held:
            if not held:
                raise NotYet(BUSY)
            ctx = gold.shown(rt.services, item)
            response = post_message(rt, channel, text=fallback_text(ctx, item), blocks=gold_message(ctx, item),
                                    unfurl_media=False)
            gold.record_posted(rt.services, gold_id, response["channel"], response["ts"])
        return "posted"

    return settled(rt, Effect.GOLD_NEEDED, gold_id, work)


@job(SLACK)
def refresh_gold(gold_id: str) -> str:
    from bot.slack.gold_blocks import fallback_text, gold_message
    from core import gold

    rt = runtime()

    def work() -> str:
        item = gold.get(rt.services, gold_id)
        if item is None or item.message_ts is None:
            return "not posted"
        ctx = gold.shown(rt.services, item)
        rt.slack.chat_update(channel=item.channel, ts=item.message_ts, text=fallback_text(ctx, item),
                             blocks=gold_message(ctx, item))
        return "updated"

    return settled(rt, Effect.GOLD_CHANGED, gold_id, work)


def issue_after(rt, action_type: str, channel: str) -> None:
    """After a review was posted: maybe a gold item beside it. Its failure never fails the review's post."""
    from core import gold

    try:
        gold.maybe_issue(rt.services, action_type, channel)
    except Exception:  # a measurement: the review it rides on is posted and recorded, whatever happens here
        log.exception("could not issue a gold item for %s", action_type)


ROUTES = {Effect.GOLD_NEEDED: post_gold, Effect.GOLD_CHANGED: refresh_gold}
