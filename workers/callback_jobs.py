"""The agent's callback: POST the decision to its callback_url, signed; the database records every attempt."""
from __future__ import annotations

import time

import httpx

from core import deliveries
from core.effects import Effect
from workers.context import runtime
from workers.names import CALLBACKS
from workers.queue import job
from workers.settle import settled


@job(CALLBACKS)
def deliver_callback(action_id: str) -> str:
    rt = runtime()
    # The outbox row is settled once the delivery exists: from then on its row in `deliveries`
    # holds the retry schedule, and the reconciler reads that (deliveries.retries_due).
    attempt = settled(rt, Effect.CALLBACK_OWED, action_id, lambda: deliveries.prepare(rt.services, action_id))
    if not isinstance(attempt, deliveries.Attempt):
        return "nothing owed"
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "hitl-gate",
               "X-Hitl-Request-Timestamp": timestamp,
               "X-Hitl-Signature": deliveries.signature(attempt.secret, timestamp, attempt.body)}
    ok, error = False, None
    try:
        response = httpx.post(attempt.url, content=attempt.body, headers=headers, timeout=10, follow_redirects=False)
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    return deliveries.record(rt.services, attempt, ok, error, rt.settings.callback_max_attempts)
