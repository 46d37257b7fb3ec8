"""Decisions pushed to an agent's callback_url, signed, retried with backoff, dead-lettered at the end.

Signature (in the spirit of Slack's v0 scheme): headers `X-Hitl-Request-Timestamp: <unix seconds>`
and `X-Hitl-Signature: v1=<hex HMAC-SHA256(secret, "v1:<timestamp>:<raw body>")>`, where the
secret is the SHA-256 hex digest of the agent's API key (the only form the server keeps). The agent
recomputes it, compares in constant time, and rejects timestamps more than 5 minutes off.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from core.effects import Effect
from core.queries import load_view
from core.services import Services
from core.store.tables import Action, Agent, Delivery
from core.unit_of_work import unit_of_work

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
FIRST_RETRY_SECONDS = 15.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@dataclass(frozen=True)
class Attempt:
    action_id: str
    url: str
    body: bytes
    secret: str
    attempt: int


def backoff(attempts: int, draw: float) -> float:
    """15 s, 30 s, 60 s … doubling, ±20 % jitter so a recovering endpoint is not hit by a wave."""
    return FIRST_RETRY_SECONDS * 2 ** (attempts - 1) * (0.8 + 0.4 * draw)


def retries_due(services: Services, limit: int = 500) -> list[str]:
    """Deliveries whose backoff has run out: the retry schedule lives in the database, not in Redis."""
    with services.db.read() as s:
        return list(s.scalars(select(Delivery.action_id).where(Delivery.state == PENDING,
                                                               Delivery.next_attempt_at <= services.clock()).limit(limit)))


def prepare(services: Services, action_id: str) -> Attempt | None:
    """The next attempt for this action's decision, or None when nothing is owed now."""
    now = services.clock()
    with services.db.read() as s:
        action = s.get(Action, action_id)
        if action is None or not action.callback_url or action.decision is None:
            return None
        delivery = s.get(Delivery, action_id)
        agent = s.get(Agent, action.agent_id)
        view = load_view(s, action_id)
    if delivery is None:
        try:
            with services.db.transaction() as s:
                s.add(Delivery(action_id=action_id, url=action.callback_url, state=PENDING, attempts=0,
                               next_attempt_at=now, created_at=now))
        except IntegrityError:
            pass  # another worker created it
        with services.db.read() as s:
            delivery = s.get(Delivery, action_id)
    if delivery is None or agent is None or view.decision is None:
        return None  # gone meanwhile (a deleted agent or delivery): nothing can be owed to it
    if delivery.state != PENDING or delivery.next_attempt_at > now:
        return None
    body = json.dumps({
        "id": view.id, "action_type": view.action_type, "status": view.decision.status.value,
        "go_ahead": view.decision.go_ahead, "decision": view.decision.model_dump(mode="json"),
        "state": view.state, "run_id": view.run_id, "call_id": view.call_id, "attempt": delivery.attempts + 1,
    }, separators=(",", ":"), ensure_ascii=False).encode()
    return Attempt(action_id=action_id, url=delivery.url, body=body, secret=agent.key_hash, attempt=delivery.attempts + 1)


def record(services: Services, attempt: Attempt, ok: bool, error: str | None, max_attempts: int,
           final: bool = False) -> str:
    """Returns the delivery's state afterwards. `final`: a failure no retry can mend (a forbidden
    destination): dead-lettered at once."""
    with unit_of_work(services) as work:
        s, now = work.session, work.now
        delivery = s.get(Delivery, attempt.action_id, populate_existing=True, with_for_update=True)
        if delivery is None or delivery.state != PENDING or delivery.attempts + 1 != attempt.attempt:
            return delivery.state if delivery else "gone"  # another copy of the job recorded this attempt
        delivery.attempts = attempt.attempt
        if ok:
            delivery.state, delivery.delivered_at, delivery.last_error = DELIVERED, now, None
            work.log("delivered", attempt.action_id, {"url": delivery.url, "attempt": attempt.attempt})
        else:
            delivery.last_error = (error or "")[:1000]
            if final or attempt.attempt >= max_attempts:
                delivery.state = DEAD
                work.log("dead_lettered", attempt.action_id, {"url": delivery.url, "error": delivery.last_error})
            else:
                delivery.next_attempt_at = now + timedelta(seconds=backoff(attempt.attempt, services.draw()))
        return delivery.state


def failed(services: Services) -> list[Delivery]:
    with services.db.read() as s:
        return list(s.scalars(select(Delivery).where(Delivery.state == DEAD).order_by(Delivery.created_at)))


def retry(services: Services, action_ids: list[str] | None = None) -> list[str]:
    """Dead-lettered deliveries start again from the first attempt; returns their actions."""
    with unit_of_work(services) as work:
        stmt = update(Delivery).where(Delivery.state == DEAD)
        if action_ids:
            stmt = stmt.where(or_(*[Delivery.action_id == a for a in action_ids]))
        again = list(work.session.scalars(stmt.values(state=PENDING, attempts=0, next_attempt_at=work.now)
                                          .returning(Delivery.action_id)))
        for action_id in again:
            work.owe(Effect.CALLBACK_OWED, action_id)
        return again
