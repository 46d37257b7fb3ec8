"""One place that turns domain errors into words for an ephemeral notice."""
from __future__ import annotations

import re

from bot.slack.mrkdwn import neutral
from core import errors as e

_USER = re.compile(r"(?<![A-Za-z0-9])([UW][A-Z0-9]{2,30})(?![A-Za-z0-9])")


def _named(text: str) -> str:
    """A notice goes to the person who clicked: "you" for them (core says their id first), and a
    mention, which Slack shows as a name, for anyone else."""
    text = re.sub(r"^[UW][A-Z0-9]{2,30} is ", "You are ", text)
    text = re.sub(r"^[UW][A-Z0-9]{2,30} already ", "You already ", text)
    return _USER.sub(r"<@\1>", neutral(text, 1000))


def notice(exc: e.HitlError) -> str:
    if isinstance(exc, e.NotAuthorised):
        return f"🔒 {_named(exc.message)}. Nothing was recorded."
    if isinstance(exc, e.AlreadyDecided):
        return f"This action was {exc.message}; your click was not recorded."
    if isinstance(exc, e.StaleView):
        # field names and values in it: made inert like any agent text
        # Also shown as a modal's inline error, which is plain text: a mention there would read <@U…>.
        return f"🔄 {neutral(exc.message, 1000)}. Your click was not recorded; the message now shows the current version."
    if isinstance(exc, e.AlreadyVoted):
        return "You have already voted on this version of the action."
    if isinstance(exc, e.NotFound):
        return "This action no longer exists in hitl-gate."
    return f"Could not record that: {_named(exc.message)}"
