"""Gold items: a past decided action with a known answer, shown again to a reviewer as if new.

With each review posted for an action type, a gold item of that type is also posted with the
policy's `gold_rate`. It looks like any review: the proposal as the agent made it, the usual
buttons. Nothing runs from it. The reviewer's answer is compared with the known one, and the
comparison is each reviewer's measured accuracy (core/metrics.py shows it in the stats).

The known answers are the ones people have settled, a day or more ago:
- a human review's decision: approved unmodified, modified or rejected;
- a spot check's verdict on an auto-approval: "looks right", or flagged (it should not have run).
Half the items are drawn from known-bad proposals when there are both kinds, so that accuracy
measures misses (approving what was wrong) as well as false alarms. An answer is right when it
agrees on the one question that matters: may this run as proposed? Modify and Reject both say no.
A reviewer who decided the source action may recognise it: their answer is kept but not counted.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.access import is_reviewer
from core.action_view import QuorumView
from core.effects import Effect
from core.errors import AlreadyDecided, InvalidRequest, NotAuthorised, NotFound
from core.population import wilson
from core.ports import GroupDirectory
from core.queries import ReviewContext, review_context
from core.services import Services
from core.store.db import affected
from core.store.learning_tables import GoldItem, SpotCheck
from core.store.tables import Action, Vote
from core.unit_of_work import unit_of_work
from core.vocabulary import DecisionKind, DecisionSource, ReviewMode, Status, Verdict

PREFIX = "gold_"
MIN_AGE = timedelta(days=1)  # settled, and not the item the reviewer saw this morning
POOL = 200  # the newest candidates of each kind to draw from
ANSWERS = tuple(k.value for k in DecisionKind)
LOW_AT = 0.9  # accuracy confidently below this (Wilson upper bound) is flagged
LOW_MIN = 10  # answers before a flag


def is_gold(item_id: str) -> bool:
    return item_id.startswith(PREFIX)


def _known(s, action_type: str, before: datetime) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(known good, known bad) as (action id, answer, basis), newest first, never shown as gold before.
    Each kind has its own POOL: for a good agent the bad ones are rare and old, and they are the ones
    that measure misses."""
    used = select(GoldItem.action_id)
    kinds = {Status.APPROVED.value: "approve", Status.MODIFIED.value: "modify", Status.REJECTED.value: "reject"}
    verdicts = {Verdict.LOOKS_RIGHT.value: "approve", Verdict.FLAGGED.value: "reject"}

    def newest(decisions: list[str], verdict: str) -> list[tuple[str, str, str]]:
        reviewed = s.execute(
            select(Action.id, Action.decision).where(
                Action.action_type == action_type, Action.decision_source == DecisionSource.HUMAN.value,
                Action.decision.in_(decisions), Action.review_mode != ReviewMode.SHADOW.value,
                Action.decided_at <= before, Action.id.not_in(used))
            .order_by(Action.decided_at.desc()).limit(POOL)).all()
        checked = s.execute(
            select(SpotCheck.action_id, SpotCheck.verdict).where(
                SpotCheck.action_type == action_type, SpotCheck.verdict == verdict, SpotCheck.decided_at <= before,
                SpotCheck.action_id.not_in(used))
            .order_by(SpotCheck.decided_at.desc()).limit(POOL)).all()
        return [(i, kinds[d], "review") for i, d in reviewed] + [(i, verdicts[v], "spot_check") for i, v in checked]

    return (newest([Status.APPROVED.value], Verdict.LOOKS_RIGHT.value),
            newest([Status.MODIFIED.value, Status.REJECTED.value], Verdict.FLAGGED.value))


def maybe_issue(services: Services, action_type: str, channel: str) -> GoldItem | None:
    """After a review of an `action_type` was posted in `channel`: with the type's gold_rate, pick a
    known item of the same type and owe its post. None when not drawn or nothing is known yet."""
    entry, _ = services.policies.current().policy.for_action_type(action_type)
    if entry.gold_rate <= 0 or services.draw() >= entry.gold_rate:
        return None
    with unit_of_work(services) as work:
        s = work.session
        good, bad = _known(s, action_type, work.now - MIN_AGE)
        pool = bad if (bad and (services.draw() < 0.5 or not good)) else good
        if not pool:
            return None
        source, answer, basis = pool[min(len(pool) - 1, int(services.draw() * len(pool)))]
        agent_id = s.scalar(select(Action.agent_id).where(Action.id == source))
        item = GoldItem(id=PREFIX + secrets.token_hex(12), action_id=source, agent_id=agent_id,
                        action_type=action_type, answer=answer, basis=basis, created_at=work.now, channel=channel)
        s.add(item)
        work.log("gold_issued", source, {"gold": item.id, "answer": answer, "basis": basis})
        work.owe(Effect.GOLD_NEEDED, item.id)
    return item


def get(services: Services, gold_id: str) -> GoldItem | None:
    with services.db.read() as s:
        return s.get(GoldItem, gold_id)


def record_posted(services: Services, gold_id: str, channel: str, message_ts: str) -> None:
    with services.db.transaction() as s:
        s.execute(update(GoldItem).where(GoldItem.id == gold_id, GoldItem.posted_at.is_(None))
                  .values(channel=channel, message_ts=message_ts, posted_at=services.clock())
                  .execution_options(synchronize_session=False))


def _deciders(s, source: Action) -> set[str]:
    people = set(s.scalars(select(Vote.reviewer).where(Vote.action_id == source.id)))
    auditor = s.scalar(select(SpotCheck.auditor).where(SpotCheck.action_id == source.id))
    return people | ({auditor} if auditor else set())


def answer(services: Services, gold_id: str, reviewer: str, response: str, reason_tags: list[str],
           groups: GroupDirectory | None) -> GoldItem:
    """The first answer stands, as for a review; the item's message then shows the known answer."""
    if response not in ANSWERS:
        raise InvalidRequest(f"answer {response!r} is not one of {', '.join(ANSWERS)}")
    with unit_of_work(services) as work:
        s = work.session
        item = s.get(GoldItem, gold_id)
        source = s.get(Action, item.action_id) if item is not None else None
        if item is None or source is None:
            raise NotFound(f"no gold item {gold_id!r}")
        if groups is not None and not is_reviewer((source.route or {}).get("reviewers") or {}, reviewer, groups):
            raise NotAuthorised(f"{reviewer} is not a reviewer for {source.action_type}")
        correct = (response == "approve") == (item.answer == "approve")
        own = reviewer in _deciders(s, source)
        done = s.execute(update(GoldItem).where(GoldItem.id == gold_id, GoldItem.response.is_(None))
                         .values(reviewer=reviewer, response=response, reason_tags=list(reason_tags), correct=correct,
                                 own=own, answered_at=work.now)
                         .execution_options(synchronize_session=False))
        if not affected(done):
            s.refresh(item)
            raise AlreadyDecided("answered", [item.reviewer] if item.reviewer else [])
        work.log("gold_answered", source.id, {"gold": gold_id, "by": reviewer, "response": response,
                                              "answer": item.answer, "correct": correct, "own": own})
        work.owe(Effect.GOLD_CHANGED, gold_id)
        s.refresh(item)
    return item


def shown(services: Services, item: GoldItem) -> ReviewContext:
    """The source action as its review looked before anyone decided: under the gold item's id, so
    neither the id nor a decision, vote, outcome or auto-approval gives the answer away."""
    ctx = review_context(services, item.action_id)
    a = ctx.action
    policy = services.policies.current()
    view = a.model_copy(update={
        "id": item.id, "status": Status.PENDING, "current_payload": a.payload, "revision": 0,
        "review_mode": ReviewMode.REVIEW, "created_at": item.created_at, "deadline": None,
        "policy_version": policy.version, "quorum": QuorumView(required=a.quorum.required, approvals=[]),
        "claimed_by": None, "votes": [], "comments": [], "decision": None, "outcome": None})
    route = dict(ctx.route)
    if item.basis == "spot_check":  # it was auto-approved, and its explanation says so
        route["explanation"] = "review mode is review: a human approves first"
    return ReviewContext(action=view, route=route, agent=ctx.agent, reason_tags=ctx.reason_tags, due_at=None)


@dataclass(frozen=True)
class Accuracy:
    reviewer: str
    answered: int  # gold items answered, not counting the ones they had decided themselves
    correct: int
    missed: int  # said approve to a known-bad proposal
    false_alarms: int  # said modify or reject to a known-good one
    low: float  # Wilson 95% interval on the share correct
    high: float

    @property
    def rate(self) -> float:
        return self.correct / self.answered

    @property
    def flagged(self) -> bool:
        return self.answered >= LOW_MIN and self.high < LOW_AT


def accuracy(s, narrow, start: datetime, end: datetime) -> list[Accuracy]:
    """Per reviewer, over gold items answered in [start, end); `narrow` applies the stats' scope."""
    rows = s.execute(narrow(select(GoldItem.reviewer, GoldItem.answer, GoldItem.response, GoldItem.correct)
                            .where(GoldItem.answered_at >= start, GoldItem.answered_at < end,
                                   GoldItem.own.is_(False)))).all()
    by: dict[str, list[tuple[str, str, bool]]] = {}
    for reviewer, known, said, correct in rows:
        by.setdefault(reviewer, []).append((known, said, bool(correct)))
    out = []
    for reviewer, answers in sorted(by.items()):
        n, ok = len(answers), sum(c for _, _, c in answers)
        low, high = wilson(ok, n)
        out.append(Accuracy(reviewer, n, ok, sum(k != "approve" and r == "approve" for k, r, _ in answers),
                            sum(k == "approve" and r != "approve" for k, r, _ in answers), low, high))
    return out
