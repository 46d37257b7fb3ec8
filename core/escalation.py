"""Escalation trees and deadlines: what happens to a pending action when nobody answers.

The semantics are PagerDuty's escalation policies. Level 0's targets are asked when the action is
created; after a level's timeout the next level is asked; after the last level the tree starts
again, `repeat` more times; after that the tree's final action runs (expire, reject, or approve).
A Claim acknowledges: escalation pauses, and if no decision follows within `ack_timeout` the claim
lapses and the tree restarts from level 0. A decision ends it. The agent's own deadline expires the
action whatever the tree says.

One timer per action is kept in the database (`timer_at`, versioned by `timer_seq`). The workers
run them in batches: RQ's scheduler releases a `fire_timers` job for each second that has timers,
and the reconciler enqueues one for overdue ones; both call `fire_due`, which takes every due
action under a row lock and re-checks its state and time (`fire` does the same for one action).
So a timer that runs twice, late, early or after a decision does nothing wrong.

After a go-ahead the same timer watches the approval's lifetime (`approval_ttl`, core/execution.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import execution
from core.effects import Effect
from core.lifecycle import end
from core.policy.model import EscalationTree
from core.services import Services
from core.states import GO_AHEAD, TIMED
from core.store.db import affected
from core.store.tables import Action, Escalation
from core.unit_of_work import Work, unit_of_work
from core.vocabulary import FinalAction, Status

TIMED_STATUSES = sorted(s.value for s in TIMED)
FINAL_STATUS = {FinalAction.EXPIRE: Status.EXPIRED, FinalAction.REJECT: Status.REJECTED,
                FinalAction.APPROVE: Status.APPROVED}


def tree_of(route: dict[str, Any] | None) -> EscalationTree | None:
    """The tree snapshotted on the action when it was created (policy edits never reach it)."""
    snapshot = (route or {}).get("escalation")
    return EscalationTree.model_validate(snapshot) if snapshot else None


def _earliest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return min(present) if present else None


def first_timer(tree: EscalationTree | None, created_at: datetime, deadline: datetime | None) -> datetime | None:
    step = created_at + timedelta(seconds=tree.levels[0].timeout) if tree else None
    return _earliest(step, deadline)


def next_step(tree: EscalationTree, level: int, round_: int) -> tuple[int, int] | None:
    """The (level, round) after this one, or None when the tree is exhausted."""
    if level + 1 < len(tree.levels):
        return level + 1, round_
    if round_ < tree.repeat:
        return 0, round_ + 1
    return None


@dataclass(frozen=True)
class Fired:
    """What one call of `fire` did. `kind` is none, early, escalated, ack_timeout, final or deadline."""

    kind: str
    status: Status | None = None  # set when the action ended
    next_at: datetime | None = None  # the new timer (for `early`: the unchanged one)
    timer_seq: int | None = None
    escalation_seq: int | None = None  # an Escalation whose targets must be told


def fire(services: Services, action_id: str, timer_seq: int) -> Fired:
    """Run one action's timer if it is due and still the current one; otherwise do nothing."""
    with unit_of_work(services) as work:
        s, now = work.session, work.now
        row = s.execute(select(Action.status, Action.timer_seq, Action.timer_at).where(Action.id == action_id)).first()
        if row is None or row.status not in TIMED or row.timer_seq != timer_seq or row.timer_at is None:
            return Fired("none")
        if row.timer_at > now:
            return Fired("early", next_at=row.timer_at, timer_seq=timer_seq)
        # Take the row; a second copy of this timer (or a decision) racing us finds timer_seq moved on.
        taken = s.execute(
            update(Action)
            .where(Action.id == action_id, Action.status.in_(TIMED_STATUSES), Action.timer_seq == timer_seq)
            .values(timer_seq=Action.timer_seq + 1, lock_version=Action.lock_version + 1)
            .execution_options(synchronize_session=False))
        if affected(taken) == 0:
            return Fired("none")
        action = s.get_one(Action, action_id, populate_existing=True)  # the update above just matched it
        fired = _run(work, action, _last_seqs(s, [action_id]).get(action_id, 0) + 1)
        _owe(work, action, fired)
    return fired


def fire_due(services: Services, limit: int = 200) -> list[tuple[str, Fired]]:
    """Run every timer that is due, up to `limit`, in one transaction (one commit, one audit append).
    Rows are locked as they are read and rows another worker holds are skipped (PostgreSQL), so
    workers firing at once share the work; SQLite's single writer serialises them anyway."""
    results: list[tuple[str, Fired]] = []
    with unit_of_work(services) as work:
        s = work.session
        query = (select(Action).where(Action.status.in_(TIMED_STATUSES), Action.timer_at.is_not(None),
                                      Action.timer_at <= work.now).order_by(Action.timer_at).limit(limit))
        if not services.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        actions = list(s.scalars(query))
        if not actions:
            return []
        last = _last_seqs(s, [a.id for a in actions])
        for action in actions:
            action.timer_seq += 1
            action.lock_version += 1
            fired = _run(work, action, last.get(action.id, 0) + 1)
            _owe(work, action, fired)
            results.append((action.id, fired))
    return results


def _last_seqs(s: Session, action_ids: list[str]) -> dict[str, int]:
    return dict(s.execute(select(Escalation.action_id, func.max(Escalation.seq))
                          .where(Escalation.action_id.in_(action_ids)).group_by(Escalation.action_id)).all())


def _run(work: Work, action: Action, seq: int) -> Fired:
    """Decide what the due timer means and change the (locked) action accordingly."""
    now = work.now
    due = action.timer_at
    if due is None:  # both callers select only actions with a timer; without one nothing is due
        return Fired("none")
    if Status(action.status) in GO_AHEAD:
        return _approval_timer(work, action)
    tree = tree_of(action.route)
    if action.deadline is not None and now >= action.deadline:
        end(work, action, Status.EXPIRED, "policy", {"reason": "the agent's deadline passed"})
        _record(work, action, seq, "deadline", due, [], True)
        action.timer_at = None
        return Fired("deadline", status=Status.EXPIRED)
    if tree is None:  # a deadline is the only timer and it is not due yet: wait for it
        action.timer_at = action.deadline
        return Fired("none", next_at=action.timer_at, timer_seq=action.timer_seq)

    if action.claimed_by:
        # The claim was not followed by a decision in time: it lapses and the tree starts over.
        data = {"claimed_by": action.claimed_by, "claimed_at": action.claimed_at.isoformat() if action.claimed_at else None}
        action.claimed_by, action.claimed_at = None, None
        action.esc_level, action.esc_round = 0, 0
        kind = "ack_timeout"
    else:
        step = next_step(tree, action.esc_level, action.esc_round)
        if step is None:
            return _final(work, action, tree, seq, due)
        action.esc_level, action.esc_round = step
        kind, data = "escalated", {}
    level = tree.levels[action.esc_level]
    _record(work, action, seq, kind, due, list(level.targets), False, data)
    action.timer_at = _earliest(now + timedelta(seconds=level.timeout), action.deadline)
    return Fired(kind, next_at=action.timer_at, timer_seq=action.timer_seq, escalation_seq=seq)


def _approval_timer(work: Work, action: Action) -> Fired:
    """A go-ahead's timer: its approval_ttl. Claimed, or already run, it has nothing left to do."""
    if action.execution_claimed_at is not None or action.approval_expires_at is None:
        action.timer_at = None
        return Fired("none")
    if not execution.approval_lapsed(action, work.now):
        action.timer_at = action.approval_expires_at
        return Fired("none", next_at=action.timer_at, timer_seq=action.timer_seq)
    execution.expire_approval(work, action)
    return Fired("approval_expired", status=Status.EXPIRED)


def _final(work: Work, action: Action, tree: EscalationTree, seq: int, due: datetime) -> Fired:
    final = tree.final_action
    if final is FinalAction.APPROVE and action.risk in ("high", "critical"):
        final = FinalAction.EXPIRE  # fail closed: the agent raised the risk after the policy allowed approval
    status = FINAL_STATUS[final]
    rounds = tree.repeat + 1
    if status is Status.APPROVED:
        action.final_payload = action.current_payload
    action.timer_at = None  # before `end`, which sets the approval's own timer on an approve
    end(work, action, status, "policy",
        {"reason": f"nobody answered after {len(tree.levels)} level(s) × {rounds} round(s)", "final_action": final.value})
    _record(work, action, seq, "final", due, [], True, {"final_action": final.value})
    return Fired("final", status=status)


def _record(work: Work, action: Action, seq: int, kind: str, due: datetime, targets: list[str],
            notified: bool, data: dict | None = None) -> None:
    work.session.add(Escalation(action_id=action.id, seq=seq, kind=kind, level=action.esc_level, round=action.esc_round,
                                targets=targets, due_at=due, fired_at=work.now, notified_at=work.now if notified else None))
    work.log(kind, action.id, {"seq": seq, "level": action.esc_level, "round": action.esc_round,
                               "targets": targets, "due_at": due.isoformat(), **(data or {})})


def _owe(work: Work, action: Action, fired: Fired) -> None:
    """What a fired timer owes: the review message and the agent (a decision already did, in `end`),
    the next timer, the escalation's targets."""
    if fired.kind in ("escalated", "ack_timeout"):
        work.action_changed(action)
    if fired.next_at is not None and fired.timer_seq is not None:
        work.timer(action.id, fired.timer_seq, fired.next_at)
    if fired.escalation_seq is not None:
        work.owe(Effect.ESCALATED, action.id, fired.escalation_seq)


def acknowledge(action: Action, now: datetime) -> datetime | None:
    """A Claim inside the caller's unit of work: pause the tree until the acknowledgement times out."""
    tree = tree_of(action.route)
    if tree is None:
        return None
    action.timer_at = _earliest(now + timedelta(seconds=tree.ack_timeout), action.deadline)
    action.timer_seq += 1
    return action.timer_at


# ---- what the reconciler and the review surface read ----

@dataclass(frozen=True)
class Timer:
    action_id: str
    timer_seq: int
    at: datetime


def timers_due(services: Services, before: datetime, limit: int = 5000) -> list[Timer]:
    """Actions whose timer falls before `before` (overdue ones included), soonest first: pending
    ones, and go-aheads whose approval_ttl runs."""
    with services.db.read() as s:
        rows = s.execute(select(Action.id, Action.timer_seq, Action.timer_at)
                         .where(Action.status.in_(TIMED_STATUSES), Action.timer_at.is_not(None),
                                Action.timer_at <= before)
                         .order_by(Action.timer_at).limit(limit))
        return [Timer(r.id, r.timer_seq, r.timer_at) for r in rows]


def get(services: Services, action_id: str, seq: int) -> Escalation | None:
    with services.db.read() as s:
        return s.scalar(select(Escalation).where(Escalation.action_id == action_id, Escalation.seq == seq))


def mark_notified(services: Services, action_id: str, seq: int) -> None:
    with services.db.transaction() as s:
        s.execute(update(Escalation).where(Escalation.action_id == action_id, Escalation.seq == seq,
                                           Escalation.notified_at.is_(None))
                  .values(notified_at=services.clock()).execution_options(synchronize_session=False))
