"""/hitl-stats in a worker: check who asks and what they typed, compute, draw the chart, and answer
privately through the command's response_url (the "More" button's, for the details)."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from bot.charts import store, trend
from bot.slack import stats_blocks
from bot.slack.mrkdwn import escape
from core import metrics, stats_access, stats_subjects, stats_text
from core.access import NoGroups
from workers.context import runtime
from workers.names import SLACK
from workers.queue import job

log = logging.getLogger(__name__)


@job(SLACK)
def answer_stats(response_url: str, text: str, user: str = "", details: bool = False) -> str:
    """`user` is whoever typed the command (or pressed More); a job queued before it was passed
    reads as someone who is no manager, so it never shows more than it should."""
    from slack_sdk.webhook import WebhookClient

    rt = runtime()
    services = rt.services
    hook = WebhookClient(response_url)
    q = stats_text.parse_args(text)
    types, agents = stats_subjects.known(services)
    reader = stats_access.reader(services.policies.current().policy, user, types, rt.groups or NoGroups())
    if wrong := stats_text.problem(q, types, agents):  # a usage line, not a report of dashes
        hook.send(response_type="ephemeral", text=f"{escape(wrong)}\nUsage: `/hitl-stats {stats_text.USAGE}`")
        return "usage"
    if refused := stats_access.refusal(reader, q.subject, agents):
        hook.send(response_type="ephemeral", text=escape(refused))
        return "refused"
    st = stats_access.own_view(metrics.stats(services, q.subject, q.days, by=q.by, versions=q.by_version,
                                             only_types=reader.only_types), reader)
    replace = {"replace_original": True} if details else {}

    def send(chart: str | None) -> None:
        answer = hook.send(response_type="ephemeral", text=stats_blocks.fallback(st),
                           blocks=stats_blocks.report(st, text, chart, details), **replace)
        if answer.status_code != 200:
            raise RefusedBySlack(f"{answer.status_code} {answer.body}")

    try:
        with_chart_or_without(rt, st, send, "/hitl-stats answer")
    except RefusedBySlack as exc:
        return f"refused by Slack: {exc}"
    return "answered"


class RefusedBySlack(Exception):
    pass


def with_chart_or_without(rt, st: metrics.Stats, send, what: str) -> None:
    """`send(chart_url)` with the chart, and again without it if Slack refuses that (an image it cannot
    fetch fails the whole message): the numbers matter more than the picture."""
    chart = chart_url(rt, st)
    try:
        send(chart)
    except Exception as exc:
        if chart is None:
            raise
        log.warning("%s with its chart refused (%s); sending it without", what, exc)
        send(None)


def _reachable(settings) -> bool:
    """Slack fetches an image from its own servers: an address on this machine serves only a Slack on
    this machine (the sandbox, a test's fake), so for a real workspace the chart needs HITL_PUBLIC_URL."""
    def local(url: str) -> bool:
        return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1", "0.0.0.0")

    return not local(settings.effective_public_url) or local(settings.slack_api_url)


def chart_url(rt, st: metrics.Stats) -> str | None:
    if not _reachable(rt.settings):
        return None
    try:
        png = trend.render(st)
        if png is None:
            return None
        return store.url(rt.settings.effective_public_url, store.put(rt.redis, png, rt.settings.chart_ttl_seconds))
    except Exception:  # no chart is better than no answer
        log.exception("could not draw or keep the /hitl-stats chart")
        return None
