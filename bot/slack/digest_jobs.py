"""The weekly digest, posted by the workers to each digest_channel in the policy. The maintenance
tick (workers/reconciler.py) asks `enqueue_due` each round; a Redis key per channel and week says
it was posted, so many workers and many ticks post it once."""
from __future__ import annotations

from datetime import datetime

from bot.slack import digest_blocks, stats_jobs
from bot.slack.jobs import post_message
from core import digest
from workers.context import runtime
from workers.names import SLACK
from workers.queue import enqueue, job

KEEP = 14 * 86400  # longer than a week: the key outlives the week it stands for


def _posted_key(channel: str, at: datetime) -> str:
    return f"hitl:digest:{channel}:{at:%Y-%m-%dT%H}"


def enqueue_due(rt, connection) -> int:
    """A chore of the maintenance tick: queue each digest that is due and not yet posted."""
    at = digest.due_at(rt.services.clock(), rt.settings.digest_weekday, rt.settings.digest_hour)
    if at is None:
        return 0
    count = 0
    for channel, types in digest.channels(rt.services.policies.current().policy).items():
        if not connection.exists(_posted_key(channel, at)):
            count += enqueue(connection, post_digest, channel, list(types or []), at.isoformat(),
                             job_id=f"digest-{channel}-{at:%Y%m%d%H}")
    return count


@job(SLACK)
def post_digest(channel: str, types: list[str], at_iso: str) -> str:
    rt = runtime()
    at = datetime.fromisoformat(at_iso)
    key = _posted_key(channel, at)
    if not rt.redis.set(key, "posting", nx=True, ex=KEEP):
        return "posted already"
    try:
        d = digest.compose(rt.services, tuple(types) or None, at)
        stats_jobs.with_chart_or_without(rt, d.stats, lambda chart: post_message(
            rt, channel, text=digest_blocks.fallback(d, at), blocks=digest_blocks.digest_message(d, at, chart)),
            f"the digest for {channel}")
    except Exception:
        rt.redis.delete(key)  # not posted: the retry, or the next tick, tries again
        raise
    rt.redis.set(key, "posted", ex=KEEP)
    return "posted"
