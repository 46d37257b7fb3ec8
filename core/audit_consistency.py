"""The actions table against its audit log: every action was logged when it was created, and its
decision (and, for a person's go-ahead, the payload that may run) is the one its events record.
A forger who edits a decision in one place and not the other shows here, checkpoints or not."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.action_view import payload_sha256
from core.store.tables import Action, AuditEvent

SHOWN = 20  # problems named one by one; past these, a count


def check(session: Session, batch: int = 5000) -> tuple[int, list[str]]:
    """(actions checked, problems)."""
    created: set[str] = set()
    decided: dict[str, dict] = {}  # action -> its latest "decided" event's data
    last = 0
    while True:
        # By insertion id, not seq: events not sealed yet count too. One action's writes hold its row,
        # so its later decision always has the larger id.
        rows = session.execute(select(AuditEvent.id, AuditEvent.action_id, AuditEvent.kind, AuditEvent.data)
                               .where(AuditEvent.id > last, AuditEvent.kind.in_(("created", "decided")))
                               .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            break
        for event_id, action_id, kind, data in rows:
            if kind == "created":
                created.add(action_id)
            else:
                decided[action_id] = data or {}
            last = event_id
    problems: list[str] = []
    checked = 0
    for action_id, decision, final in session.execute(select(Action.id, Action.decision, Action.final_payload)
                                                      .execution_options(yield_per=batch)):
        checked += 1
        logged = decided.get(action_id)
        if action_id not in created:
            problems.append(f"action {action_id} has no `created` event: its events were deleted, or it was "
                            "inserted behind the gate's back")
        elif decision is not None and logged is None:
            problems.append(f"action {action_id} is {decision}, but no event records a decision")
        elif logged is not None and logged.get("status") != decision:
            problems.append(f"action {action_id} is {decision or 'undecided'}, but its log records "
                            f"{logged.get('status')}")
        elif logged is not None and "final_payload_sha256" in logged and (
                final is None or payload_sha256(final) != logged["final_payload_sha256"]):
            problems.append(f"action {action_id}: the payload that may run is not the one its decision recorded")
    if len(problems) > SHOWN:
        problems = problems[:SHOWN] + [f"…and {len(problems) - SHOWN} more actions that disagree with the log"]
    return checked, problems
