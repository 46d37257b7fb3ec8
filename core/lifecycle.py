"""After the decision: the agent cancels or reports the outcome; timers expire what nobody answered."""
from __future__ import annotations

from typing import Any

from core import execution
from core.action_view import ActionView
from core.errors import AlreadyDecided, ExecutionRefused, IllegalTransition, InvalidRequest
from core.locking import lock_action, lock_or_explain
from core.queries import load_view
from core.services import AgentIdentity, Services
from core.states import GO_AHEAD, transition
from core.store.tables import Action
from core.unit_of_work import Work, unit_of_work
from core.vocabulary import DecisionSource, Outcome, Status


def cancel(services: Services, agent: AgentIdentity, action_id: str, reason: str | None = None) -> ActionView:
    with unit_of_work(services) as work:
        action = lock_or_explain(work.session, action_id, [Status.PENDING], agent_id=agent.id)
        end(work, action, Status.CANCELLED, f"agent:{agent.name}", {"reason": reason})
    with services.db.read() as s:
        return load_view(s, action_id)


def expire(services: Services, action_id: str, reason: str) -> bool:
    """pending -> expired; False if it was decided meanwhile (the timer lost the race, which is fine)."""
    with unit_of_work(services) as work:
        action = lock_action(work.session, action_id, [Status.PENDING])
        if action is None:
            return False
        end(work, action, Status.EXPIRED, "policy", {"reason": reason})
    return True


def report_outcome(services: Services, agent: AgentIdentity, action_id: str, outcome: str, result: Any = None) -> ActionView:
    try:
        target = Status(Outcome(outcome).value)
    except ValueError:
        raise InvalidRequest(f"outcome {outcome!r} is not executed or failed", field="status") from None
    lapsed: ExecutionRefused | None = None
    with unit_of_work(services) as work:
        s = work.session
        try:
            action = lock_or_explain(s, action_id, GO_AHEAD, agent_id=agent.id)
        except AlreadyDecided as exc:
            current = s.get_one(Action, action_id)  # lock_or_explain found it
            if current.status == Status.PENDING:
                raise IllegalTransition(current.status, target) from None
            if current.outcome_at is not None:
                raise InvalidRequest(f"the outcome was reported already ({current.status})", field="status") from None
            if current.status == Status.EXPIRED and current.decision in GO_AHEAD:
                raise execution.refusal(current) from None
            raise IllegalTransition(exc.status, target) from None
        if execution.approval_lapsed(action, work.now):
            execution.expire_approval(work, action)  # committed, then refused, as a late claim is
            lapsed = execution.refusal(action)
        else:
            action.status = transition(Status(action.status), target).value
            action.outcome_result, action.outcome_at = result, work.now
            action.timer_at = None  # it ran (or failed): the approval's lifetime no longer matters
            work.log("outcome", action.id, {"status": target.value, "result": result})
            # Only an action that waited for a decision has a review message to show the outcome on.
            work.action_changed(action, reviewed=bool(action.decided_by))
    if lapsed is not None:
        raise lapsed
    with services.db.read() as s:
        return load_view(s, action_id)


def end(work: Work, action: Action, status: Status, by: str, data: dict) -> None:
    """Move a pending action to a final status inside the unit of work, with its audit log event.
    `by` is "policy" (nobody answered) or "agent:<name>" (it cancelled): never a person."""
    action.status = transition(Status(action.status), status).value
    action.decision, action.decided_at, action.decided_by = status.value, work.now, [by]
    action.decision_source = (DecisionSource.AGENT if by.startswith("agent:") else DecisionSource.POLICY).value
    if status in GO_AHEAD:
        execution.start_approval_clock(work, action)
    work.count_decided(action)
    work.log("decided", action.id, {"status": status.value, "by": [by], "source": action.decision_source, **data})
    work.action_changed(action)
