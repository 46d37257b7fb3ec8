"""How a job that carries out an outbox effect says it is done (core/outbox.py)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from core import outbox
from core.effects import Effect
from workers.dispatch import COALESCED, coalescing_key


class Busy(Exception):
    """Another worker holds this job's lease: leave the rows open (if it dies, the relay comes back)."""


@contextmanager
def settling(runtime, kind: Effect, action_id: str, ref: str | int = "") -> Iterator[None]:
    """Around a job's work: the open rows are read first, before the job reads the action, and
    settled when the work ends without an exception. A change committed meanwhile has its own row,
    which stays open. An exception leaves the rows open for RQ's retry or the relay."""
    if kind in COALESCED:
        try:  # from here on a new change queues a new job instead of riding on this one
            runtime.redis.delete(coalescing_key(kind, action_id))
        except redis.RedisError:
            pass
    ids = outbox.open_rows(runtime.services, kind, action_id, str(ref))
    try:
        yield
    except Busy:
        return
    outbox.settle(runtime.services, ids)
