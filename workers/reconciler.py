"""The database is the source of truth; Redis only carries work. Every worker runs this pass on its
maintenance tick (one at a time, under a short Redis lock): whatever should have been queued and
is not, because Redis was down, restarted or flushed, is queued again. Jobs are idempotent, so a
second copy of a job that was not lost costs nothing."""
from __future__ import annotations

import logging
from datetime import timedelta

import redis

from core import callbacks, escalation, inbox, reviews, sampling
from workers.queue import enqueue, timer_job_id

log = logging.getLogger(__name__)
LOCK = "hitl:reconciler:lock"


def reconcile(runtime, connection: redis.Redis, every_seconds: int) -> dict[str, int]:
    if not connection.set(LOCK, "1", nx=True, ex=max(1, every_seconds - 1)):
        return {}  # another worker did this tick
    grace = runtime.settings.reconcile_grace_seconds
    counts = {"post_review": 0, "apply_interaction": 0, "deliver_callback": 0, "fire_timer": 0,
              "notify_escalation": 0, "post_audit": 0}
    if runtime.slack is not None:
        for action_id in reviews.unposted(runtime.gate, grace):
            counts["post_review"] += enqueue(connection, "workers.jobs.post_review", action_id)
        for action_id, seq in escalation.unnotified(runtime.gate, grace):
            counts["notify_escalation"] += enqueue(connection, "workers.jobs.notify_escalation", action_id, seq)
        for action_id in sampling.unposted(runtime.gate, grace):
            counts["post_audit"] += enqueue(connection, "workers.jobs.post_audit", action_id)
    counts["fire_timer"] = rebuild_timers(runtime, connection, horizon_seconds=2 * every_seconds)
    for interaction_id in inbox.unapplied(runtime.gate, grace):
        counts["apply_interaction"] += enqueue(connection, "workers.jobs.apply_interaction", interaction_id)
    for action_id in callbacks.owed(runtime.gate, grace):
        counts["deliver_callback"] += enqueue(connection, "workers.jobs.deliver_callback", action_id)
    if any(counts.values()):
        log.info("reconciler re-enqueued %s", counts)
    return counts


def rebuild_timers(runtime, connection: redis.Redis, horizon_seconds: float) -> int:
    """Every pending action's timer that falls within the horizon must have its RQ job; a timer
    overdue by more than the grace fires now, whatever Redis says (its job may be stuck with a
    killed worker). Firing twice is harmless: `escalation.fire` takes the timer by its version."""
    gate = runtime.gate
    now = gate.clock()
    overdue_before = now - timedelta(seconds=runtime.settings.reconcile_grace_seconds)
    due = escalation.timers_due(gate, now + timedelta(seconds=horizon_seconds))
    if not due:
        return 0
    ids = [timer_job_id(t.action_id, t.timer_seq, t.at) for t in due]
    with connection.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.exists(f"rq:job:{job_id}")
        present = pipe.execute()
    count = 0
    for timer, job_id, exists in zip(due, ids, present):
        if timer.at <= overdue_before:
            count += enqueue(connection, "workers.jobs.fire_timer", timer.action_id, timer.timer_seq)
        elif not exists:
            count += enqueue(connection, "workers.jobs.fire_timer", timer.action_id, timer.timer_seq, job_id=job_id,
                             at=timer.at)
    return count
