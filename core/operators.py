"""Operator keys: a person's key for the operator endpoints (spot-check verdicts over HTTP).

A key acts as one Slack user, who must be a reviewer of whatever they decide, exactly as in Slack.
It is stored only as a hash, and starts `hitlop_`: the intake refuses it, and the operator
routes refuse an agent's key (different tables).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.access import user_id
from core.errors import InvalidRequest, NotFound
from core.keys import OPERATOR_PREFIX, display_prefix, hash_key, new_key
from core.store.db import Database, affected
from core.store.learning_tables import OperatorKey
from core.store.types import utcnow


@dataclass(frozen=True)
class Operator:
    name: str
    reviewer: str  # the Slack user id the key acts as


def create(db: Database, name: str, reviewer: str) -> tuple[Operator, str]:
    """Returns the operator and the key, which is not stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidRequest("an operator name is 1 to 100 characters", field="name")
    who = user_id(reviewer)
    if who is None:
        raise InvalidRequest(f"{reviewer!r} is not a Slack user id (U… or W…)", field="reviewer")
    key = new_key(OPERATOR_PREFIX)
    try:
        with db.transaction() as s:
            s.add(OperatorKey(name=name, reviewer=who, key_hash=hash_key(key), key_prefix=display_prefix(key),
                              created_at=utcnow()))
    except IntegrityError:
        raise InvalidRequest(f"an operator named {name!r} exists already", field="name") from None
    return Operator(name, who), key


def authenticate(db: Database, key: str) -> Operator | None:
    if not key.startswith(OPERATOR_PREFIX):
        return None
    with db.read() as s:
        row = s.scalar(select(OperatorKey).where(OperatorKey.key_hash == hash_key(key), OperatorKey.revoked_at.is_(None)))
        return Operator(row.name, row.reviewer) if row else None


def revoke(db: Database, name: str) -> None:
    with db.transaction() as s:
        done = s.execute(update(OperatorKey).where(OperatorKey.name == name, OperatorKey.revoked_at.is_(None))
                         .values(revoked_at=utcnow()))
        if affected(done) == 0:
            raise NotFound(f"no active operator named {name!r}")


def list_all(db: Database) -> list[OperatorKey]:
    with db.read() as s:
        return list(s.scalars(select(OperatorKey).order_by(OperatorKey.id)))
