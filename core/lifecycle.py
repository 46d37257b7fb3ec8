"""After the decision: the agent cancels or reports the outcome; timers expire what nobody answered."""
from __future__ import annotations

from typing import Any

from core import audit, rollups
from core.errors import AlreadyDecided, IllegalTransition, InvalidRequest
from core.gate import AgentIdentity, Gate
from core.locking import claim, claim_or_explain
from core.queries import load_view
from core.states import GO_AHEAD, transition
from core.store.tables import Action
from core.views import ActionView
from core.vocabulary import Outcome, Status


def cancel(gate: Gate, agent: AgentIdentity, action_id: str, reason: str | None = None) -> ActionView:
    now = gate.clock()
    with gate.db.transaction() as s:
        action = claim_or_explain(s, action_id, [Status.PENDING], agent_id=agent.id)
        end(s, action, Status.CANCELLED, f"agent:{agent.name}", now, {"reason": reason})
    gate.notifier.action_changed(action_id, Status.CANCELLED)
    with gate.db.read() as s:
        return load_view(s, action_id)


def expire(gate: Gate, action_id: str, reason: str) -> bool:
    """pending -> expired; False if it was decided meanwhile (the timer lost the race, which is fine)."""
    now = gate.clock()
    with gate.db.transaction() as s:
        action = claim(s, action_id, [Status.PENDING])
        if action is None:
            return False
        end(s, action, Status.EXPIRED, "policy", now, {"reason": reason})
    gate.notifier.action_changed(action_id, Status.EXPIRED)
    return True


def report_outcome(gate: Gate, agent: AgentIdentity, action_id: str, outcome: str, result: Any = None) -> ActionView:
    try:
        target = Status(Outcome(outcome).value)
    except ValueError:
        raise InvalidRequest(f"outcome {outcome!r} is not executed or failed", field="status") from None
    now = gate.clock()
    with gate.db.transaction() as s:
        try:
            action = claim_or_explain(s, action_id, GO_AHEAD, agent_id=agent.id)
        except AlreadyDecided as exc:
            current = s.get_one(Action, action_id)  # claim_or_explain found it
            if current.status == Status.PENDING:
                raise IllegalTransition(current.status, target) from None
            if current.outcome_at is not None:
                raise InvalidRequest(f"the outcome was reported already ({current.status})", field="status") from None
            raise IllegalTransition(exc.status, target) from None
        action.status = transition(Status(action.status), target).value
        action.outcome_result, action.outcome_at = result, now
        audit.append(s, "outcome", action.id, {"status": target.value, "result": result}, now)
    gate.notifier.action_changed(action_id, target)
    with gate.db.read() as s:
        return load_view(s, action_id)


def end(s, action: Action, status: Status, by: str, now, data: dict) -> None:
    """Move a pending action to a final status inside the caller's transaction, with its audit record."""
    action.status = transition(Status(action.status), status).value
    action.decision, action.decided_at, action.decided_by = status.value, now, [by]
    rollups.decided(s, action)
    audit.append(s, "decided", action.id, {"status": status.value, "by": [by], **data}, now)


