"""The database is the source of truth; Redis only carries work. Every worker runs this pass on its
maintenance tick (one at a time, under a short Redis lock): whatever should have been queued and
is not, because Redis was down, restarted or flushed, is queued again. Jobs are idempotent, so a
second copy of a job that was not lost costs nothing."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis

from core import callbacks, escalation, inbox, reviews, sampling
from workers.queue import enqueue, timer_job_id, timer_second

log = logging.getLogger(__name__)
LOCK = "hitl:reconciler:lock"


def reconcile(runtime, connection: redis.Redis, every_seconds: int) -> dict[str, int]:
    if not connection.set(LOCK, "1", nx=True, ex=max(1, every_seconds - 1)):
        return {}  # another worker did this tick
    grace = runtime.settings.reconcile_grace_seconds
    counts = {"post_review": 0, "apply_interaction": 0, "deliver_callback": 0, "fire_timers": 0,
              "notify_escalation": 0, "post_audit": 0}
    if runtime.slack is not None:
        for action_id in reviews.unposted(runtime.gate, grace):
            counts["post_review"] += enqueue(connection, "workers.jobs.post_review", action_id)
        for action_id, seq in escalation.unnotified(runtime.gate, grace):
            counts["notify_escalation"] += enqueue(connection, "workers.jobs.notify_escalation", action_id, seq)
        for action_id in sampling.unposted(runtime.gate, grace):
            counts["post_audit"] += enqueue(connection, "workers.jobs.post_audit", action_id)
    counts["fire_timers"] = rebuild_timers(runtime, connection, horizon_seconds=2 * every_seconds)
    for interaction_id in inbox.unapplied(runtime.gate, grace):
        counts["apply_interaction"] += enqueue(connection, "workers.jobs.apply_interaction", interaction_id)
    for action_id in callbacks.owed(runtime.gate, grace):
        counts["deliver_callback"] += enqueue(connection, "workers.jobs.deliver_callback", action_id)
    if any(counts.values()):
        log.info("reconciler re-enqueued %s", counts)
    return counts


def rebuild_timers(runtime, connection: redis.Redis, horizon_seconds: float) -> int:
    """Every timer slot with a pending action's timer within the horizon must have its RQ job; a
    timer overdue by more than the grace is fired now, whatever Redis says (its job may be stuck
    with a killed worker). Firing twice is harmless: `escalation.fire_due` re-checks every action."""
    gate = runtime.gate
    now = gate.clock()
    due = escalation.timers_due(gate, now + timedelta(seconds=horizon_seconds))
    if not due:
        return 0
    overdue_before = now - timedelta(seconds=runtime.settings.reconcile_grace_seconds)
    count = 0
    if due[0].at <= overdue_before:
        count += enqueue(connection, "workers.jobs.fire_timers", timer_second(now))
    seconds = sorted({timer_second(t.at) for t in due if t.at > overdue_before})
    with connection.pipeline(transaction=False) as pipe:
        for second in seconds:
            pipe.exists(f"rq:job:{timer_job_id(second)}")
        present = pipe.execute()
    for second, exists in zip(seconds, present, strict=True):
        if not exists:
            count += enqueue(connection, "workers.jobs.fire_timers", second, job_id=timer_job_id(second),
                             at=datetime.fromtimestamp(second, UTC))
    return count
