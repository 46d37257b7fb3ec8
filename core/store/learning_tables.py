"""The tables of the learning loop and its watch: stats rollups, spot checks, drift alarms and
operator keys. The action's own tables are in tables.py; both share its Base (one metadata)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables import Base
from core.store.types import JsonType


class SpotCheck(Base):
    """An auto-approved action drawn for a look after the fact (sample mode), and what the checker said.
    The table keeps its first name, `sample_audits`: "audit" now means only the hash-chained log."""

    __tablename__ = "sample_audits"
    __table_args__ = (
        Index("ix_sample_audits_unposted", "posted_at", "created_at"),
        Index("ix_sample_audits_created", "created_at"),  # /hitl-stats: audits over a window
        Index("ix_sample_audits_type", "action_type", "created_at"),  # the weekly floor; drift, per type
    )

    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    created_at: Mapped[datetime]
    # The action's, copied (they never change), so the floor and the drift test need no join.
    action_type: Mapped[str | None] = mapped_column(String(64))
    agent_version: Mapped[str | None] = mapped_column(String(100))
    probability: Mapped[float | None]  # how likely it was to be drawn (core/policy/audit_draw.py); None: before 0012
    channel: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    posted_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(16))  # looks_right | flagged
    reason_tags: Mapped[Any | None] = mapped_column(JsonType)
    auditor: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]


class Rollup(Base):
    """/hitl-stats counts for one hour or one UTC day of one agent's proposals of one action type.

    Written in the same transaction as the proposal or decision it counts (core/rollups.py), so a
    window of any length reads a few hundred rows instead of every decision in it. Proposals count
    at their created_at, human decisions at their decided_at. `hitl db rebuild-rollups` recomputes all.
    """

    __tablename__ = "stat_rollups"

    grain: Mapped[str] = mapped_column(String(4), primary_key=True)  # hour | day
    start: Mapped[datetime] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    auto_approved: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    approved: Mapped[int] = mapped_column(Integer, default=0)
    modified: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # Decided by the policy, not a person (counted at decided_at): an escalation tree's final action, an expiry
    policy_approved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    policy_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expired: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shadow_decided: Mapped[int] = mapped_column(Integer, default=0)
    shadow_agreed: Mapped[int] = mapped_column(Integer, default=0)
    multi_voted: Mapped[int] = mapped_column(Integer, default=0)  # revisions with two or more votes
    multi_agreed: Mapped[int] = mapped_column(Integer, default=0)  # of those, all votes the same kind
    votes: Mapped[int] = mapped_column(Integer, default=0)  # votes cast, counted when cast
    tags: Mapped[Any] = mapped_column(JsonType)  # reason tag -> votes carrying it
    fields: Mapped[Any] = mapped_column(JsonType)  # top-level payload field -> modifications touching it
    field_sets: Mapped[Any] = mapped_column(JsonType)  # sorted fields joined by "\x1f" -> modifications
    ttd: Mapped[Any] = mapped_column(JsonType)  # time-to-decision histogram: log bucket -> decisions
    calibration: Mapped[Any] = mapped_column(JsonType)  # per confidence bucket: n, Σ confidence, approved unmodified
    reviewers: Mapped[Any] = mapped_column(JsonType)  # per reviewer: votes, approvals, time-to-vote histogram
    strata: Mapped[Any] = mapped_column(JsonType)  # auto-approvals by the probability of a spot check: "0.05" -> count


class DriftAlarm(Base):
    """A drift caught on an action type's spot checks (core/drift.py). While open (not cleared by a
    person) it holds the type in review if the policy said `on_drift: review` when it was caught."""

    __tablename__ = "drift_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_type: Mapped[str] = mapped_column(String(64))
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # the action type while open: one open alarm each
    detected_at: Mapped[datetime]
    evidence: Mapped[str] = mapped_column(Text)
    hold: Mapped[bool]
    channel: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    cleared_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(100))


class OperatorKey(Base):
    """A person's key for the operator endpoints (spot-check verdicts over HTTP). It acts as one Slack
    user, who must be a reviewer of what they decide; only the hash is stored, as for agent keys."""

    __tablename__ = "operator_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class DriftStatistic(Base):
    """Each action type's drift test (core/drift.py) after its latest verdict: intake reads it to
    tighten spot checks while the statistic is up, before it reaches an alarm."""

    __tablename__ = "drift_statistics"

    action_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    statistic: Mapped[float]
    updated_at: Mapped[datetime]


class GoldItem(Base):
    """A past decided action with a known answer, shown again to a reviewer as if it were new
    (core/gold.py). Nothing runs from it; the answer measures the reviewer's accuracy."""

    __tablename__ = "gold_items"
    __table_args__ = (
        Index("ix_gold_items_answered", "answered_at", "reviewer"),
        Index("ix_gold_items_source", "action_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"))  # the past action shown again
    # The source's, copied, so the stats' scope filters them as it filters actions.
    agent_id: Mapped[int] = mapped_column(Integer)
    action_type: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(16))  # the known answer: approve | modify | reject
    basis: Mapped[str] = mapped_column(String(16))  # where it is known from: review | spot_check
    created_at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    posted_at: Mapped[datetime | None]
    reviewer: Mapped[str | None] = mapped_column(String(100))
    response: Mapped[str | None] = mapped_column(String(16))  # approve | modify | reject
    reason_tags: Mapped[Any | None] = mapped_column(JsonType)
    correct: Mapped[bool | None]
    own: Mapped[bool | None]  # the reviewer decided the source: answered, but not counted
    answered_at: Mapped[datetime | None]


class HeldCheck(Base):
    """A would-be auto-approval held for a person before it ran, because its type was under suspicion
    (tightened inspection, core/drift.py), and what the person decided. The drift test reads these with
    the spot checks: the same population, seen before it runs instead of after."""

    __tablename__ = "held_checks"
    __table_args__ = (Index("ix_held_checks_type", "action_type", "decided_at"),)

    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    action_type: Mapped[str] = mapped_column(String(64))
    probability: Mapped[float]  # how likely it was to be drawn
    flagged: Mapped[bool]  # modified or rejected: it should not have run as proposed
    decided_at: Mapped[datetime]
