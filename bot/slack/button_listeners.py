"""Button and select listeners on the review message. Each acks first; slow work goes to the queue."""
from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackClientError

from bot.slack import home_blocks, ids, jobs, modal_blocks
from bot.slack.block_kit import unaided
from bot.slack.deps import SlackDeps
from bot.slack.modal_metadata import ModalMetadata
from bot.slack.notices import notice
from bot.slack.request_body import channel_id, clicked, clicked_value, state_value, user_id
from bot.web.editor_routes import editor_url
from core import gold, inbox, spot_checks
from core.access import is_reviewer
from core.errors import AlreadyDecided, HitlError, InvalidRequest, NotAuthorised, NotFound
from core.queries import ReviewContext, review_context
from core.seen import Seen
from core.vocabulary import Status

log = logging.getLogger(__name__)


def register(app, deps: SlackDeps) -> None:
    app.action(ids.APPROVE)(lambda ack, body: on_approve(deps, ack, body))
    app.action(ids.REJECT)(lambda ack, body: on_reject(deps, ack, body))
    app.action(ids.MODIFY)(lambda ack, body: on_modify(deps, ack, body))
    app.action(ids.CLAIM)(lambda ack, body: on_claim(deps, ack, body))
    app.action(ids.VIEW_PAYLOAD)(lambda ack, body: on_view_payload(deps, ack, body))
    app.action(ids.REASON_TAG)(lambda ack: ack())  # its value rides along on the next button click
    app.action(ids.OPEN_EDITOR)(lambda ack: ack())  # a link button: the browser opens the page itself
    app.action(home_blocks.OPEN)(lambda ack: ack())  # App Home's link to a review message
    app.action(ids.SPOT_CHECK_OK)(lambda ack, body: on_audit(deps, ack, body, spot_checks.LOOKS_RIGHT))
    app.action(ids.SPOT_CHECK_FLAG)(lambda ack, body: on_audit(deps, ack, body, spot_checks.FLAGGED))
    app.action(ids.SPOT_CHECK_TAG)(lambda ack: ack())


# Clicks that only need recording: the web route takes these on a fast path (see bot/web/slack_events.py).
RECORDED = {ids.APPROVE: "approve", ids.CLAIM: "claim"}


def recordable(body: dict) -> tuple[str, list[str] | None] | None:
    """(kind, tags) when this block_actions click is one that is simply recorded, else None."""
    actions = body.get("actions") or []
    if body.get("type") != "block_actions" or len(actions) != 1:
        return None
    action_id = actions[0].get("action_id")
    if action_id in RECORDED:
        return RECORDED[action_id], None
    if action_id == ids.REJECT:
        tag = state_value((body.get("state") or {}).get("values"), ids.REASON_TAG)
        if tag:
            return "reject", [tag]
    return None


# A vote must name what its button showed; Claim is not a vote.
VOTES = ("approve", "reject")
OUT_OF_DATE = ("🔄 This message was out of date, so your click was not recorded. It now shows the current "
               "version of the action: look again and decide.")


def record(deps: SlackDeps, body: dict, kind: str, tags: list[str] | None = None) -> None:
    """Write the click down, hand its application to a worker; apply it here only if Redis is away."""
    action_id, seen = clicked(body)
    if kind in VOTES and seen is None:
        return _out_of_date(deps, body, action_id)
    interaction = inbox.receive(deps.services, action_id, user_id(body), kind, tags, reply_channel=channel_id(body),
                                seen=seen)
    if not deps.later(jobs.apply_interaction, interaction):
        _apply_now(deps, interaction)


async def record_async(deps: SlackDeps, body: dict, kind: str, tags: list[str] | None = None) -> None:
    """`record` for the web route's event loop: the INSERT is awaited, the rest is quick or rare."""
    action_id, seen = clicked(body)
    if kind in VOTES and seen is None:
        return _out_of_date(deps, body, action_id)
    interaction = await inbox.receive_async(deps.services, action_id, user_id(body), kind, tags,
                                            reply_channel=channel_id(body), seen=seen)
    if not deps.later(jobs.apply_interaction, interaction):  # ~0.4 ms; a thread hop measured slower
        await asyncio.to_thread(_apply_now, deps, interaction)


def _out_of_date(deps: SlackDeps, body: dict, action_id: str) -> None:
    """A button of a message posted before votes named what they saw (or a crafted value): nothing is
    recorded, and the message is redrawn with buttons that do."""
    deps.tell(channel_id(body), user_id(body), OUT_OF_DATE)
    deps.later(jobs.refresh_review, action_id)


def _apply_now(deps: SlackDeps, interaction: int) -> None:
    applied = inbox.apply(deps.services, interaction, deps.groups, explain=notice)
    if applied and applied.notice:
        deps.tell(applied.reply_channel, applied.reviewer, applied.notice)


def on_approve(deps: SlackDeps, ack, body: dict) -> None:
    ack()
    record(deps, body, "approve")


def on_reject(deps: SlackDeps, ack, body: dict) -> None:
    ack()
    click = recordable(body)
    if click:
        record(deps, body, *click)
        return
    action_id, seen = clicked(body)
    if gold.is_gold(action_id):  # nothing runs from a gold item: its answer needs no modal
        return record(deps, body, "reject", [])
    ctx = _open_check(deps, body)
    if ctx is None:
        return
    if seen is None or seen != Seen.of(ctx.action.revision, ctx.action.current_payload):
        return _out_of_date(deps, body, action_id)  # the rejection would be of a version nobody shows now
    meta = ModalMetadata(action_id=ctx.action.id, channel=channel_id(body), revision=seen.revision,
                         seen=seen.token()).dump()
    _open_view(deps, body, modal_blocks.reject_modal(ctx, meta))


def on_modify(deps: SlackDeps, ack, body: dict) -> None:
    ack()
    if gold.is_gold(clicked_value(body)):  # "I would change this" is the answer; the message then shows the known one
        tag = state_value((body.get("state") or {}).get("values"), ids.REASON_TAG)
        return record(deps, body, "modify", [tag] if tag else [])
    ctx = _open_check(deps, body)
    if ctx is not None:
        shown = Seen.of(ctx.action.revision, ctx.action.current_payload)  # the modal shows the current payload
        meta = ModalMetadata(action_id=ctx.action.id, channel=channel_id(body), revision=shown.revision,
                             seen=shown.token()).dump()
        link = None if unaided(ctx) else editor_url(deps.runtime, ctx.action.id, user_id(body), shown)
        _open_view(deps, body, modal_blocks.modify_modal(ctx, meta, link))


def on_claim(deps: SlackDeps, ack, body: dict) -> None:
    ack()
    record(deps, body, "claim")


def on_view_payload(deps: SlackDeps, ack, body: dict) -> None:
    ack()
    try:
        ctx = _gold_context(deps, clicked_value(body)) or review_context(deps.services, clicked_value(body))
        if unaided(ctx):  # only an old message or a crafted click gets here
            raise NotAuthorised("this is a shadow review: the agent's proposal is shown once it is decided")
    except HitlError as exc:
        deps.tell(channel_id(body), user_id(body), notice(exc))
        return
    _open_view(deps, body, modal_blocks.payload_modal(ctx))


def _gold_context(deps: SlackDeps, item_id: str) -> ReviewContext | None:
    if not gold.is_gold(item_id):
        return None
    item = gold.get(deps.services, item_id)
    if item is None:
        raise NotFound(f"no gold item {item_id!r}")
    return gold.shown(deps.services, item)


def on_audit(deps: SlackDeps, ack, body: dict, verdict: str) -> None:
    """A spot-check verdict: written down and applied by a worker like any vote, so a busy database
    or a dying process never loses the click (and the drift test it feeds runs off the ack path)."""
    ack()
    tag = state_value((body.get("state") or {}).get("values"), ids.SPOT_CHECK_TAG)
    if verdict == spot_checks.FLAGGED and not tag:
        deps.tell(channel_id(body), user_id(body),
                  notice(InvalidRequest("pick a reason tag in the select first, then press *Should not have happened*")))
        return
    record(deps, body, verdict, [tag] if tag else [])


def _open_view(deps: SlackDeps, body: dict, view: dict) -> None:
    """views.open inside the ack (its trigger_id lives 3 s), once, without retries: when Slack says
    no or is too slow, the reviewer is told privately what to do instead of getting nothing."""
    try:
        deps.client.views_open(trigger_id=body.get("trigger_id") or "", view=view)
    except (SlackClientError, OSError) as exc:
        error = getattr(exc, "response", None)
        code = error.get("error") if error is not None else exc.__class__.__name__
        log.warning("views.open failed: %s", code)
        deps.tell(channel_id(body), user_id(body), f"⚠️ Slack would not open the form just now (`{code}`), so "
                  "nothing was recorded. Click the button again in a moment.")


def _open_check(deps: SlackDeps, body: dict) -> ReviewContext | None:
    """Before opening a modal (trigger_id lives 3 s): is the action still open, and may this user decide?"""
    try:
        ctx = review_context(deps.services, clicked_value(body))
        if ctx.action.status != Status.PENDING:
            raise AlreadyDecided(ctx.action.decision.status if ctx.action.decision else ctx.action.status,
                                 ctx.action.decision.reviewers if ctx.action.decision else [])
        reviewers = ctx.route.get("reviewers") or {}
        if deps.groups is not None and not is_reviewer(reviewers, user_id(body), deps.groups):
            if not all(deps.groups.known(g) for g in reviewers.get("groups") or []):
                raise NotAuthorised("who is in the reviewer groups is being looked up: try again in a few seconds")
            raise NotAuthorised(f"{user_id(body)} is not a reviewer for {ctx.action.action_type}")
        return ctx
    except HitlError as exc:
        deps.tell(channel_id(body), user_id(body), notice(exc))
        return None
