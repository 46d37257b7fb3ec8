"""One place that turns domain errors into words for an ephemeral notice."""
from __future__ import annotations

from bot.slack.mrkdwn import neutral
from core import errors as e


def notice(exc: e.HitlError) -> str:
    if isinstance(exc, e.NotAuthorised):
        return f"🔒 {exc.message}. Nothing was recorded."
    if isinstance(exc, e.AlreadyDecided):
        return f"This action was {exc.message}; your click was not recorded."
    if isinstance(exc, e.StaleView):
        # field names and values in it: made inert like any agent text
        return f"🔄 {neutral(exc.message, 1000)}. Your click was not recorded; the message now shows the current version."
    if isinstance(exc, e.AlreadyVoted):
        return "You have already voted on this version of the action."
    if isinstance(exc, e.NotFound):
        return "This action no longer exists in hitl-gate."
    return f"Could not record that: {neutral(exc.message, 1000)}"
