"""RQ queues (JSON serializer, never pickle) and the adapters that put work on them."""
from __future__ import annotations

import logging
import random

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from core import states
from core.vocabulary import Status

log = logging.getLogger(__name__)
SLACK = "slack"
QUEUES = (SLACK,)


def queue(connection: redis.Redis, name: str = SLACK) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer)


# A failed job (Slack 5xx, a 429 longer than the client's own two waits, a network error) runs again
# after these many seconds, each stretched by up to +25 % so retries from a burst do not arrive together.
RETRY_AFTER = (2, 5, 15, 60, 300)


def retry_policy() -> Retry:
    return Retry(max=len(RETRY_AFTER), interval=[round(s * (1 + 0.25 * random.random()), 1) if s else 0
                                                 for s in RETRY_AFTER])


def enqueue(connection: redis.Redis, func: str, *args, queue_name: str = SLACK, job_id: str | None = None) -> bool:
    """Jobs take ids and plain values; a failure to enqueue is logged, never raised into a request."""
    try:
        queue(connection, queue_name).enqueue(func, *args, job_id=job_id, result_ttl=300, failure_ttl=7 * 86400,
                                              retry=retry_policy())
        return True
    except redis.RedisError as exc:
        log.warning("could not enqueue %s%r: %s", func, args, exc.__class__.__name__)
        return False


class SlackPublisher:
    """core.ports.ReviewPublisher: post a pending action's review message."""

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def review_needed(self, action_id: str) -> None:
        enqueue(self.connection, "workers.jobs.post_review", action_id)


class SlackRefresher:
    """core.ports.Notifier: bring an action's review message up to date after any change."""

    def __init__(self, connection: redis.Redis):
        self.connection = connection

    def action_changed(self, action_id: str, status: str) -> None:
        enqueue(self.connection, "workers.jobs.refresh_review", action_id)


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
