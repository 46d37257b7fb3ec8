"""A sampled auto-approval posted for a spot check after the fact, and the checker's verdict."""
from __future__ import annotations

from bot.slack import block_kit as bk
from bot.slack import ids
from bot.slack.block_kit import MAX_MESSAGE_BLOCKS, payload_fields
from bot.slack.mrkdwn import clip, mrkdwn, neutral, plain
from core.queries import ReviewContext
from core.wording import tag_label


def fallback_text(ctx: ReviewContext) -> str:
    return neutral(f"Spot-check a sampled auto-approval: {ctx.action.title}", 300)


def spot_check_message(ctx: ReviewContext, item) -> list[dict]:
    """A sampled auto-approval, after the fact: the action as it went ahead, then the checker's verdict."""
    a = ctx.action
    blocks: list[dict] = [
        {"type": "header", "text": bk.text_obj("plain_text", plain("Spot check: " + a.title, 150))},
        bk.context(f"Auto-approved {bk.date(a.created_at)} for *{neutral(ctx.agent, 200)}* · "
                 f"`{mrkdwn(a.action_type, 100)}` · {a.risk.value} risk · confidence {a.confidence:.0%}"),
    ]
    if a.summary:
        blocks.append(bk.section(clip("*Reasoning*\n" + neutral(a.summary, 2900), 3000)))
    field_blocks, hidden = payload_fields(ctx)
    blocks += field_blocks
    blocks.append(bk.context(f"Routed by *{mrkdwn(a.rule, 300)}*: {mrkdwn(ctx.route.get('explanation', ''), 300)}",
                           f"`{a.id}`" + (f" · {hidden} more field(s) not shown" if hidden else "")))
    if item.verdict is None:
        blocks.append({"type": "actions", "block_id": ids.SPOT_CHECK_BLOCK, "elements": [
            bk.button("Looks right", ids.SPOT_CHECK_OK, a.id, "primary"),
            bk.button("Should not have happened", ids.SPOT_CHECK_FLAG, a.id, "danger"),
            {"type": "static_select", "action_id": ids.SPOT_CHECK_TAG,
             "placeholder": bk.text_obj("plain_text", "Reason tag…"),
             "options": bk.options(ctx.reason_tags)},
        ]})
    else:
        line = ("✅ *Looks right*" if item.verdict == "looks_right" else "🚩 *Should not have happened*")
        line += f" · {bk.who([item.auditor])}"
        if item.reason_tags:
            line += " · " + ", ".join(neutral(tag_label(t), 75) for t in item.reason_tags)
        blocks.append(bk.section(clip(line, 3000)))
    return blocks[:MAX_MESSAGE_BLOCKS]

