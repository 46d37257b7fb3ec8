"""RQ queues (JSON serializer, never pickle), jobs named by reference, and the job class that still
finds jobs enqueued under the names of earlier versions."""
from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import import_attribute

from workers.names import SLACK

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# Every job name an earlier version stored in Redis, and where that job lives now. A job that was
# queued (or scheduled, or failed and retrying) across an upgrade must still run: tests check that
# each of these resolves.
MOVED = {
    "workers.jobs.post_review": "bot.slack.jobs.post_review",
    "workers.jobs.refresh_review": "bot.slack.jobs.refresh_review",
    "workers.jobs.post_diff_reply": "bot.slack.jobs.post_diff_reply",
    "workers.jobs.post_ephemeral": "bot.slack.jobs.post_ephemeral",
    "workers.jobs.notify_escalation": "bot.slack.jobs.notify_escalation",
    "workers.jobs.post_audit": "bot.slack.jobs.post_spot_check",
    "workers.jobs.refresh_audit": "bot.slack.jobs.refresh_spot_check",
    "workers.jobs.answer_stats": "bot.slack.stats_jobs.answer_stats",
    "bot.slack.jobs.answer_stats": "bot.slack.stats_jobs.answer_stats",
    "workers.jobs.apply_interaction": "bot.slack.jobs.apply_interaction",
    "workers.jobs.fire_timers": "workers.timer_jobs.fire_timers",
    "workers.jobs.fire_timer": "workers.timer_jobs.fire_timer",  # one job per action, before the timer wheel
    "workers.jobs.deliver_callback": "workers.callback_jobs.deliver_callback",
}


class HitlJob(Job):
    """RQ's Job, resolving a job name that has moved since it was stored (MOVED)."""

    @property
    def func(self):
        name = self.func_name
        if name in MOVED:
            return import_attribute(MOVED[name])
        return super().func


def job(queue_name: str = SLACK) -> Callable[[F], F]:
    """Mark a function as a job and name its queue. RQ stores the function's import path, taken from
    the function itself, so a rename fails at import in a test, not in production."""

    def mark(func: F) -> F:
        func.hitl_queue = queue_name  # type: ignore[attr-defined]
        return func

    return mark


def queue(connection: redis.Redis, name: str = SLACK) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer, job_class=HitlJob)


def queue_of(func: Callable[..., Any]) -> str:
    name = getattr(func, "hitl_queue", None)
    if name is None:
        raise TypeError(f"{func.__module__}.{func.__qualname__} is not a job: mark it with workers.queue.job")
    return name


# A failed job (Slack 5xx, a 429 longer than the client's own two waits, a network error) runs again
# after these many seconds, each stretched by up to +25 % so retries from a burst do not arrive together.
RETRY_AFTER = (2, 5, 15, 60, 300)


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_AFTER), interval=[round(s * (1 + 0.25 * random.random()), 1) if s else 0
                                                 for s in RETRY_AFTER])


def enqueue(connection: redis.Redis, func: Callable[..., Any], *args, job_id: str | None = None,
            at: datetime | None = None) -> bool:
    """Jobs take ids and plain values; a failure to enqueue is logged, never raised into a request.
    With `at`, the job is scheduled (RQ's scheduler runs it in the worker started with it)."""
    q = queue(connection, queue_of(func))
    options = dict(job_id=job_id, result_ttl=300, failure_ttl=7 * 86400, retry=retry_policy())
    try:
        if at is None:
            q.enqueue(func, *args, **options)
        else:
            q.enqueue_at(not_before(at), func, *args, **options)
        return True
    except redis.RedisError as exc:
        log.warning("could not enqueue %s%r: %s", func.__name__, args, exc.__class__.__name__)
        return False


def not_before(at: datetime) -> datetime:
    """RQ scores scheduled jobs by whole seconds, truncating, so a job for 12:00:00.6 may run at
    12:00:00.0. Rounding up to the next whole second means the scheduler never runs it early."""
    return datetime.fromtimestamp(math.ceil(at.timestamp()), UTC)


def timer_second(at: datetime) -> int:
    return math.ceil(at.timestamp())


def timer_job_id(second: int) -> str:
    return f"hitl-timers-{second}"
