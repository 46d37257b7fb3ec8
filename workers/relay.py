"""The outbox relay: every due outbox row becomes its job again, until the job settles it.

Rows are due at once when the process that committed them could not carry them out (the CLI has
no Redis or Slack), and a grace period later otherwise, in case that process died between its
commit and its enqueue. Every `hitl worker` runs the relay on a thread, a few times a second,
and its reconciler runs it too; rows are taken under SKIP LOCKED, so relays share the work.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from core import outbox
from core.effects import DURABLE, Effect, Owed

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 0.25
KEEP_SETTLED = timedelta(days=1)
NOBODY_CARRIES = timedelta(days=7)  # an open row this old is of a kind no worker here carries out


def relay_once(runtime, limit: int = 200) -> int:
    """Carry out what is due now; returns how many rows. Kinds this process cannot carry out (Slack
    ones without Slack credentials) are left for one that can."""
    dispatcher = runtime.services.dispatcher
    kinds = [k for k in DURABLE if dispatcher.carries(k)]
    total = 0
    while True:
        owed = outbox.take_due(runtime.services, kinds, dispatcher.grace_seconds, limit=limit)
        # The long-poll wake-up is transient, so it has no row; a change whose process could not
        # publish it (the CLI) still wakes the agent now rather than at its waiter's next re-read.
        wakes = [Owed(Effect.ACTION_CHANGED, a, "changed") for a in dict.fromkeys(o.action_id for o in owed)]
        for o in [*owed, *wakes]:
            try:
                dispatcher.carry(o)
            except Exception:
                log.exception("relay could not carry out %s for %s", o.kind.value, o.action_id)
        total += len(owed)
        if len(owed) < limit:
            return total
