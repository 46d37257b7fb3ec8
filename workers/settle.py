"""How a job that carries out an outbox effect says it is done (core/outbox.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis

from core import outbox
from core.effects import Effect, Owed
from workers.dispatch import queued_key

T = TypeVar("T")


class NotYet(Exception):
    """The work cannot be done now (another worker holds its lease, the policy names no channel):
    the rows stay open, and the relay comes back to them, backing off."""


def settled(runtime, kind: Effect, action_id: str, work: Callable[[], T], ref: str | int = "") -> T | str:
    """Run a job's `work` and settle the rows it carried out. The open rows are read first, before
    the work reads the action: a change committed meanwhile has its own row, which stays open. An
    exception leaves the rows open for RQ's retry or the relay; NotYet does so quietly, and its
    message is the job's result."""
    try:  # from here on a new change (or the relay) queues a new job instead of riding on this one
        runtime.redis.delete(queued_key(Owed(kind, action_id, str(ref))))
    except redis.RedisError:
        pass
    ids = outbox.open_rows(runtime.services, kind, action_id, str(ref))
    try:
        result = work()
    except NotYet as exc:
        return str(exc)
    outbox.settle(runtime.services, ids)
    return result
