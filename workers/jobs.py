"""RQ jobs: small, module-level, ids in and idempotent (a job may run twice)."""
from __future__ import annotations

import logging

from core import inbox, reviews
from core.errors import NotFound
from core.queries import review_context
from core.vocabulary import Status
from workers.context import runtime
from workers.pacing import take_slot

log = logging.getLogger(__name__)
POST_LEASE_SECONDS = 60


def post_review(action_id: str) -> str:
    rt = runtime()
    gate = rt.gate
    if reviews.location(gate, action_id) is not None:
        return "already posted"
    try:
        ctx = review_context(gate, action_id)
    except NotFound:
        return "no such action"
    if ctx.action.status != Status.PENDING:
        return f"not pending ({ctx.action.status})"
    channel = ctx.route.get("channel") or rt.settings.slack_default_channel
    if not channel:
        log.error("action %s has no review channel: set channel in the policy or HITL_SLACK_DEFAULT_CHANNEL", action_id)
        return "no channel"
    from bot.slack.blocks import fallback_text, review_message

    # Two copies of this job (a retry racing the reconciler) must not post twice: a short lease
    # covers the Slack call; the database row written after it is what says "posted".
    lease = f"hitl:posting:{action_id}"
    if not rt.redis.set(lease, "1", nx=True, ex=POST_LEASE_SECONDS):
        return "being posted by another worker"
    try:
        if reviews.location(gate, action_id) is not None:
            return "already posted"
        take_slot(rt.redis, channel, rt.settings.slack_post_interval_ms)
        response = rt.slack.chat_postMessage(channel=channel, text=fallback_text(ctx), blocks=review_message(ctx),
                                             unfurl_links=False, unfurl_media=False)
        reviews.record_posted(gate, action_id, response["channel"], response["ts"])
    finally:
        rt.redis.delete(lease)
    return "posted"


def refresh_review(action_id: str) -> str:
    rt = runtime()
    where = reviews.location(rt.gate, action_id)
    if where is None:
        return "not posted"
    from bot.slack.blocks import fallback_text, review_message

    ctx = review_context(rt.gate, action_id)
    rt.slack.chat_update(channel=where.channel, ts=where.message_ts, text=fallback_text(ctx), blocks=review_message(ctx))
    return "updated"


def post_diff_reply(action_id: str, reviewer: str) -> str:
    rt = runtime()
    where = reviews.location(rt.gate, action_id)
    if where is None:
        return "not posted"
    from bot.slack.blocks import diff_reply

    text = diff_reply(review_context(rt.gate, action_id), reviewer)
    if not text:
        return "no diff"
    take_slot(rt.redis, where.channel, rt.settings.slack_post_interval_ms)
    rt.slack.chat_postMessage(channel=where.channel, thread_ts=where.message_ts, text=text)
    return "replied"


def post_ephemeral(channel: str, user: str, text: str) -> str:
    runtime().slack.chat_postEphemeral(channel=channel, user=user, text=text)
    return "sent"


def apply_interaction(interaction_id: int) -> str:
    """Apply a recorded click (decide or claim); tell the reviewer privately if it did not count."""
    from bot.slack.notices import notice

    rt = runtime()
    applied = inbox.apply(rt.gate, interaction_id, rt.groups, explain=notice)
    if applied is None:
        return "applied already"
    if applied.notice and applied.reply_channel:
        rt.slack.chat_postEphemeral(channel=applied.reply_channel, user=applied.reviewer, text=applied.notice)
    return applied.notice or "ok"


def answer_stats(response_url: str, text: str) -> str:
    """/hitl-stats: compute and answer privately through the command's response_url."""
    from slack_sdk.webhook import WebhookClient

    from bot.slack.text import escape
    from core import metrics

    subject, days = metrics.parse_args(text)
    body = "\n".join(metrics.lines(metrics.stats(runtime().gate, subject, days)))
    WebhookClient(response_url).send(response_type="ephemeral", text=f"```{escape(body)}```")
    return "answered"


def deliver_callback(action_id: str) -> str:
    """POST the decision to the agent's callback_url, signed; the database records every attempt."""
    import time

    import httpx

    from core import callbacks

    rt = runtime()
    attempt = callbacks.prepare(rt.gate, action_id)
    if attempt is None:
        return "nothing owed"
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "hitl-gate",
               "X-Hitl-Request-Timestamp": timestamp,
               "X-Hitl-Signature": callbacks.signature(attempt.secret, timestamp, attempt.body)}
    ok, error = False, None
    try:
        response = httpx.post(attempt.url, content=attempt.body, headers=headers, timeout=10, follow_redirects=False)
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    return callbacks.record(rt.gate, attempt, ok, error, rt.settings.callback_max_attempts)
