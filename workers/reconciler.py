"""The database is the source of truth; Redis only carries work. Every worker runs this pass on its
maintenance tick (one at a time, under a short Redis lock): whatever should have been queued and
is not, because Redis was down, restarted or flushed, is queued again. Jobs are idempotent, so a
second copy of a job that was not lost costs nothing."""
from __future__ import annotations

import logging

import redis

from core import callbacks, inbox, reviews
from workers.queue import enqueue

log = logging.getLogger(__name__)
LOCK = "hitl:reconciler:lock"


def reconcile(runtime, connection: redis.Redis, every_seconds: int) -> dict[str, int]:
    if not connection.set(LOCK, "1", nx=True, ex=max(1, every_seconds - 1)):
        return {}  # another worker did this tick
    grace = runtime.settings.reconcile_grace_seconds
    counts = {"post_review": 0, "apply_interaction": 0, "deliver_callback": 0}
    if runtime.slack is not None:
        for action_id in reviews.unposted(runtime.gate, grace):
            counts["post_review"] += enqueue(connection, "workers.jobs.post_review", action_id)
    for interaction_id in inbox.unapplied(runtime.gate, grace):
        counts["apply_interaction"] += enqueue(connection, "workers.jobs.apply_interaction", interaction_id)
    for action_id in callbacks.owed(runtime.gate, grace):
        counts["deliver_callback"] += enqueue(connection, "workers.jobs.deliver_callback", action_id)
    if any(counts.values()):
        log.info("reconciler re-enqueued %s", counts)
    return counts
