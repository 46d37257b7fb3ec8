"""Reads shared by the services and the adapters."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.gate import AgentIdentity, Gate
from core.store.tables import Action, Vote
from core.views import ActionView, action_view


def load_view(s: Session, action_id: str) -> ActionView:
    action = s.get(Action, action_id)
    if action is None:
        raise NotFound(f"no action {action_id!r}")
    votes = list(s.scalars(select(Vote).where(Vote.action_id == action_id)))
    return action_view(action, votes)


def get_action(gate: Gate, action_id: str, agent: AgentIdentity | None = None) -> ActionView:
    """An agent sees only its own actions; another agent's id reads as not found."""
    with gate.db.read() as s:
        action = s.get(Action, action_id)
        if action is None or (agent is not None and action.agent_id != agent.id):
            raise NotFound(f"no action {action_id!r}")
        return load_view(s, action_id)


def pending_ids(gate: Gate, limit: int = 100) -> list[str]:
    with gate.db.read() as s:
        return list(s.scalars(select(Action.id).where(Action.status == "pending").order_by(Action.created_at).limit(limit)))
