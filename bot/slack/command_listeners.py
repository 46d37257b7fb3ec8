"""/hitl-stats: ack at once (with nothing to show: the report itself answers within seconds), compute
in a worker, answer privately through response_url. Its "More" button asks the same worker for the
details, replacing the report in place."""
from __future__ import annotations

from bot.slack import stats_blocks, stats_jobs
from bot.slack.deps import SlackDeps

UNAVAILABLE = "hitl-stats is unavailable right now (the job queue is down); try again shortly."


def register(app, deps: SlackDeps) -> None:
    app.command("/hitl-stats")(lambda ack, body: on_stats(deps, ack, body))
    app.action(stats_blocks.MORE)(lambda ack, body: on_more(deps, ack, body))


def on_stats(deps: SlackDeps, ack, body: dict) -> None:
    if not deps.later(stats_jobs.answer_stats, body["response_url"], body.get("text", ""), body.get("user_id", "")):
        ack(response_type="ephemeral", text=UNAVAILABLE)
        return
    ack()


def on_more(deps: SlackDeps, ack, body: dict) -> None:
    ack()
    action = (body.get("actions") or [{}])[0]
    user = (body.get("user") or {}).get("id", "")
    response_url = body.get("response_url")
    if not response_url:
        return
    if not deps.later(stats_jobs.answer_stats, response_url, action.get("value") or "", user, True):
        deps.runtime.slack.chat_postEphemeral(channel=(body.get("channel") or {}).get("id", ""), user=user,
                                              text=UNAVAILABLE)
