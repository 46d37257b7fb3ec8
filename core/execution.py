"""After a go-ahead: the approval's lifetime and the one claim to run it.

A decision says what may run; `claim` hands that out once. The agent names the SHA-256 of the
payload it is about to run (the decision's `payload_sha256`). The first claim naming the approved
payload gets it; nothing else ever does: not a second claim, not another payload, not a claim
after the policy's `approval_ttl`, which expires an unclaimed approval with its own audit event.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.action_view import payload_sha256
from core.errors import ExecutionRefused, InvalidRequest, NotFound
from core.locking import lock_action
from core.services import AgentIdentity, Services
from core.states import GO_AHEAD, transition
from core.store.tables import Action
from core.unit_of_work import Work, unit_of_work
from core.vocabulary import Status

SHA256 = re.compile(r"[0-9a-f]{64}")


def start_approval_clock(work: Work, action: Action) -> None:
    """At a go-ahead, inside its unit of work: the approval lives `approval_ttl`, watched by the
    action's timer; without a ttl no timer is left behind from the pending phase."""
    set_approval_clock(action, work.now)
    if action.timer_at is not None:
        work.timer(action.id, action.timer_seq, action.timer_at)


def set_approval_clock(action: Action, now: datetime) -> None:
    ttl = (action.route or {}).get("approval_ttl")
    action.approval_expires_at = now + timedelta(seconds=ttl) if ttl else None
    action.timer_at = action.approval_expires_at
    action.timer_seq = (action.timer_seq or 0) + 1


def expire_approval(work: Work, action: Action) -> None:
    """An approval nobody claimed in time: the action is expired and can never run."""
    action.status = transition(Status(action.status), Status.EXPIRED).value
    action.timer_at = None
    work.log("approval_expired", action.id, {"decision": action.decision,
                                             "expires_at": action.approval_expires_at.isoformat()
                                             if action.approval_expires_at else None})
    work.action_changed(action, reviewed=bool(action.decided_by))


def approval_lapsed(action: Action, now: datetime) -> bool:
    return (action.execution_claimed_at is None and action.approval_expires_at is not None
            and now >= action.approval_expires_at)


@dataclass(frozen=True)
class ExecutionClaim:
    action_id: str
    final_payload: dict[str, Any]
    payload_sha256: str
    revision: int
    claimed_at: datetime


def claim(services: Services, agent: AgentIdentity, action_id: str, sha256: str) -> ExecutionClaim:
    """The one right to run the approved payload. Raises ExecutionRefused saying why not."""
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise InvalidRequest("payload_sha256 must be 64 lower-case hex digits", field="payload_sha256")
    with unit_of_work(services) as work:
        action = lock_action(work.session, action_id, GO_AHEAD)
        if action is None or action.agent_id != agent.id:
            existing = work.session.get(Action, action_id)
            if existing is None or existing.agent_id != agent.id:
                raise NotFound(f"no action {action_id!r}")
            raise refusal(existing)
        answer = _claim(work, action, sha256)
    if isinstance(answer, ExecutionRefused):
        raise answer  # after the commit: the lapse it records is a fact either way
    return answer


def _claim(work: Work, action: Action, sha256: str) -> ExecutionClaim | ExecutionRefused:
    if action.execution_claimed_at is not None:
        raise ExecutionRefused("already_claimed",
                               f"execution was claimed already, at {action.execution_claimed_at:%Y-%m-%dT%H:%M:%SZ}")
    if approval_lapsed(action, work.now):
        expire_approval(work, action)
        return refusal(action)
    final = action.final_payload if isinstance(action.final_payload, dict) else {}
    expected = payload_sha256(final)
    if sha256 != expected:
        raise ExecutionRefused("payload_mismatch", "payload_sha256 is not the approved payload's "
                               f"(revision {action.revision}): read the decision again and run its final_payload")
    action.execution_claimed_at = work.now
    action.timer_at = None  # claimed: nothing is left to expire
    action.timer_seq += 1
    work.log("execution_claimed", action.id, {"payload_sha256": expected, "revision": action.revision})
    work.action_changed(action, reviewed=bool(action.decided_by))
    return ExecutionClaim(action.id, final, expected, action.revision, work.now)


def refusal(action: Action) -> ExecutionRefused:
    """Why an action that is not an open go-ahead cannot be run."""
    status = Status(action.status)
    if status is Status.PENDING or status is Status.PROPOSED:
        return ExecutionRefused("not_decided", "the action is not decided yet: wait for the decision")
    if status is Status.EXPIRED and action.decision in GO_AHEAD:
        at = f" at {action.approval_expires_at:%Y-%m-%dT%H:%M:%SZ}" if action.approval_expires_at else ""
        return ExecutionRefused("approval_expired", f"the approval expired{at} before it was claimed; propose again")
    if status in (Status.EXECUTED, Status.FAILED):
        return ExecutionRefused("already_claimed", f"the outcome was reported already ({status.value})")
    return ExecutionRefused("not_approved", f"the action was {status.value}: there is nothing to run")
