"""Alerts to the policy's alerts_channel: a drift caught on an action type's spot checks."""
from __future__ import annotations

from bot.slack import block_kit as bk
from bot.slack.mrkdwn import mrkdwn, neutral, plain


def drift_alert(alarm) -> tuple[str, list[dict]]:
    """(fallback text, blocks). The action type and the evidence are the policy's and ours, but are
    still escaped: an action type name reaches here from an agent's proposal."""
    kind = neutral(alarm.action_type, 64)
    # Action type names are full of underscores, which mrkdwn reads as italics: code spans, or made inert.
    then = (f"`on_drift: review`: `{mrkdwn(alarm.action_type, 64)}` is back in review from its next proposal, "
            f"until someone runs `hitl drift clear {mrkdwn(alarm.action_type, 64)}`." if alarm.hold else
            "The policy says `on_drift: alert`, so nothing changed by itself: consider `review_mode: review` or a "
            "higher `auto_approve_threshold`.")
    blocks = [
        {"type": "header", "text": bk.text_obj("plain_text", plain(f"⚠ Drift: {alarm.action_type}", 150))},
        bk.section(neutral(alarm.evidence, 1000)),
        bk.section(then),
        bk.context(f"Caught {bk.date(alarm.detected_at)} · alarm {alarm.id} · "
                   f"`hitl recommend {mrkdwn(alarm.action_type, 64)}` shows the evidence"),
    ]
    return f"Drift on {kind}: its auto-approvals are being flagged in spot checks", blocks
