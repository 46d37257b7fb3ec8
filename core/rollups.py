"""Incremental /hitl-stats rollups: hourly and daily tallies kept in the same transaction as the work.

Why: every figure used to be computed from the window's raw rows, ten periods at a time, which grew
linearly with history (7.6 s at a million decisions). A tally per hour and per UTC day, per agent
and action type, makes a window of any length a few hundred row reads.

How it stays true:
- `proposed`, `voted` and `decided` stage a `Tally` in the session; the unit of work folds the
  staged tallies just before its commit into `stat_rollups` in key order, so concurrent transactions lock rollup rows
  in the same order and never deadlock, and a rolled-back decision leaves no count behind.
- `rebuild` recomputes every row from actions and votes with the same count_* functions (for the
  migration that introduced the table, and for `hitl db rebuild-rollups`).
- What a tally cannot give exactly (percentiles, medians) metrics.py recomputes from the raw rows
  of the window a manager asked about, up to EXACT_LIMIT rows; beyond that, and for the older
  sparkline periods, it reads the histograms here, within 2.5%.
"""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Text, and_, cast, delete, func, insert, or_, select, text
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from core.policy.audit_draw import stratum
from core.store.learning_tables import Rollup
from core.store.tables import Action, Vote
from core.store.types import JsonType
from core.ttd_histogram import ttd_bucket
from core.vocabulary import DecisionSource, ReviewMode, Status

HUMAN = (Status.APPROVED.value, Status.MODIFIED.value, Status.REJECTED.value)
GRAINS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
FIELD_SEP = "\x1f"
_STAGED = "hitl_rollups"
_COUNTS = ("proposed", "auto_approved", "blocked", "approved", "modified", "rejected", "policy_approved",
           "policy_rejected", "expired", "shadow_decided", "shadow_agreed", "multi_voted", "multi_agreed", "votes")
_MAPS = ("tags", "fields", "field_sets", "ttd", "calibration", "strata", "reviewers")
COUNTS, MAPS = _COUNTS, _MAPS  # the columns a tally adds to: core/insert_plan.py writes the same upsert by hand
STAT_MAPS = _MAPS[:-1]  # what a window's headline needs: all but the (large) per-reviewer map
_DECISION_COLUMNS = (Action.id, Action.agent_id, Action.action_type, Action.created_at, Action.decided_at,
                     Action.decision, Action.decision_source, Action.review_mode, Action.patch, Action.confidence,
                     Action.route)
CONFIDENCE_BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class Tally:
    proposed: int = 0
    auto_approved: int = 0
    blocked: int = 0
    approved: int = 0
    modified: int = 0
    rejected: int = 0
    policy_approved: int = 0  # an escalation tree's final approve: nobody answered
    policy_rejected: int = 0  # its final reject
    expired: int = 0  # nobody answered in time (final expire, or the agent's deadline)
    shadow_decided: int = 0
    shadow_agreed: int = 0
    multi_voted: int = 0  # revisions of decided actions that got two or more votes
    multi_agreed: int = 0  # of those, all votes the same kind
    votes: int = 0  # votes cast (counted when cast, like `reviewers`)
    tags: Counter = field(default_factory=Counter)
    fields: Counter = field(default_factory=Counter)
    field_sets: Counter = field(default_factory=Counter)
    ttd: Counter = field(default_factory=Counter)
    calibration: Counter = field(default_factory=Counter)  # "n:<bucket>", "sum:<bucket>", "ok:<bucket>"
    strata: Counter = field(default_factory=Counter)  # auto-approvals by their spot-check probability
    reviewers: Counter = field(default_factory=Counter)  # votes cast: "<who>", "<who>\x1fok", "<who>\x1f<ttd bucket>"

    def add(self, other: Tally) -> Tally:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _MAPS:
            getattr(self, name).update(getattr(other, name))
        return self

    def add_row(self, row, sign: int = 1, maps: tuple[str, ...] = _MAPS) -> None:
        """Add (or with sign -1 take away) a row from `read` (its maps still JSON text) without building a Tally for it."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + sign * getattr(row, name))
        for name in maps:
            raw = getattr(row, name)
            if raw == "{}":
                continue
            target = getattr(self, name)
            get = target.get  # plain dict.get: Counter's __missing__ is slow in this, the hottest loop
            for k, v in orjson.loads(raw).items():
                target[k] = get(k, 0) + sign * v

    @property
    def reviewed(self) -> int:
        return self.approved + self.modified + self.rejected

    def columns(self) -> dict:
        return {**{n: getattr(self, n) for n in _COUNTS}, **{n: dict(getattr(self, n)) for n in _MAPS}}


def modified_fields(patch) -> frozenset[str]:
    """Top-level payload fields a JSON Patch touched (an RFC 6901 path's first segment, unescaped)."""
    return frozenset(op["path"].split("/")[1].replace("~1", "/").replace("~0", "~") for op in patch or []
                     if op.get("path", "").count("/") >= 1)


# The count_* functions add one event to a tally in place: the commit hook and `rebuild` both use
# them, so live counts and rebuilt ones cannot drift apart.

def is_human(action: Action | Row) -> bool:
    """A person decided it: only such a decision is a review, and evidence about the agent."""
    return action.decision_source == DecisionSource.HUMAN.value and action.decision in HUMAN


def counts_decision(action: Action | Row) -> bool:
    """Decided after arrival by a person or by the policy: counted at decided_at. (Auto-approvals and
    blocks count with the proposal; an agent's cancel counts nowhere.)"""
    return action.decided_at is not None and action.decision_source in (DecisionSource.HUMAN.value,
                                                                         DecisionSource.POLICY.value) \
        and action.decision != Status.BLOCKED.value


def count_proposal(t: Tally, action: Action | Row) -> Tally:
    """A proposal, counted at its created_at."""
    t.proposed += 1
    t.auto_approved += action.decision == Status.AUTO_APPROVED.value
    t.blocked += action.decision == Status.BLOCKED.value
    p = (action.route or {}).get("audit_p") if action.decision == Status.AUTO_APPROVED.value else None
    if p is not None:  # routed since spot checks watch every auto-approval (migration 0012)
        t.strata[stratum(p)] += 1
    return t


def confidence_bucket(confidence: float) -> int:
    """Which of review_quality.BUCKETS holds it; the last bucket is closed and holds 1.0."""
    for i, high in enumerate(CONFIDENCE_BUCKETS[1:-1]):
        if confidence < high:
            return i
    return len(CONFIDENCE_BUCKETS) - 2


def count_decision(t: Tally, action: Action | Row, votes: Iterable[tuple[int, str, list[str] | None]]) -> Tally:
    """A decision after arrival, counted at its decided_at. A human one (approved, modified, rejected) is
    a review; the policy's (a final action, an expiry) counts only as what it was. `votes`: the
    action's votes as (revision, kind, reason tags)."""
    if action.decision_source == DecisionSource.POLICY.value:
        if action.decision == Status.APPROVED.value:
            t.policy_approved += 1
        elif action.decision == Status.REJECTED.value:
            t.policy_rejected += 1
        elif action.decision == Status.EXPIRED.value:
            t.expired += 1
        return t
    decision = action.decision
    if decision is None or not is_human(action):
        return t
    approved = decision == Status.APPROVED.value
    setattr(t, decision, getattr(t, decision) + 1)
    if action.review_mode == ReviewMode.SHADOW.value:
        t.shadow_decided += 1
        t.shadow_agreed += approved
    kinds: dict[int, list[str]] = {}
    for revision, kind, tags in votes:
        for tag in tags or ():
            t.tags[tag] += 1
        kinds.setdefault(revision, []).append(kind)
    for ks in kinds.values():
        if len(ks) > 1:
            t.multi_voted += 1
            t.multi_agreed += len(set(ks)) == 1
    bucket = confidence_bucket(action.confidence)
    t.calibration[f"n:{bucket}"] += 1
    t.calibration[f"sum:{bucket}"] += action.confidence  # type: ignore[assignment]  # Counter adds floats; typeshed says int
    t.calibration[f"ok:{bucket}"] += approved
    if action.decision == Status.MODIFIED.value and action.patch:
        touched = modified_fields(action.patch)
        for f in touched:
            t.fields[f] += 1
        t.field_sets[FIELD_SEP.join(sorted(touched))] += 1
    if action.decided_at is not None:
        t.ttd[ttd_bucket((action.decided_at - action.created_at).total_seconds())] += 1
    return t


def count_vote(t: Tally, reviewer: str, kind: str, seconds: float) -> Tally:
    """A vote, counted at its created_at: reviewer load for windows too long to read votes one by one."""
    t.votes += 1
    t.reviewers[reviewer] += 1
    t.reviewers[f"{reviewer}{FIELD_SEP}ok"] += kind == "approve"
    t.reviewers[f"{reviewer}{FIELD_SEP}{ttd_bucket(seconds)}"] += 1
    return t


def reviewer_sums(reviewers: Counter) -> dict[str, tuple[int, int, Counter]]:
    """Back from the map: reviewer -> (votes, approvals, time-to-vote histogram)."""
    out: dict[str, tuple[int, int, Counter]] = {}
    for key, n in reviewers.items():
        who, _, what = key.partition(FIELD_SEP)
        votes, approvals, histogram = out.setdefault(who, (0, 0, Counter()))
        if not what:
            out[who] = (votes + n, approvals, histogram)
        elif what == "ok":
            out[who] = (votes, approvals + n, histogram)
        else:
            histogram[what] += n
    return {who: sums for who, sums in out.items() if sums[0] > 0}


def floor_to(moment: datetime, grain: str) -> datetime:
    moment = moment.astimezone(UTC)
    if grain == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def _stage(s: Session | dict, action: Action, at: datetime, tally: Tally) -> None:
    """`s`: the session whose commit folds the tally, or a dict a session-less write folds itself."""
    staged: dict = s if isinstance(s, dict) else s.info.setdefault(_STAGED, {})
    for grain in GRAINS:
        key = (grain, floor_to(at, grain), action.agent_id, action.action_type)
        staged.setdefault(key, Tally()).add(tally)


def proposed(s: Session | dict, action: Action) -> None:
    """Count a new proposal (and, when policy decided it on arrival, its decision) at commit."""
    _stage(s, action, action.created_at, count_proposal(Tally(), action))


def voted(s: Session, action: Action, vote: Vote) -> None:
    """Count a reviewer's vote at commit."""
    _stage(s, action, vote.created_at, count_vote(Tally(), vote.reviewer, vote.kind, vote.time_to_decision_s))


def decided(s: Session, action: Action, votes: Iterable[tuple[int, str, list[str] | None]] | None = None) -> None:
    """Count a decision at commit. `votes`: (revision, kind, reason tags) of the action's votes, read here when not given."""
    if not counts_decision(action) or action.decided_at is None:  # (counts_decision checks it; mypy cannot see it)
        return
    if votes is None:
        s.flush()  # the deciding vote may still be pending in the session
        votes = s.execute(select(Vote.revision, Vote.kind, Vote.reason_tags).where(Vote.action_id == action.id))
    _stage(s, action, action.decided_at, count_decision(Tally(), action, votes))


def fold_staged(s: Session) -> None:
    """Called by the unit of work just before its commit (core/unit_of_work.py)."""
    staged: dict = s.info.pop(_STAGED, None)
    if staged:
        fold(s, staged)


def fold(s: Session, tallies: dict) -> None:
    """Add tallies to their rollup rows in one statement. Counts add in SQL and maps merge with
    hitl_json_add (a SQL function on PostgreSQL, a Python one registered on SQLite connections), so
    a row is locked only from this statement to the commit that follows it. Rows go in key order:
    every writer locks them in the same order and none deadlock."""
    s.connection().execute(upsert(s.get_bind().dialect.name), fold_rows(tallies))


def fold_rows(tallies: dict) -> list[dict]:
    return [{"grain": k[0], "start": k[1], "agent_id": k[2], "action_type": k[3], **tallies[k].columns()}
            for k in sorted(tallies, key=lambda k: (k[0], k[1], k[2], k[3]))]


@functools.cache
def upsert(dialect: str):
    """The one upsert statement, built once per dialect so SQLAlchemy compiles it once."""
    table = Rollup.__table__
    keys = [table.c.grain, table.c.start, table.c.agent_id, table.c.action_type]

    def merged(new) -> dict:
        return {**{n: table.c[n] + new[n] for n in _COUNTS},
                **{n: func.hitl_json_add(table.c[n], new[n], type_=JsonType) for n in _MAPS}}

    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg_stmt = postgresql.insert(Rollup)
        return pg_stmt.on_conflict_do_update(index_elements=keys, set_=merged(pg_stmt.excluded))
    from sqlalchemy.dialects import sqlite

    lite_stmt = sqlite.insert(Rollup)
    return lite_stmt.on_conflict_do_update(index_elements=keys, set_=merged(lite_stmt.excluded))


def rebuild(s: Session, page: int = 5000, progress=None) -> int:
    """Recompute every rollup row from the actions and votes, inside the caller's transaction.
    Returns the number of actions read."""
    s.info.pop(_STAGED, None)
    if s.get_bind().dialect.name == "postgresql":
        # Decisions committing meanwhile wait at their fold (it writes this table) until the rebuild
        # commits, then add to the rebuilt rows: none is counted twice or missed. SQLite writers are serial.
        s.execute(text("SET LOCAL statement_timeout = 0"))  # an operator's long job: minutes at 1M actions
        s.execute(text("SET LOCAL lock_timeout = 0"))
        s.execute(text("LOCK TABLE stat_rollups IN EXCLUSIVE MODE"))
    s.execute(delete(Rollup))
    totals: dict = {}
    after, seen = "", 0
    while True:
        actions = s.execute(select(*_DECISION_COLUMNS).where(Action.id > after).order_by(Action.id).limit(page)).all()
        if not actions:
            break
        votes: dict[str, list] = {}
        ids = [a.id for a in actions]
        for chunk in range(0, len(ids), 1000):  # bound the IN list
            for action_id, *vote in s.execute(select(Vote.action_id, Vote.revision, Vote.kind, Vote.reason_tags,
                                                     Vote.reviewer, Vote.created_at, Vote.time_to_decision_s)
                                              .where(Vote.action_id.in_(ids[chunk:chunk + 1000]))):
                votes.setdefault(action_id, []).append(vote)
        def at(moment: datetime, a) -> Tally:
            key = (moment.replace(minute=0, second=0, microsecond=0), a.agent_id, a.action_type)  # already UTC
            return totals.get(key) or totals.setdefault(key, Tally())

        for a in actions:
            count_proposal(at(a.created_at, a), a)
            for _, kind, _, reviewer, cast_at, seconds in votes.get(a.id, ()):
                count_vote(at(cast_at, a), reviewer, kind, seconds)
            if counts_decision(a):
                count_decision(at(a.decided_at, a), a, [v[:3] for v in votes.get(a.id, ())])
        seen += len(actions)
        after = actions[-1].id
        if progress:
            progress(seen)
    days: dict = {}
    for (start, agent_id, action_type), tally in totals.items():  # a day is the sum of its hours
        days.setdefault((floor_to(start, "day"), agent_id, action_type), Tally()).add(tally)
    rows = [{"grain": grain, "start": k[0], "agent_id": k[1], "action_type": k[2], **t.columns()}
            for grain, sums in (("day", days), ("hour", totals)) for k, t in sorted(sums.items(), key=lambda kv: kv[0])]
    for i in range(0, len(rows), 1000):
        s.execute(insert(Rollup), rows[i:i + 1000])
    return seen


def read(s: Session, scope_filter, grain: str, ranges: Iterable[tuple[datetime, datetime]], maps: tuple[str, ...]):
    """The rows of one grain whose start lies in any of the [from, to) ranges: counts and the `maps` named."""
    within = [and_(Rollup.start >= a, Rollup.start < b) for a, b in ranges if a < b]
    if not within:
        return []
    # The maps come back as text and are parsed by add_row with orjson: several times faster than
    # the driver's json.loads, which dominated reading a 90-day window.
    columns = [getattr(Rollup, n) for n in _COUNTS] + [cast(getattr(Rollup, n), Text).label(n) for n in maps]
    return s.execute(scope_filter(select(Rollup.start, Rollup.action_type, *columns)
                                  .where(Rollup.grain == grain, or_(*within)))).all()


assert {f.name for f in fields(Tally)} == set(_COUNTS) | set(_MAPS)  # the row and the tally name the same things
