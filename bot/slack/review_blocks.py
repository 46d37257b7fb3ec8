"""The review message in its channel, and the thread replies and direct messages around it."""
from __future__ import annotations

from bot.slack import block_kit as bk
from bot.slack import ids
from bot.slack.block_kit import MAX_MESSAGE_BLOCKS, STATUS_ICON, payload_fields, title, unaided
from bot.slack.mrkdwn import clip, mrkdwn, neutral, plain
from bot.slack.request_body import bound_value
from core import masking
from core.diffing import before_and_after, text_diff
from core.queries import ReviewContext
from core.seen import Seen
from core.vocabulary import ReviewMode, Status
from core.wording import percent, plural, tag_label


def fallback_text(ctx: ReviewContext) -> str:
    """The notification text. Once decided it says the outcome; while a tree runs it mentions the
    current level's targets (that is what pings)."""
    d = ctx.action.decision
    if d is not None:
        by = f" by {bk.who(d.reviewers)}" if d.reviewers else ""
        return neutral(f"{d.status.value.replace('_', ' ').capitalize()}: {title(ctx)}", 300) + by
    text = neutral(f"Review needed: {title(ctx)}", 300)
    if ctx.escalation is not None and not ctx.escalation.paused:
        text += " · " + bk.targets(ctx.escalation.targets)
    return text




def review_message(ctx: ReviewContext) -> list[dict]:
    a = ctx.action
    blind = unaided(ctx)
    hosts = tuple(ctx.route.get("link_hosts") or ())
    facts = [
        clip(f"*Agent*\n{neutral(ctx.agent, 200)}", 2000),
        f"*Action type*\n`{mrkdwn(a.action_type, 100)}`",
        f"*Risk*\n{a.risk.value}",
        *([] if blind else [f"*Confidence*\n{percent(a.confidence)}"]),
    ]
    if a.review_mode is ReviewMode.SHADOW:  # the one mode that changes what the reviewer is asked to do
        facts.append("*Review mode*\nshadow")
    if ctx.due_at is not None:
        label = "Re-escalates" if ctx.escalation and ctx.escalation.paused else "SLA due"
        facts.append(f"*{label}*\n{bk.date(ctx.due_at)}")
    if ctx.escalation is not None:
        e = ctx.escalation
        where = f"Level {e.level} of {e.levels}" + (f", round {e.round} of {e.rounds}" if e.rounds > 1 else "")
        facts.append(f"*Escalation*\n{where}: {bk.targets(e.targets)}" + (" (paused: claimed)" if e.paused else ""))
    blocks: list[dict] = [
        {"type": "header", "text": bk.text_obj("plain_text", plain(title(ctx), 150))},
        {"type": "section", "fields": [bk.text_obj("mrkdwn", f) for f in facts]},
    ]
    if blind:
        # The situation the agent was given, not its answer: no title, reasoning, confidence or payload.
        blocks.append(bk.section("*Shadow mode*: decide what should happen without the agent's answer. Press "
                               "*Decide…* and fill in the action as you would do it, or *Reject* it. The agent's "
                               "proposal is compared with your decision and shown here afterwards."))
        field_blocks, hidden = payload_fields(ctx, a.context)
        blocks += ([bk.section("*Context*")] + field_blocks) if field_blocks else []
    else:
        if a.summary:
            blocks.append(bk.section(clip("*Reasoning*\n" + neutral(a.summary, 2900, hosts), 3000)))
        if a.review_mode is ReviewMode.SHADOW and a.decision is not None:
            agreed = a.decision.status is Status.APPROVED
            blocks.append(bk.section("*Shadow mode*: the agent had proposed the payload below; "
                                   + ("it matched the decision ✅" if agreed else "the decision differed")))
        field_blocks, hidden = payload_fields(ctx, a.payload if a.review_mode is ReviewMode.SHADOW else None)
        blocks += field_blocks
        if a.context:
            # The agent's evidence, short; Full payload shows all of it.
            evidence, more = bk.value_fields(a.context, hosts, value_chars=150)
            blocks += [bk.section("*Evidence*"), *evidence[:1]]
            if more or len(evidence) > 1:
                blocks.append(bk.context("More evidence under *Full payload*"))
    why = "" if blind else f": {mrkdwn(ctx.route.get('explanation', ''), 300)}"  # it may quote the confidence
    more = f" · {plural(hidden, 'more field')} not shown" if hidden else ""
    blocks.append(bk.context(  # one element: Slack runs a context's elements together on one line
        f"Routed by *{mrkdwn(a.rule, 300)}*{why}.\nPolicy `{mrkdwn(a.policy_version, 80)}` · `{a.id}`{more}"))
    blocks += _status_blocks(ctx)
    return blocks[:MAX_MESSAGE_BLOCKS]


def _status_blocks(ctx: ReviewContext) -> list[dict]:
    a = ctx.action
    if a.decision is None:
        progress = []
        if a.quorum.required > 1:
            progress.append(f"{len(a.quorum.approvals)} of {a.quorum.required} approvals"
                            + (f": {bk.who(a.quorum.approvals)}" if a.quorum.approvals else ""))
        if a.revision:
            progress.append(f"payload edited {a.revision}× (latest by {bk.who([a.votes[-1].reviewer])})" if a.votes else "")
        if a.claimed_by:
            progress.append(f"🙋 {bk.who([a.claimed_by])} is on it")
        blocks = [bk.context(*[p for p in progress if p])] if any(progress) else []
        select = {"type": "static_select", "action_id": ids.REASON_TAG,
                  "placeholder": bk.text_obj("plain_text", "Reason tag…"), "options": bk.options(ctx.reason_tags)}
        # A vote names the revision and payload its button showed (core/seen.py).
        bound = bound_value(a.id, Seen.of(a.revision, a.current_payload))
        if unaided(ctx):  # nothing that shows or signs off the agent's proposal unseen
            elements = [bk.button("Decide…", ids.MODIFY, bound, "primary"), bk.button("Reject", ids.REJECT, bound, "danger"),
                        select, bk.button("Claim", ids.CLAIM, a.id)]
        else:
            elements = [bk.button("Approve", ids.APPROVE, bound, "primary"), bk.button("Modify…", ids.MODIFY, bound),
                        bk.button("Reject", ids.REJECT, bound, "danger"), select, bk.button("Claim", ids.CLAIM, a.id),
                        bk.button("Full payload", ids.VIEW_PAYLOAD, a.id)]
        # A fresh block_id on every update, as Slack recommends: clients drop a stale selection.
        block_id = f"{ids.ACTIONS_BLOCK}.{a.revision}.{len(a.votes)}" + (".claimed" if a.claimed_by else "")
        blocks.append({"type": "actions", "block_id": block_id, "elements": elements})
        return blocks
    d = a.decision
    line = f"{STATUS_ICON.get(d.status, '')} *{d.status.value.replace('_', ' ').capitalize()}*"
    if d.reviewers:
        line += f" by {bk.who(d.reviewers)}"
    line += f" · {bk.duration(d.time_to_decision_seconds)} after it was proposed"
    if d.reason_tags:
        line += " · " + ", ".join(neutral(tag_label(t), 75) for t in d.reason_tags)
    blocks = [bk.section(clip(line, 3000))]
    if d.comment:
        blocks.append(bk.context(clip("💬 " + neutral(d.comment, 2900), 3000)))
    if d.execution_claimed_at is not None:
        blocks.append(bk.context(f"▶️ Claimed by the agent to run, {bk.date(d.execution_claimed_at)}"))
    elif a.status is Status.EXPIRED and d.status is not Status.EXPIRED:
        blocks.append(bk.context("⌛ The approval expired unclaimed: the agent can no longer run it"))
    elif d.approval_expires_at is not None and a.outcome is None:
        blocks.append(bk.context(f"The agent may run it until {bk.date(d.approval_expires_at)}"))
    if a.outcome is not None:
        blocks.append(bk.context(f"Agent reported: *{a.outcome.status.value}*"))
    return blocks


def diff_reply(ctx: ReviewContext, reviewer: str) -> str:
    """The reviewer's latest edit, worked out again from the patches on masked copies: the stored
    text diff holds the values of masked fields too."""
    edits = [v for v in ctx.action.votes if v.patch]
    mine = max((i for i, v in enumerate(edits) if v.reviewer == reviewer), default=None)
    if mine is None:
        return ""
    before, after = before_and_after(ctx.action.payload, [v.patch for v in edits[:mine + 1] if v.patch])
    masks = masking.paths(ctx.route)
    diff = text_diff(masking.masked(before, masks), masking.masked(after, masks)) or "(masked fields only)"
    return clip(f"✏️ {bk.who([reviewer])} changed the payload:\n```{mrkdwn(diff.replace('```', 'ˋˋˋ'), 3500)}```", 3900)


def escalation_reply(ctx: ReviewContext, esc) -> str:
    """The thread reply when an escalation fires; its mentions are what notify the targets."""
    why = ("the claim lapsed without a decision; escalation starts again" if esc.kind == "ack_timeout"
           else "nobody has decided yet")
    e = ctx.escalation
    step = f"level {esc.level + 1}" + (f" of {e.levels}" if e else "") + (f", round {esc.round + 1}" if esc.round else "")
    return clip(f"⏫ Escalated to {step}: {bk.targets(esc.targets)}, please review ({why}).", 3000)


def escalation_dm(ctx: ReviewContext, level: int, where) -> str:
    """A direct message (or a notice in a target channel) pointing at the review; `level` counts from 0."""
    place = f" in <#{where.channel}>" if where is not None else ""
    due = f" Next escalation {bk.date(ctx.due_at)}." if ctx.due_at else ""
    return clip(f"⏫ *{neutral(title(ctx), 200)}* needs a decision{place} "
                f"(`{mrkdwn(ctx.action.action_type, 64)}`, {ctx.action.risk.value} risk, "
                f"escalation level {level + 1}).{due}",
                3000)

