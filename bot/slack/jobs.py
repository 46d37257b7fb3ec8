"""The RQ jobs that talk to Slack: small, module-level, ids in, idempotent (a job may run twice).

Each job that carries out an outbox effect settles it (workers/settle.py) when its work is done,
whatever the work found (a review already posted, an action no longer pending), unless it could
not be done yet (another worker holds the lease, no channel is configured). The composition
root (bot/bootstrap.py) routes effects here; listeners enqueue the rest (clicks, notices, stats).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

from bot.slack import spot_check_blocks
from bot.slack.pacing import take_slot
from core import escalation, inbox, reviews
from core import escalation_notices as notices
from core.effects import Effect
from core.errors import NotFound
from core.queries import review_context
from core.vocabulary import Status
from workers.context import runtime
from workers.names import DECISIONS, SLACK
from workers.queue import job
from workers.settle import NotYet, settled

log = logging.getLogger(__name__)
BUSY = "being carried out by another worker"  # its outbox rows stay open: if that worker dies, the relay comes back


@contextmanager
def lease(rt, key: str):
    """True when this worker holds `key` for the Slack call; two copies of a job never post twice.
    The database row written inside it is what says "done"; the lease only covers the call."""
    held = bool(rt.redis.set(key, "1", nx=True, ex=rt.settings.slack_lease_seconds))
    try:
        yield held
    finally:
        if held:
            rt.redis.delete(key)


def post_message(rt, channel: str, **kwargs):
    take_slot(rt.redis, channel, rt.settings.slack_post_interval_ms)
    return rt.slack.chat_postMessage(channel=channel, unfurl_links=False, **kwargs)


@job(SLACK)
def post_review(action_id: str) -> str:
    rt = runtime()
    return settled(rt, Effect.REVIEW_NEEDED, action_id, lambda: _post_review(rt, action_id))


def _post_review(rt, action_id: str) -> str:
    from bot.slack.review_blocks import fallback_text, review_message

    services = rt.services
    if reviews.location(services, action_id) is not None:
        _page_first_level(rt, action_id)  # a retry after a DM failed
        return "already posted"
    try:
        ctx = review_context(services, action_id)
    except NotFound:
        return "no such action"
    if ctx.action.status != Status.PENDING:
        return f"not pending ({ctx.action.status})"
    channel = ctx.route.get("channel") or rt.settings.slack_default_channel
    if not channel:  # left open: once the operator sets one, the relay's next round posts it
        log.error("action %s has no review channel: set channel in the policy or HITL_SLACK_DEFAULT_CHANNEL", action_id)
        raise NotYet("no channel")
    # Two copies of this job (a retry racing the relay) must not post twice.
    with lease(rt, f"hitl:posting:{action_id}") as held:
        if not held:
            raise NotYet(BUSY)
        if reviews.location(services, action_id) is not None:
            _page_first_level(rt, action_id)
            return "already posted"
        response = post_message(rt, channel, text=fallback_text(ctx), blocks=review_message(ctx), unfurl_media=False)
        reviews.record_posted(services, action_id, response["channel"], response["ts"])
    _page_first_level(rt, action_id)
    from bot.slack.gold_jobs import issue_after  # gold_jobs builds on this module

    issue_after(rt, ctx.action.action_type, response["channel"])
    _home_changed(rt, ctx)
    return "posted"


def _home_changed(rt, ctx) -> None:
    from bot.slack.home_jobs import queue_changed  # home_jobs builds on the stats jobs, which build on this runtime

    queue_changed(rt, ctx.action.id, ctx.route.get("reviewers") or {})


def _page_first_level(rt, action_id: str) -> None:
    """The first level's users get a direct message when the review is posted (escalation seq 0).
    A DM that failed is retried with this job, alone, for as long as the action is pending."""
    from bot.slack.review_blocks import escalation_dm

    ctx = review_context(rt.services, action_id)
    tree = escalation.tree_of(ctx.route)
    if tree is None or ctx.action.status != Status.PENDING:
        return
    where = reviews.location(rt.services, action_id)
    text = escalation_dm(ctx, 0, where)
    _tell(rt, action_id, 0, [(t, _dm(rt, t, text)) for t in tree.levels[0].targets if t[:1] in "UW"], where)


@job(SLACK)
def refresh_review(action_id: str) -> str:
    from bot.slack.review_blocks import fallback_text, review_message

    rt = runtime()

    def work() -> str:
        where = reviews.location(rt.services, action_id)
        if where is None:
            return "not posted"  # its post reads the action as it is then
        ctx = review_context(rt.services, action_id)
        rt.slack.chat_update(channel=where.channel, ts=where.message_ts, text=fallback_text(ctx),
                             blocks=review_message(ctx))
        _home_changed(rt, ctx)
        return "updated"

    return settled(rt, Effect.REVIEW_CHANGED, action_id, work)


@job(SLACK)
def post_diff_reply(action_id: str, reviewer: str) -> str:
    from bot.slack.review_blocks import diff_reply

    rt = runtime()

    def work() -> str:
        where = reviews.location(rt.services, action_id)
        if where is None:
            return "not posted"
        text = diff_reply(review_context(rt.services, action_id), reviewer)
        if not text:
            return "no diff"
        post_message(rt, where.channel, thread_ts=where.message_ts, text=text)
        return "replied"

    return settled(rt, Effect.DIFF_TO_POST, action_id, work, ref=reviewer)


@job(SLACK)
def notify_escalation(action_id: str, seq: int | str) -> str:
    """Tell an escalation's targets: a reply in the review's thread mentioning them all, and a direct
    message to each user. The escalations row says whether this was done; a lease stops two copies."""
    from bot.slack.review_blocks import escalation_dm, escalation_reply

    rt = runtime()
    services = rt.services
    seq = int(seq)

    def work() -> str:
        esc = escalation.get(services, action_id, seq)
        if esc is None or esc.notified_at is not None:
            return "nothing owed"
        with lease(rt, f"hitl:notifying:{action_id}:{seq}") as held:
            if not held:
                raise NotYet(BUSY)
            ctx = review_context(services, action_id)
            where = reviews.location(services, action_id)
            text = escalation_dm(ctx, esc.level, where)
            sends = []
            if where is not None:
                reply = escalation_reply(ctx, esc)
                sends.append((THREAD, lambda: post_message(rt, where.channel, thread_ts=where.message_ts, text=reply)))
            for target in esc.targets:
                if target[:1] in "UW":
                    sends.append((target, _dm(rt, target, text)))
                elif target[:1] in "CG" and (where is None or target != where.channel):
                    sends.append((target, lambda channel=target: post_message(rt, channel, text=text)))
            _tell(rt, action_id, seq, sends, where)
            escalation.mark_notified(services, action_id, seq)
        return f"notified {len(esc.targets)} target(s)"

    return settled(rt, Effect.ESCALATED, action_id, work, ref=seq)


THREAD = "thread"
# Slack errors no retry can mend: the target is given up on, and the review's thread says so once.
UNREACHABLE_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "user_not_found",
                                "user_disabled", "account_inactive", "cannot_dm_bot", "messages_tab_disabled",
                                "restricted_action"})


class NoticesFailed(Exception):
    """Some targets could not be told yet; the job is retried for those alone."""


def _dm(rt, user: str, text: str):
    def send() -> None:
        dm = rt.slack.conversations_open(users=user)["channel"]["id"]
        rt.slack.chat_postMessage(channel=dm, text=text, unfurl_links=False)
    return send


def _tell(rt, action_id: str, seq: int, sends, where) -> None:
    """Each (target, send) at most once: targets told before (sent, or given up) are skipped, each
    outcome is recorded on its own, and NoticesFailed names those to retry."""
    done = notices.settled_targets(rt.services, action_id, seq)
    failed = []
    for target, send in sends:
        if target in done:
            continue
        try:
            send()
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "error")
            if code in UNREACHABLE_ERRORS:
                notices.record(rt.services, action_id, seq, target, notices.UNREACHABLE, code)
                log.warning("escalation notice for %s to %s given up: %s", action_id, target, code)
                _warn_once(rt, action_id, target, code, where)
            else:
                notices.record(rt.services, action_id, seq, target, notices.FAILED, code)
                failed.append(f"{target}: {code}")
            continue
        except OSError as exc:  # the network: retried like a Slack error
            notices.record(rt.services, action_id, seq, target, notices.FAILED, exc.__class__.__name__)
            failed.append(f"{target}: {exc.__class__.__name__}")
            continue
        notices.record(rt.services, action_id, seq, target, notices.SENT)
    if failed:
        raise NoticesFailed(f"{action_id} escalation {seq}: " + "; ".join(failed))


def _warn_once(rt, action_id: str, target: str, code: str, where) -> None:
    """One line in the review's thread per unreachable target, whichever escalation found it."""
    key = f"warn:{target}"
    if where is None or key in notices.settled_targets(rt.services, action_id, -1):
        return
    what = f"<#{target}>" if target[:1] in "CG" else f"<@{target}>"
    hint = " Invite the app there (`/invite`)." if code == "not_in_channel" else ""
    try:
        post_message(rt, where.channel, thread_ts=where.message_ts,
              text=f"⚠️ Could not notify {what}: Slack answered `{code}`.{hint}")
    except Exception:  # a warning that cannot be posted must not stop the notices
        log.warning("could not post the unreachable-target warning for %s", action_id)
        return
    notices.record(rt.services, action_id, -1, key, notices.SENT)


@job(SLACK)
def post_spot_check(action_id: str) -> str:
    """Show a sampled auto-approval in the spot-check channel with Looks right / Should not have happened."""
    from core import spot_checks

    rt = runtime()
    services = rt.services

    def work() -> str:
        item = spot_checks.get(services, action_id)
        if item is None or item.posted_at is not None:
            return "nothing owed"
        ctx = review_context(services, action_id)
        channel = ctx.route.get("audit_channel") or ctx.route.get("channel") or rt.settings.slack_default_channel
        if not channel:
            log.error("sampled action %s has no spot-check channel: set audit_channel in the policy or "
                      "HITL_SLACK_DEFAULT_CHANNEL", action_id)
            raise NotYet("no channel")
        with lease(rt, f"hitl:spot-checking:{action_id}") as held:
            if not held:
                raise NotYet(BUSY)
            response = post_message(rt, channel, text=spot_check_blocks.fallback_text(ctx),
                             blocks=spot_check_blocks.spot_check_message(ctx, item), unfurl_media=False)
            spot_checks.record_posted(services, action_id, response["channel"], response["ts"])
        return "posted"

    return settled(rt, Effect.SPOT_CHECK_NEEDED, action_id, work)


@job(SLACK)
def refresh_spot_check(action_id: str) -> str:
    from core import spot_checks

    rt = runtime()

    def work() -> str:
        item = spot_checks.get(rt.services, action_id)
        if item is None or item.message_ts is None:
            return "not posted"
        ctx = review_context(rt.services, action_id)
        rt.slack.chat_update(channel=item.channel, ts=item.message_ts, text=spot_check_blocks.fallback_text(ctx),
                             blocks=spot_check_blocks.spot_check_message(ctx, item))
        return "updated"

    return settled(rt, Effect.SPOT_CHECK_CHANGED, action_id, work)


@job(SLACK)
def refresh_group(group_id: str) -> str:
    """Look a reviewer user group up for the shared cache (bot/slack/directory.py), which the web
    process reads but never fills itself."""
    rt = runtime()
    users = rt.groups.refresh(group_id) if rt.groups is not None else None
    return "not refreshed" if users is None else f"{len(users)} member(s)"


@job(SLACK)
def post_ephemeral(channel: str, user: str, text: str) -> str:
    runtime().slack.chat_postEphemeral(channel=channel, user=user, text=text)
    return "sent"


@job(DECISIONS)
def apply_interaction(interaction_id: int) -> str:
    """Apply a recorded click (decide or claim); tell the reviewer privately if it did not count."""
    from bot.slack.notices import notice

    rt = runtime()
    applied = inbox.apply(rt.services, interaction_id, rt.groups, explain=notice)
    if applied is None:
        return "applied already"
    if applied.notice and applied.reply_channel:
        rt.slack.chat_postEphemeral(channel=applied.reply_channel, user=applied.reviewer, text=applied.notice)
    return applied.notice or "ok"


# What the composition root routes each durable effect to.
ROUTES = {
    Effect.REVIEW_NEEDED: post_review,
    Effect.REVIEW_CHANGED: refresh_review,
    Effect.DIFF_TO_POST: post_diff_reply,
    Effect.ESCALATED: notify_escalation,
    Effect.SPOT_CHECK_NEEDED: post_spot_check,
    Effect.SPOT_CHECK_CHANGED: refresh_spot_check,
}
