"""Reads shared by the services and the adapters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.action_view import ActionView, action_view
from core.errors import NotFound
from core.services import AgentIdentity, Services
from core.store.tables import Action, Agent, Comment, Vote


def load_view(s: Session, action_id: str) -> ActionView:
    action = s.get(Action, action_id)
    if action is None:
        raise NotFound(f"no action {action_id!r}")
    votes = list(s.scalars(select(Vote).where(Vote.action_id == action_id)))
    comments = list(s.scalars(select(Comment).where(Comment.action_id == action_id).order_by(Comment.id)))
    return action_view(action, votes, comments)


def get_action(services: Services, action_id: str, agent: AgentIdentity | None = None) -> ActionView:
    """An agent sees only its own actions; another agent's id reads as not found."""
    with services.db.read() as s:
        action = s.get(Action, action_id)
        if action is None or (agent is not None and action.agent_id != agent.id):
            raise NotFound(f"no action {action_id!r}")
        return load_view(s, action_id)


def pending_ids(services: Services, limit: int = 100) -> list[str]:
    with services.db.read() as s:
        return list(s.scalars(select(Action.id).where(Action.status == "pending").order_by(Action.created_at).limit(limit)))


@dataclass(frozen=True)
class EscalationState:
    """Where a pending action is in its escalation tree (levels and rounds counted from 1 for people)."""

    level: int
    levels: int
    round: int
    rounds: int
    targets: tuple[str, ...]
    final_action: str
    paused: bool  # claimed: the tree waits for the acknowledgement timeout


@dataclass(frozen=True)
class ReviewContext:
    """What a review surface shows: the action, its route snapshot, the agent's name, the tag taxonomy."""

    action: ActionView
    route: dict
    agent: str
    reason_tags: tuple[str, ...]
    due_at: datetime | None  # the next escalation step, the claim's acknowledgement timeout, or the agent's deadline
    escalation: EscalationState | None = None


def review_context(services: Services, action_id: str) -> ReviewContext:
    with services.db.read() as s:
        row = s.get(Action, action_id)
        if row is None:
            raise NotFound(f"no action {action_id!r}")
        view = load_view(s, action_id)
        agent = s.get(Agent, row.agent_id)
    route = row.route or {}
    tree = route.get("escalation") or None
    state = None
    if tree and row.status == "pending":
        level = tree["levels"][min(row.esc_level, len(tree["levels"]) - 1)]
        state = EscalationState(level=row.esc_level + 1, levels=len(tree["levels"]), round=row.esc_round + 1,
                                rounds=tree.get("repeat", 0) + 1, targets=tuple(level["targets"]),
                                final_action=tree.get("final_action", "expire"), paused=bool(row.claimed_by))
    return ReviewContext(action=view, route=route, agent=agent.name if agent else "?",
                         reason_tags=services.policies.current().policy.reason_tags,
                         due_at=row.timer_at if row.status == "pending" else None, escalation=state)
