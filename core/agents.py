"""Agent registration and authentication by API key."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidRequest, NotFound
from core.keys import display_prefix, hash_key, new_key
from core.services import AgentIdentity
from core.store.db import Database, affected
from core.store.tables import Agent
from core.store.types import utcnow


def create_agent(db: Database, name: str, action_types: list[str] | None = None) -> tuple[AgentIdentity, str]:
    """Returns the identity and the key. The key is not stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidRequest("an agent name is 1 to 100 characters", field="name")
    key = new_key()
    try:
        with db.transaction() as s:
            agent = Agent(name=name, key_hash=hash_key(key), key_prefix=display_prefix(key),
                          action_types=sorted(set(action_types)) if action_types else None, created_at=utcnow())
            s.add(agent)
            s.flush()
            ident = _identity(agent)
    except IntegrityError:
        raise InvalidRequest(f"an agent named {name!r} exists already", field="name") from None
    return ident, key


def authenticate(db: Database, key: str) -> AgentIdentity | None:
    if not key:
        return None
    with db.read() as s:
        agent = s.scalar(select(Agent).where(Agent.key_hash == hash_key(key), Agent.revoked_at.is_(None)))
        return _identity(agent) if agent else None


def revoke_agent(db: Database, name: str) -> None:
    with db.transaction() as s:
        done = s.execute(update(Agent).where(Agent.name == name, Agent.revoked_at.is_(None)).values(revoked_at=utcnow()))
        if affected(done) == 0:
            raise NotFound(f"no active agent named {name!r}")


def rotate_key(db: Database, name: str) -> str:
    """A new key for an existing, active agent; the old key stops working at once."""
    key = new_key()
    with db.transaction() as s:
        done = s.execute(update(Agent).where(Agent.name == name, Agent.revoked_at.is_(None))
                         .values(key_hash=hash_key(key), key_prefix=display_prefix(key)))
        if affected(done) == 0:
            raise NotFound(f"no active agent named {name!r}")
    return key


def list_agents(db: Database) -> list[Agent]:
    with db.read() as s:
        return list(s.scalars(select(Agent).order_by(Agent.id)))


def _identity(agent: Agent) -> AgentIdentity:
    return AgentIdentity(id=agent.id, name=agent.name,
                         action_types=tuple(agent.action_types) if agent.action_types else None)
