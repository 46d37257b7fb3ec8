"""core.ports.Dispatcher on RQ: each effect of a committed unit of work becomes a job, by reference.

The composition root (bot/bootstrap.py) hands in `routes`, effect kind to job function, so the
Slack jobs (bot/slack/jobs.py) are reached without workers importing bot. The long-poll wake-up
and the timers are handled here, as they need only Redis.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from core.effects import Effect, Owed
from workers import pubsub
from workers.queue import enqueue, timer_job_id, timer_second
from workers.timer_jobs import fire_timers

log = logging.getLogger(__name__)
# A queued job is marked in Redis until it starts, and whatever arrives for the same effect
# meanwhile rides on it:
# - later changes: chat.update is rate-limited (Tier 3), and a quorum vote, a claim and an
#   escalation in one second need one update;
# - the relay: a row whose job is merely waiting in a backlog is not enqueued again. bench/slack_ack.py
#   measured that: with a copy per row, `hitl worker --burst` took 1.3x as long.
# The job clears the mark before it reads anything (workers/settle.py), so no change is missed; a
# FLUSHALL clears the marks with the jobs, so the relay enqueues those again.
MARK_SECONDS = 900


def queued_key(o: Owed) -> str:
    return f"hitl:queued:{o.kind.value}:{o.action_id}:{o.ref}"


class JobDispatcher:
    def __init__(self, connection: redis.Redis, routes: Mapping[Effect, Callable[..., Any]], grace_seconds: float):
        self.connection = connection
        self.routes = dict(routes)
        self.grace_seconds = grace_seconds
        # Timer slots this process has scheduled and that are still ahead. Proposals arriving in one
        # second mostly share their first escalation's slot, and re-saving its job for each was a
        # fifth of the intake's CPU (bench/intake.py). Should Redis lose the job, the reconciler
        # makes it again from actions.timer_at before it is due (workers/reconciler.py).
        self._slots: set[int] = set()
        self._slots_lock = threading.Lock()

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
            with self._slots_lock:
                # a slot about to run (or run already) is scheduled again: its job may be gone
                if second in self._slots and second > time.time() + 2:
                    return True
            done = enqueue(self.connection, fire_timers, second, job_id=timer_job_id(second), at=o.at)
            if done:
                self._remember_slot(second)
            return done
        func = self.routes.get(o.kind)
        if func is None:
            return False
        if not self._mark(o):
            return True  # a queued job will carry this out
        args = (o.action_id, o.ref) if o.ref else (o.action_id,)
        done = enqueue(self.connection, func, *args)
        if not done:
            self._unmark(o)
        return done

    def _remember_slot(self, second: int) -> None:
        now = time.time()
        with self._slots_lock:
            if len(self._slots) > 10_000:  # past slots have run: forget them
                self._slots = {s for s in self._slots if s > now}
            self._slots.add(second)

    def _mark(self, o: Owed) -> bool:
        try:
            return bool(self.connection.set(queued_key(o), "1", nx=True, ex=MARK_SECONDS))
        except redis.RedisError:
            return True  # no mark: enqueue anyway (that fails too, and is logged, when Redis is down)

    def _unmark(self, o: Owed) -> None:
        try:
            self.connection.delete(queued_key(o))
        except redis.RedisError:
            pass
