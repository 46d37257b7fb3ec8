"""The database is the source of truth; Redis only carries work. Every worker runs this pass on its
maintenance tick (one at a time, under a short Redis lock): whatever should have been queued and
is not, because Redis was down, restarted or flushed, is queued again. What a committed change
owes is in the outbox (workers/relay.py); besides it, this re-reads only what has its own
schedule in the database: timers, callback retries and recorded clicks. Jobs are idempotent, so
a second copy of a job that was not lost costs nothing."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis

from core import deliveries, escalation, inbox, outbox
from workers.callback_jobs import deliver_callback
from workers.queue import enqueue, timer_job_id, timer_second
from workers.relay import KEEP_SETTLED, NOBODY_CARRIES, relay_once
from workers.timer_jobs import fire_timers

log = logging.getLogger(__name__)
LOCK = "hitl:reconciler:lock"


def reconcile(runtime, connection: redis.Redis, every_seconds: int) -> dict[str, int]:
    if not connection.set(LOCK, "1", nx=True, ex=max(1, every_seconds - 1)):
        return {}  # another worker did this tick
    grace = runtime.settings.reconcile_grace_seconds
    counts = {"outbox": relay_once(runtime), "apply_interaction": 0, "deliver_callback": 0, "fire_timers": 0}
    counts["fire_timers"] = rebuild_timers(runtime, connection, horizon_seconds=2 * every_seconds)
    if runtime.click_job is not None:  # clicks come from Slack: the job that applies them is Slack's (bot/)
        for interaction_id in inbox.unapplied(runtime.services, grace):
            counts["apply_interaction"] += enqueue(connection, runtime.click_job, interaction_id)
    for action_id in deliveries.retries_due(runtime.services):
        counts["deliver_callback"] += enqueue(connection, deliver_callback, action_id)
    for chore in getattr(runtime, "chores", ()):
        try:
            if done := chore(runtime, connection):
                log.info("maintenance chore %s: %s", chore.__name__, done)
        except Exception:  # a chore (the digest) must never stop the reconciling around it
            log.exception("maintenance chore %s failed", chore.__name__)
    outbox.prune(runtime.services, KEEP_SETTLED)
    if dropped := outbox.abandon(runtime.services, NOBODY_CARRIES):
        log.warning("dropped outbox effects no worker carried out in %s: %s (is Slack configured for the workers?)",
                    NOBODY_CARRIES, dropped)
    if any(counts.values()):
        log.info("reconciler re-enqueued %s", counts)
    return counts


def rebuild_timers(runtime, connection: redis.Redis, horizon_seconds: float) -> int:
    """Every timer slot with a pending action's timer within the horizon must have its RQ job; a
    timer overdue by more than the grace is fired now, whatever Redis says (its job may be stuck
    with a killed worker). Firing twice is harmless: `escalation.fire_due` re-checks every action."""
    services = runtime.services
    now = services.clock()
    due = escalation.timers_due(services, now + timedelta(seconds=horizon_seconds))
    if not due:
        return 0
    overdue_before = now - timedelta(seconds=runtime.settings.reconcile_grace_seconds)
    count = 0
    if due[0].at <= overdue_before:
        count += enqueue(connection, fire_timers, timer_second(now))
    seconds = sorted({timer_second(t.at) for t in due if t.at > overdue_before})
    with connection.pipeline(transaction=False) as pipe:
        for second in seconds:
            pipe.exists(f"rq:job:{timer_job_id(second)}")
        present = pipe.execute()
    for second, exists in zip(seconds, present, strict=True):
        if not exists:
            count += enqueue(connection, fire_timers, second, job_id=timer_job_id(second),
                             at=datetime.fromtimestamp(second, UTC))
    return count
