"""Domain errors. Each carries a stable `code` so adapters (HTTP, Slack, CLI) can map them."""
from __future__ import annotations


class HitlError(Exception):
    code = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(HitlError):
    code = "not_found"


class IllegalTransition(HitlError):
    code = "illegal_transition"

    def __init__(self, current, new):
        super().__init__(f"cannot move an action from {current} to {new}")
        self.current, self.new = current, new


class AlreadyDecided(HitlError):
    """A second decision lost the race (or came after the end)."""

    code = "already_decided"

    def __init__(self, status, decided_by: list[str]):
        who = ", ".join(decided_by) if decided_by else "policy"
        super().__init__(f"already {status} by {who}")
        self.status, self.decided_by = status, decided_by


class AlreadyVoted(HitlError):
    code = "already_voted"


class StaleView(HitlError):
    """A vote cast on a revision of the payload that is no longer the current one: it counts for nothing."""

    code = "stale_view"


class InvalidDecision(HitlError):
    code = "invalid_decision"


class InvalidEdit(InvalidDecision):
    """An edited payload the action cannot run with. `problems` are (JSON Pointer, message) pairs."""

    code = "invalid_edit"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("the edited payload " + "; ".join(f"at {p or 'top level'} {m}" for p, m in problems))
        self.problems = problems


class InvalidPayload(HitlError):
    """A proposal's payload that fails its action type's payload_schema."""

    code = "invalid_payload"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("the payload " + "; ".join(f"at {p or 'top level'} {m}" for p, m in problems))
        self.problems = problems


class InvalidRequest(HitlError):
    code = "invalid_request"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAuthorised(HitlError):
    code = "not_authorised"


class IdempotencyConflict(HitlError):
    code = "idempotency_key_reused"


class PolicyError(HitlError):
    """A policy file problem. `problems` are 'file:line: field: what is wrong' strings."""

    code = "invalid_policy"

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class ExecutionRefused(HitlError):
    """POST /execute refused. `code` says why: not_decided, not_approved, already_claimed,
    payload_mismatch or approval_expired."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
