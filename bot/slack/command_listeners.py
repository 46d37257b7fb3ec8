"""Slash commands: ack at once, compute in a worker, answer through response_url."""
from __future__ import annotations

from bot.slack import jobs
from bot.slack.deps import SlackDeps


def register(app, deps: SlackDeps) -> None:
    app.command("/hitl-stats")(lambda ack, body: on_stats(deps, ack, body))


def on_stats(deps: SlackDeps, ack, body: dict) -> None:
    if not deps.later(jobs.answer_stats, body["response_url"], body.get("text", "")):
        ack(response_type="ephemeral",
            text="hitl-stats is unavailable right now (the job queue is down); try again shortly.")
        return
    ack(response_type="ephemeral", text="Working out the numbers…")
