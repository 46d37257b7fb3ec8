"""What a stats question may name: the policy's action types, the ones seen in the rollups, and the agents."""
from __future__ import annotations

from sqlalchemy import select

from core.services import Services
from core.store.learning_tables import Rollup
from core.store.tables import Agent


def known(services: Services) -> tuple[list[str], list[str]]:
    """(action types, agent names), sorted. The rollups, not the actions: a few rows per hour, not one per action."""
    in_policy = set(services.policies.current().policy.action_types)
    with services.db.read() as s:
        seen = set(s.scalars(select(Rollup.action_type).distinct()))
        agents = sorted(s.scalars(select(Agent.name)))
    return sorted(in_policy | seen), agents
