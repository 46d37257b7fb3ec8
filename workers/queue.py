"""RQ queues (JSON serializer, never pickle) and the adapters that put work on them."""
from __future__ import annotations

import logging
import math
import random
from datetime import UTC, datetime

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from core import states
from core.vocabulary import Status
from workers.names import CALLBACKS, DECISIONS, ESCALATIONS, SLACK

log = logging.getLogger(__name__)
_QUEUE_OF = {
    "workers.jobs.apply_interaction": DECISIONS,
    "workers.jobs.fire_timers": ESCALATIONS,
    "workers.jobs.deliver_callback": CALLBACKS,
}


def queue(connection: redis.Redis, name: str = SLACK) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer)


def queue_of(func: str) -> str:
    return _QUEUE_OF.get(func, SLACK)


# A failed job (Slack 5xx, a 429 longer than the client's own two waits, a network error) runs again
# after these many seconds, each stretched by up to +25 % so retries from a burst do not arrive together.
RETRY_AFTER = (2, 5, 15, 60, 300)


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_AFTER), interval=[round(s * (1 + 0.25 * random.random()), 1) if s else 0
                                                 for s in RETRY_AFTER])


def enqueue(connection: redis.Redis, func: str, *args, job_id: str | None = None, at: datetime | None = None) -> bool:
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
        log.warning("could not enqueue %s%r: %s", func, args, exc.__class__.__name__)
        return False


def not_before(at: datetime) -> datetime:
    """RQ scores scheduled jobs by whole seconds, truncating, so a job for 12:00:00.6 may run at
    12:00:00.0. Rounding up to the next whole second means the scheduler never runs it early."""
    return datetime.fromtimestamp(math.ceil(at.timestamp()), UTC)


def timer_second(at: datetime) -> int:
    return math.ceil(at.timestamp())


def timer_job_id(second: int) -> str:
    return f"hitl-timers-{second}"


class RQTimers:
    """core.ports.Timers on RQ's scheduler, as a timer wheel with one-second slots: every timer due
    in a second shares one job, named after that second, which fires all timers then due. Ten
    thousand timers in a minute are sixty jobs, not ten thousand (bench/escalations.py). Setting a
    timer whose slot already has its job changes nothing, so intake and the reconciler may both."""

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def set(self, action_id: str, timer_seq: int, at: datetime) -> None:
        second = timer_second(at)
        enqueue(self.connection, "workers.jobs.fire_timers", second, job_id=timer_job_id(second), at=at)


class SlackPublisher:
    """core.ports.ReviewPublisher: post a pending action's review message."""

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def review_needed(self, action_id: str) -> None:
        enqueue(self.connection, "workers.jobs.post_review", action_id)

    def escalated(self, action_id: str, seq: int) -> None:
        enqueue(self.connection, "workers.jobs.notify_escalation", action_id, seq)

    def audit_needed(self, action_id: str) -> None:
        enqueue(self.connection, "workers.jobs.post_audit", action_id)


REFRESH_PENDING = "hitl:refresh:{}"


class SlackRefresher:
    """core.ports.Notifier: bring an action's review message up to date after any change.

    Changes that arrive while a refresh is still queued ride on it: chat.update is rate-limited
    (Tier 3) and a quorum vote, a claim and an escalation in one second need one update, not three.
    The job clears the mark before it reads the action, so no change is missed."""

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def action_changed(self, action_id: str, status: str) -> None:
        key = REFRESH_PENDING.format(action_id)
        try:
            if not self.connection.set(key, "1", nx=True, ex=60):
                return  # a queued refresh will read this change
        except redis.RedisError:
            pass  # no mark: enqueue anyway (and that will fail and be logged if Redis is down)
        if not enqueue(self.connection, "workers.jobs.refresh_review", action_id):
            try:
                self.connection.delete(key)
            except redis.RedisError:
                pass


class CallbackNotifier:
    """core.ports.Notifier: a decided action may owe its agent a callback (the job checks callback_url)."""

    # The decision, not the outcome the agent reports afterwards.
    DECIDED = {s.value for s in states.DECIDED - {Status.EXECUTED, Status.FAILED}}

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def action_changed(self, action_id: str, status: str) -> None:
        if str(status) in self.DECIDED:
            enqueue(self.connection, "workers.jobs.deliver_callback", action_id)


class Notifiers:
    """Fan one change out to several notifiers."""

    def __init__(self, *notifiers):
        self.notifiers = notifiers

    def action_changed(self, action_id: str, status: str) -> None:
        for n in self.notifiers:
            n.action_changed(action_id, status)
