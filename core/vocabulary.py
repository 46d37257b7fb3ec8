"""The one shared vocabulary (see ARCHITECTURE.md): names used in code, docs, Slack text and metrics."""
from __future__ import annotations

from enum import StrEnum


class ReviewMode(StrEnum):
    AUTO = "auto"  # human out of the loop
    SAMPLE = "sample"  # human on the loop: auto-approved, a fraction audited afterwards
    REVIEW = "review"  # human in the loop: pre-approval
    BLOCK = "block"  # never
    SHADOW = "shadow"  # human decides unaided; the agent's proposal is only recorded


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


class Status(StrEnum):
    PROPOSED = "proposed"
    AUTO_APPROVED = "auto_approved"
    PENDING = "pending"
    APPROVED = "approved"
    MODIFIED = "modified"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    EXECUTED = "executed"
    FAILED = "failed"


class DecisionKind(StrEnum):
    APPROVE = "approve"
    MODIFY = "modify"  # approve with edits
    REJECT = "reject"


class FinalAction(StrEnum):
    """What an escalation tree does when nobody answered after its last repeat."""

    EXPIRE = "expire"
    REJECT = "reject"
    APPROVE = "approve"


class DecisionSource(StrEnum):
    """Who made a decision. Only a human's verdict is evidence about the agent (ARCHITECTURE.md)."""

    HUMAN = "human"  # reviewers' votes
    POLICY = "policy"  # an escalation tree's final action, an expiry, a block
    AUTO = "auto"  # auto-approved: review mode auto or sample, or confidence at the threshold
    AGENT = "agent"  # the agent cancelled it


class Verdict(StrEnum):
    """A spot check's answer about an auto-approval that already went ahead."""

    LOOKS_RIGHT = "looks_right"
    FLAGGED = "flagged"  # should not have happened: an escaped error


class Outcome(StrEnum):
    EXECUTED = "executed"
    FAILED = "failed"


DEFAULT_REASON_TAGS: tuple[str, ...] = (
    "wrong_action",
    "incomplete_context",
    "policy_violation",
    "incorrect_reasoning",
    "edge_case",
)
