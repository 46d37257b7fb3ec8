"""What the outside sees of an action: the intake's response shapes and the CLI's output."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.audit_log import canonical
from core.states import GO_AHEAD
from core.store.tables import Action, Comment, Vote
from core.vocabulary import DecisionKind, DecisionSource, ReviewMode, Risk, Status


class VoteView(BaseModel):
    reviewer: str
    kind: DecisionKind
    revision: int = Field(description="Payload revision voted on; each modify starts a new one.")
    reason_tags: list[str]
    comment: str | None
    ratings: dict[str, int] | None
    patch: list[dict[str, Any]] | None = Field(
        description="RFC 6902 JSON Patch of this vote's edit against the previous revision.")
    text_diff: str | None
    source: str
    at: datetime
    time_to_decision_seconds: float


class DecisionView(BaseModel):
    status: Status = Field(description="auto_approved, approved, modified, rejected, blocked, expired or cancelled.")
    go_ahead: bool = Field(description="True when the agent may act (with final_payload).")
    final_payload: dict[str, Any] | None
    patch: list[dict[str, Any]] | None = Field(description="RFC 6902 JSON Patch from the proposed payload to final_payload.")
    text_diff: str | None
    reason_tags: list[str]
    comment: str | None
    reviewers: list[str]
    source: DecisionSource | None = Field(
        default=None, description="Who decided: human (reviewers), policy (nobody answered: an escalation tree's final "
        "action or an expiry; or a block), auto (auto-approved) or agent (cancelled).")
    decided_at: datetime
    time_to_decision_seconds: float
    revision: int = Field(description="The payload revision decided on.")
    payload_sha256: str | None = Field(
        default=None, description="On a go-ahead: SHA-256 hex of final_payload's canonical JSON (keys sorted, no "
        "whitespace, UTF-8). POST /v1/actions/{id}/execute with it claims the one right to run it.")
    approval_expires_at: datetime | None = Field(
        default=None, description="On a go-ahead with the policy's approval_ttl: unclaimed by then, it expires.")
    execution_claimed_at: datetime | None = Field(default=None, description="When the agent claimed execution.")


class QuorumView(BaseModel):
    required: int
    approvals: list[str] = Field(description="Reviewers whose approval counts toward the current payload revision.")


class OutcomeView(BaseModel):
    status: Status
    result: Any = None
    at: datetime


class CommentView(BaseModel):
    author: str
    text: str
    at: datetime


class ActionView(BaseModel):
    id: str
    action_type: str
    title: str
    summary: str
    status: Status
    review_mode: ReviewMode
    rule: str = Field(description="The policy entry that routed the action.")
    explanation: str
    risk: Risk
    confidence: float
    payload: dict[str, Any] = Field(description="As proposed.")
    current_payload: dict[str, Any] = Field(description="As last edited by a reviewer; what approvals now sign off.")
    revision: int = Field(description="How many times reviewers edited the payload.")
    context: dict[str, Any]
    run_id: str | None
    call_id: str | None
    state: Any = Field(default=None, description="Returned unchanged from the proposal.")
    deadline: datetime | None
    policy_version: str
    created_at: datetime
    quorum: QuorumView
    claimed_by: str | None = Field(default=None, description="A reviewer who said \"I'm on it\".")
    votes: list[VoteView]
    comments: list[CommentView] = []
    decision: DecisionView | None
    outcome: OutcomeView | None


def payload_sha256(payload: Any) -> str:
    """SHA-256 hex of the canonical JSON: keys sorted, no whitespace, UTF-8 (hitl_client has the same)."""
    return hashlib.sha256(canonical(payload).encode()).hexdigest()


def vote_view(v: Vote) -> VoteView:
    return VoteView(
        reviewer=v.reviewer, kind=DecisionKind(v.kind), revision=v.revision, reason_tags=list(v.reason_tags or []),
        comment=v.comment, ratings=v.ratings, patch=v.patch, text_diff=v.text_diff, source=v.source, at=v.created_at,
        time_to_decision_seconds=v.time_to_decision_s,
    )


def action_view(a: Action, votes: list[Vote], comments: Sequence[Comment] = ()) -> ActionView:
    votes = sorted(votes, key=lambda v: (v.created_at, v.id or 0))
    current = [v for v in votes if v.revision == a.revision and v.kind != DecisionKind.REJECT]
    decision = None
    if a.decision is not None and a.decided_at is not None:  # every decision is stored with its time
        approved = a.decision in (Status.APPROVED, Status.MODIFIED)
        counted = current if approved else [v for v in votes if v.kind == DecisionKind.REJECT]
        tags: list[str] = []
        for v in counted:
            tags += [t for t in v.reason_tags or [] if t not in tags]
        notes = [f"{v.reviewer}: {v.comment}" if len(counted) > 1 else v.comment for v in counted if v.comment]
        go_ahead = Status(a.decision) in GO_AHEAD
        decision = DecisionView(
            status=Status(a.decision),
            # An approval that expired unclaimed no longer lets anyone act.
            go_ahead=go_ahead and a.status != Status.EXPIRED,
            final_payload=a.final_payload,
            patch=a.patch,
            text_diff=a.text_diff,
            reason_tags=tags,
            comment="\n".join(notes) or None,
            reviewers=list(a.decided_by or []),
            source=DecisionSource(a.decision_source) if a.decision_source else None,
            decided_at=a.decided_at,
            time_to_decision_seconds=round((a.decided_at - a.created_at).total_seconds(), 3),
            revision=a.revision,
            payload_sha256=payload_sha256(a.final_payload) if go_ahead and a.final_payload is not None else None,
            approval_expires_at=a.approval_expires_at,
            execution_claimed_at=a.execution_claimed_at,
        )
    outcome = None
    if a.outcome_at is not None:
        outcome = OutcomeView(status=Status(a.status), result=a.outcome_result, at=a.outcome_at)
    return ActionView(
        id=a.id, action_type=a.action_type, title=a.title, summary=a.summary, status=Status(a.status),
        review_mode=ReviewMode(a.review_mode), rule=a.rule, explanation=a.route.get("explanation", ""), risk=Risk(a.risk),
        confidence=a.confidence, payload=a.payload, current_payload=a.current_payload, revision=a.revision,
        context=a.context or {}, run_id=a.run_id, call_id=a.call_id,
        state=a.state, deadline=a.deadline, policy_version=a.policy_version, created_at=a.created_at,
        quorum=QuorumView(required=a.approvals_required, approvals=[v.reviewer for v in current]),
        claimed_by=a.claimed_by, votes=[vote_view(v) for v in votes], decision=decision, outcome=outcome,
        comments=[CommentView(author=c.author, text=c.text, at=c.created_at) for c in comments],
    )
