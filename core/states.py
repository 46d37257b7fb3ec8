"""The action lifecycle. Every status change goes through `transition` so illegal moves raise."""
from __future__ import annotations

from core.errors import IllegalTransition
from core.vocabulary import Status

S = Status

# proposed -> auto_approved | pending | blocked
# pending -> approved | modified | rejected | expired | cancelled
# approved-ish -> executed | failed (the agent reports the outcome)
#              -> expired (nobody claimed it within the policy's approval_ttl: core/execution.py)
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.PROPOSED: frozenset({S.AUTO_APPROVED, S.PENDING, S.BLOCKED}),
    S.PENDING: frozenset({S.APPROVED, S.MODIFIED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.AUTO_APPROVED: frozenset({S.EXECUTED, S.FAILED, S.EXPIRED}),
    S.APPROVED: frozenset({S.EXECUTED, S.FAILED, S.EXPIRED}),
    S.MODIFIED: frozenset({S.EXECUTED, S.FAILED, S.EXPIRED}),
    S.REJECTED: frozenset(),
    S.BLOCKED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXECUTED: frozenset(),
    S.FAILED: frozenset(),
}

# Statuses in which the agent may go ahead.
GO_AHEAD = frozenset({S.AUTO_APPROVED, S.APPROVED, S.MODIFIED})
# Statuses whose action's timer can still fire: escalation and deadline, or an approval's lifetime.
TIMED = frozenset({S.PENDING}) | GO_AHEAD
# Statuses that answer the agent's question "may I?" (the decision exists).
DECIDED = frozenset(TRANSITIONS) - {S.PROPOSED, S.PENDING}


def can_transition(current: Status, new: Status) -> bool:
    return new in TRANSITIONS[current]


def transition(current: Status, new: Status) -> Status:
    if not can_transition(current, new):
        raise IllegalTransition(current, new)
    return new
