"""RQ jobs: small, module-level, ids in and idempotent (a job may run twice)."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from core import escalation, inbox, reviews, sampling
from core.errors import NotFound
from core.queries import review_context
from core.vocabulary import Status
from workers.context import runtime
from workers.pacing import take_slot

log = logging.getLogger(__name__)


@contextmanager
def _lease(rt, key: str):
    """True when this worker holds `key` for the Slack call; two copies of a job never post twice.
    The database row written inside it is what says "done"; the lease only covers the call."""
    held = bool(rt.redis.set(key, "1", nx=True, ex=rt.settings.slack_lease_seconds))
    try:
        yield held
    finally:
        if held:
            rt.redis.delete(key)


EARLY_SLEEP_LIMIT = 2.0  # seconds a timer job that arrived early waits in place rather than rescheduling
FIRE_BATCH = 200


def fire_timers(second: int) -> str:
    """The timer-wheel slot for one whole second: fire every timer due by now (workers/queue.py).
    RQ's scheduler may release it early (clock skew between hosts) or twice; `escalation.fire_due`
    re-checks each action's state and time, so an early or repeated run fires nothing twice."""
    import time

    from workers.queue import enqueue, timer_job_id

    gate = runtime().gate
    wait = second - gate.clock().timestamp()
    if wait > EARLY_SLEEP_LIMIT:
        from datetime import UTC, datetime

        enqueue(runtime().redis, "workers.jobs.fire_timers", second, job_id=timer_job_id(second) + "-early",
                at=datetime.fromtimestamp(second, UTC))
        return f"early by {wait:.1f}s: rescheduled"
    if wait > 0:
        time.sleep(wait)
    fired = 0
    while True:
        batch = escalation.fire_due(gate, limit=FIRE_BATCH)
        fired += sum(1 for _id, f in batch if f.kind != "none")
        if len(batch) < FIRE_BATCH:
            return f"fired {fired}"


def notify_escalation(action_id: str, seq: int) -> str:
    """Tell an escalation's targets: a reply in the review's thread mentioning them all, and a direct
    message to each user. The escalations row says whether this was done; a lease stops two copies."""
    from bot.slack.blocks import escalation_dm, escalation_reply

    rt = runtime()
    gate = rt.gate
    esc = escalation.get(gate, action_id, seq)
    if esc is None or esc.notified_at is not None:
        return "nothing owed"
    with _lease(rt, f"hitl:notifying:{action_id}:{seq}") as held:
        if not held:
            return "being notified by another worker"
        ctx = review_context(gate, action_id)
        where = reviews.location(gate, action_id)
        if where is not None:
            take_slot(rt.redis, where.channel, rt.settings.slack_post_interval_ms)
            rt.slack.chat_postMessage(channel=where.channel, thread_ts=where.message_ts,
                                      text=escalation_reply(ctx, esc), unfurl_links=False)
        text = escalation_dm(ctx, esc.level, where)
        _direct_messages(rt, esc.targets, text)
        for target in esc.targets:
            if target[:1] in "CG" and (where is None or target != where.channel):
                take_slot(rt.redis, target, rt.settings.slack_post_interval_ms)
                rt.slack.chat_postMessage(channel=target, text=text, unfurl_links=False)
        escalation.mark_notified(gate, action_id, seq)
    return f"notified {len(esc.targets)} target(s)"


def post_audit(action_id: str) -> str:
    """Show a sampled auto-approval in the audit channel with Looks right / Should not have happened."""
    from bot.slack.blocks import audit_message, fallback_audit_text

    rt = runtime()
    gate = rt.gate
    item = sampling.get(gate, action_id)
    if item is None or item.posted_at is not None:
        return "nothing owed"
    ctx = review_context(gate, action_id)
    channel = ctx.route.get("audit_channel") or ctx.route.get("channel") or rt.settings.slack_default_channel
    if not channel:
        log.error("sampled action %s has no audit channel: set audit_channel in the policy or HITL_SLACK_DEFAULT_CHANNEL",
                  action_id)
        return "no channel"
    with _lease(rt, f"hitl:auditing:{action_id}") as held:
        if not held:
            return "being posted by another worker"
        take_slot(rt.redis, channel, rt.settings.slack_post_interval_ms)
        response = rt.slack.chat_postMessage(channel=channel, text=fallback_audit_text(ctx),
                                             blocks=audit_message(ctx, item), unfurl_links=False, unfurl_media=False)
        sampling.record_posted(gate, action_id, response["channel"], response["ts"])
    return "posted"


def refresh_audit(action_id: str) -> str:
    from bot.slack.blocks import audit_message, fallback_audit_text

    rt = runtime()
    item = sampling.get(rt.gate, action_id)
    if item is None or item.message_ts is None:
        return "not posted"
    ctx = review_context(rt.gate, action_id)
    rt.slack.chat_update(channel=item.channel, ts=item.message_ts, text=fallback_audit_text(ctx),
                         blocks=audit_message(ctx, item))
    return "updated"


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
    from bot.slack.blocks import escalation_dm, fallback_text, review_message

    # Two copies of this job (a retry racing the reconciler) must not post twice.
    with _lease(rt, f"hitl:posting:{action_id}") as held:
        if not held:
            return "being posted by another worker"
        if reviews.location(gate, action_id) is not None:
            return "already posted"
        take_slot(rt.redis, channel, rt.settings.slack_post_interval_ms)
        response = rt.slack.chat_postMessage(channel=channel, text=fallback_text(ctx), blocks=review_message(ctx),
                                             unfurl_links=False, unfurl_media=False)
        reviews.record_posted(gate, action_id, response["channel"], response["ts"])
    if ctx.escalation is not None:
        _direct_messages(rt, ctx.escalation.targets, escalation_dm(ctx, 0, reviews.location(gate, action_id)))
    return "posted"


def _direct_messages(rt, targets, text: str) -> None:
    """PagerDuty-style paging: each user target gets a direct message."""
    for target in targets:
        if target[:1] in "UW":
            dm = rt.slack.conversations_open(users=target)["channel"]["id"]
            rt.slack.chat_postMessage(channel=dm, text=text, unfurl_links=False)


def refresh_review(action_id: str) -> str:
    from workers.queue import REFRESH_PENDING

    rt = runtime()
    rt.redis.delete(REFRESH_PENDING.format(action_id))  # before reading: a change from now on queues another refresh
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

    q = metrics.parse_args(text)
    body = "\n".join(metrics.lines(metrics.stats(runtime().gate, q.subject, q.days, by=q.by)))
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
