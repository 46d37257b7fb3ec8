"""The timer wheel's job: one per second that has timers (workers/dispatch.py sets them)."""
from __future__ import annotations

import time
from datetime import UTC, datetime

from core import escalation
from workers.context import runtime
from workers.names import ESCALATIONS
from workers.queue import enqueue, job, timer_job_id

EARLY_SLEEP_LIMIT = 2.0  # seconds a timer job that arrived early waits in place rather than rescheduling
FIRE_BATCH = 200


@job(ESCALATIONS)
def fire_timers(second: int) -> str:
    """Fire every timer due by now. RQ's scheduler may release this early (clock skew between
    hosts) or twice; `escalation.fire_due` re-checks each action's state and time, so an early or
    repeated run fires nothing twice."""
    services = runtime().services
    wait = second - services.clock().timestamp()
    if wait > EARLY_SLEEP_LIMIT:
        enqueue(runtime().redis, fire_timers, second, job_id=timer_job_id(second) + "-early",
                at=datetime.fromtimestamp(second, UTC))
        return f"early by {wait:.1f}s: rescheduled"
    if wait > 0:
        time.sleep(wait)
    fired = 0
    while True:
        batch = escalation.fire_due(services, limit=FIRE_BATCH)
        fired += sum(1 for _id, f in batch if f.kind != "none")
        if len(batch) < FIRE_BATCH:
            return f"fired {fired}"


@job(ESCALATIONS)
def fire_timer(action_id: str, timer_seq: int) -> str:
    """One action's timer: the job of versions before the timer wheel, which may still be scheduled in
    Redis after an upgrade. `escalation.fire` re-checks the action, so a stale one does nothing."""
    return escalation.fire(runtime().services, action_id, timer_seq).kind
