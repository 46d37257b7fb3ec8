"""The agent's callback: POST the decision to its callback_url, signed; the database records every attempt."""
from __future__ import annotations

import logging
import time

import httpx

from core import deliveries
from core.effects import Effect
from workers import egress_http
from workers.context import runtime
from workers.names import CALLBACKS
from workers.queue import job
from workers.settle import settled

log = logging.getLogger(__name__)


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
    ok, error, hopeless = False, None, False
    try:
        response = egress_http.post(attempt.url, attempt.body, headers, rt.services.egress)
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
    except egress_http.Refused as exc:
        error, hopeless = f"refused: {exc}", True  # a forbidden destination stays forbidden: no retries
        log.warning("callback for %s refused: %s", action_id, exc)
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    return deliveries.record(rt.services, attempt, ok, error, rt.settings.callback_max_attempts, final=hopeless)
