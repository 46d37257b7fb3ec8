"""Serialise writers on one action without a read-modify-write race: the row lock.

(Not a reviewer's *claim*, "I'm on it", which is core/reviews.py's.)

A conditional UPDATE takes PostgreSQL's row lock (and SQLite's database write lock) and
re-checks the status against the newest committed row, so of two racing deciders exactly one
gets the row while it is still in an allowed status; the other sees it changed.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.errors import AlreadyDecided, NotFound
from core.store.db import affected
from core.store.tables import Action


def lock_action(s: Session, action_id: str, from_statuses: Iterable[str]) -> Action | None:
    done = s.execute(
        update(Action)
        .where(Action.id == action_id, Action.status.in_([str(x) for x in from_statuses]))
        .values(lock_version=Action.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    if affected(done) == 0:
        return None
    return s.get_one(Action, action_id, populate_existing=True)  # the update above just matched it


def lock_or_explain(s: Session, action_id: str, from_statuses: Iterable[str], agent_id: int | None = None) -> Action:
    """Like lock_action, but raises NotFound / AlreadyDecided for the caller to report."""
    action = lock_action(s, action_id, from_statuses)
    if action is not None and (agent_id is None or action.agent_id == agent_id):
        return action
    existing = s.get(Action, action_id)
    if existing is None or (agent_id is not None and existing.agent_id != agent_id):
        raise NotFound(f"no action {action_id!r}")
    raise AlreadyDecided(existing.decision or existing.status, list(existing.decided_by or []))
