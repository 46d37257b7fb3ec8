"""What a committed change owes the outside world, named once for core, the outbox and the adapters."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Effect(StrEnum):
    # Durable: written to the outbox in the change's own transaction, settled by the job that carries it out.
    REVIEW_NEEDED = "review_needed"  # a pending action: post its review message
    REVIEW_CHANGED = "review_changed"  # votes, a claim, an escalation or a decision: bring the message up to date
    DIFF_TO_POST = "diff_to_post"  # a reviewer's edit: reply in the review's thread with the diff (ref: reviewer)
    ESCALATED = "escalated"  # tell an escalation's targets (ref: the escalation's seq)
    SPOT_CHECK_NEEDED = "spot_check_needed"  # a sampled auto-approval: post it for a spot check
    SPOT_CHECK_CHANGED = "spot_check_changed"  # a spot-check verdict: bring that message up to date
    CALLBACK_OWED = "callback_owed"  # a decision to POST to the agent's callback_url
    DRIFT_DETECTED = "drift_detected"  # alert the policy's alerts_channel (action_id: drift-<alarm id>)
    GOLD_NEEDED = "gold_needed"  # post a gold item (action_id: its gold_ id) beside the review that drew it
    GOLD_CHANGED = "gold_changed"  # a gold item answered: show the known answer in its message
    # Transient: carried out after the commit only. Nothing is lost with them: long-polls re-read the
    # database every few seconds, and the reconciler rebuilds timers from `actions.timer_at`.
    ACTION_CHANGED = "action_changed"  # wake the agent's long-poll (ref: the new status)
    TIMER_SET = "timer_set"  # make sure the timer wheel has a slot for `at`


TRANSIENT = frozenset({Effect.ACTION_CHANGED, Effect.TIMER_SET})
DURABLE = frozenset(Effect) - TRANSIENT


@dataclass(frozen=True)
class Owed:
    """One effect of one change. `ref` tells effects of one kind on one action apart (a seq, a reviewer)."""

    kind: Effect
    action_id: str
    ref: str = ""
    at: datetime | None = None  # TIMER_SET: when
    timer_seq: int | None = None  # TIMER_SET: the timer's version
    outbox_id: int | None = field(default=None, compare=False)  # set once written to the outbox

    @property
    def durable(self) -> bool:
        return self.kind in DURABLE
