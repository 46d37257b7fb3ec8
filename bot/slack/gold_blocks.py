"""A gold item in its channel: a past decision shown as a new review, then its known answer."""
from __future__ import annotations

from bot.slack import block_kit as bk
from bot.slack.mrkdwn import clip, neutral
from bot.slack.review_blocks import fallback_text as review_fallback
from bot.slack.review_blocks import review_message
from core.queries import ReviewContext
from core.wording import tag_label

SAID = {"approve": "Approve", "modify": "Modify", "reject": "Reject"}
KNOWN = {"approve": "approved as proposed", "modify": "modified before it ran", "reject": "rejected"}


def fallback_text(ctx: ReviewContext, item) -> str:
    """While unanswered, the same notification as any review: a gold item must not stand out."""
    if item.response is None:
        return review_fallback(ctx)
    return f"Gold item answered: {review_fallback(ctx).removeprefix('Review needed: ')}"


def gold_message(ctx: ReviewContext, item) -> list[dict]:
    """Unanswered: exactly a review message (the view in `ctx` is the disguised one, core/gold.py).
    Answered: the proposal without buttons, and what the reviewer said against what was known."""
    blocks = review_message(ctx)
    if item.response is None:
        return blocks
    blocks = [b for b in blocks if b.get("type") != "actions"]
    basis = "a person's review" if item.basis == "review" else "a spot check after it ran"
    right = "✅ That matches." if item.correct else (
        "❌ That would have let a wrong action run." if item.response == "approve" else
        "❌ It was right as proposed.")
    line = (f"🎯 *Gold item*: a past proposal shown again to measure review accuracy; nothing runs from it. "
            f"{bk.who([item.reviewer])} said *{SAID.get(item.response, item.response)}*; it was "
            f"*{KNOWN.get(item.answer, item.answer)}*, by {basis}. {right}")
    if item.reason_tags:
        line += " · " + ", ".join(neutral(tag_label(t), 75) for t in item.reason_tags)
    if item.own:
        line += " (You decided the original, so this answer is not counted.)"
    blocks.append(bk.section(clip(line, 3000)))
    return blocks
