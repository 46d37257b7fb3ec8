"""core.ports.Dispatcher on RQ: each effect of a committed unit of work becomes a job, by reference.

The composition root (bot/bootstrap.py) hands in `routes`, effect kind to job function, so the
Slack jobs (bot/slack/jobs.py) are reached without workers importing bot. The long-poll wake-up
and the timers are handled here, as they need only Redis.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from core.effects import Effect, Owed
from workers import pubsub
from workers.queue import enqueue, timer_job_id, timer_second
from workers.timer_jobs import fire_timers

log = logging.getLogger(__name__)
# Changes that arrive while a refresh of the same message is still queued ride on it: chat.update is
# rate-limited (Tier 3), and a quorum vote, a claim and an escalation in one second need one update.
# The job clears the mark before it reads anything (workers/settle.py), so no change is missed.
COALESCED = frozenset({Effect.REVIEW_CHANGED, Effect.SPOT_CHECK_CHANGED})
MARK_SECONDS = 60


def coalescing_key(kind: Effect, action_id: str) -> str:
    return f"hitl:queued:{kind.value}:{action_id}"


class JobDispatcher:
    def __init__(self, connection: redis.Redis, routes: Mapping[Effect, Callable[..., Any]], grace_seconds: float):
        self.connection = connection
        self.routes = dict(routes)
        self.grace_seconds = grace_seconds

    def carries(self, kind: Effect) -> bool:
        return kind in self.routes

    def dispatch(self, owed: Sequence[Owed]) -> None:
        for o in owed:
            try:
                self.carry(o)
            except Exception:  # never into the request that committed: the outbox row is still open
                log.exception("could not carry out %s for %s", o.kind.value, o.action_id)

    def carry(self, o: Owed) -> bool:
        if o.kind is Effect.ACTION_CHANGED:
            pubsub.publish(self.connection, o.action_id, o.ref)
            return True
        if o.kind is Effect.TIMER_SET:
            if o.at is None:
                return False
            # A timer wheel with one-second slots: every timer due in a second shares one job, named
            # after that second, so setting a timer whose slot has its job already changes nothing.
            second = timer_second(o.at)
            return enqueue(self.connection, fire_timers, second, job_id=timer_job_id(second), at=o.at)
        func = self.routes.get(o.kind)
        if func is None:
            return False
        if o.kind in COALESCED and not self._mark(o):
            return True  # a queued job will read this change
        args = (o.action_id, o.ref) if o.ref else (o.action_id,)
        done = enqueue(self.connection, func, *args)
        if not done and o.kind in COALESCED:
            self._unmark(o)
        return done

    def _mark(self, o: Owed) -> bool:
        try:
            return bool(self.connection.set(coalescing_key(o.kind, o.action_id), "1", nx=True, ex=MARK_SECONDS))
        except redis.RedisError:
            return True  # no mark: enqueue anyway (that fails too, and is logged, when Redis is down)

    def _unmark(self, o: Owed) -> None:
        try:
            self.connection.delete(coalescing_key(o.kind, o.action_id))
        except redis.RedisError:
            pass
