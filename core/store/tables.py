"""The tables. Alembic migrations in core/store/migrations must match these (a test checks)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.store.types import JsonType, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JsonType, Any: JsonType}


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the key; the key itself is never stored
    key_prefix: Mapped[str] = mapped_column(String(16))  # shown in listings so people can tell keys apart
    action_types: Mapped[Any | None] = mapped_column(JsonType, default=None)  # None: any action type
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("agent_id", "idempotency_key", name="uq_actions_agent_idempotency"),
        Index("ix_actions_status_created", "status", "created_at"),
        Index("ix_actions_type_created", "action_type", "created_at"),
        Index("ix_actions_status_timer", "status", "timer_at"),
        Index("ix_actions_created", "created_at"),  # /hitl-stats windows: proposals by when they came in
        # and decisions by when they were made; wide so PostgreSQL answers time-to-decision from the index alone
        Index("ix_actions_decided", "decided_at", "decision", "created_at", "agent_id", "action_type",
              "decision_source"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    action_type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[Any] = mapped_column(JsonType)  # as the agent proposed it; never changed
    current_payload: Mapped[Any] = mapped_column(JsonType)  # as last edited by a reviewer
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped by each modify; quorum counts votes on it
    confidence: Mapped[float]
    risk: Mapped[str] = mapped_column(String(16))
    context: Mapped[Any] = mapped_column(JsonType)
    run_id: Mapped[str | None] = mapped_column(String(200))
    call_id: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[Any | None] = mapped_column(JsonType)
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    review_mode: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(300))
    route: Mapped[Any] = mapped_column(JsonType)  # snapshot: reviewers, channel, escalation, masks
    policy_version: Mapped[str] = mapped_column(String(80))
    approvals_required: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(16))  # the decided status; kept after the outcome arrives
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[Any | None] = mapped_column(JsonType)
    # human | policy | auto | agent (vocabulary.DecisionSource): only human decisions are evidence
    decision_source: Mapped[str | None] = mapped_column(String(8))
    agent_version: Mapped[str | None] = mapped_column(String(100))  # as the agent reported it; evidence resets with it
    final_payload: Mapped[Any | None] = mapped_column(JsonType)
    patch: Mapped[Any | None] = mapped_column(JsonType)
    text_diff: Mapped[str | None] = mapped_column(Text)
    outcome_result: Mapped[Any | None] = mapped_column(JsonType)
    outcome_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))  # "I'm on it" (acknowledges escalation)
    claimed_at: Mapped[datetime | None]
    # After a go-ahead: when it lapses unless claimed (policy approval_ttl), and when the agent claimed
    # the one right to run it (POST /v1/actions/{id}/execute). Not the reviewer's claim above.
    approval_expires_at: Mapped[datetime | None]
    execution_claimed_at: Mapped[datetime | None]
    # The next moment something must happen to a pending action (escalate, re-trigger after a claim,
    # expire at the agent's deadline) or to an unclaimed approval (expire at approval_expires_at).
    # timer_seq changes whenever the timer moves, so a stale timer job can tell it is stale; RQ only
    # carries the jobs and the reconciler rebuilds them from here.
    timer_at: Mapped[datetime | None]
    timer_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    esc_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0-based level now notified
    esc_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0 = first pass of the tree


class Vote(Base):
    """One reviewer's decision on one revision of an action's payload."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("action_id", "revision", "reviewer", name="uq_votes_once_per_revision"),
        # /hitl-stats reviewer load over a window, from the index alone, for any scope
        Index("ix_votes_created", "created_at", "reviewer", "kind", "time_to_decision_s", "agent_id", "action_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), index=True)
    # The action's, copied (they never change) so /hitl-stats can scope votes without a join.
    agent_id: Mapped[int | None] = mapped_column(Integer)
    action_type: Mapped[str | None] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    reason_tags: Mapped[Any] = mapped_column(JsonType)
    comment: Mapped[str | None] = mapped_column(Text)
    ratings: Mapped[Any | None] = mapped_column(JsonType)
    edited_payload: Mapped[Any | None] = mapped_column(JsonType)
    patch: Mapped[Any | None] = mapped_column(JsonType)
    text_diff: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    time_to_decision_s: Mapped[float]


class AuditEvent(Base):
    """Append-only, hash-chained: hash = sha256(prev_hash + canonical record).

    A write inserts its events with `id` only; the workers' sealer gives them `seq`, `prev_hash` and
    `hash` in the order it finds them committed (core/audit_log.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_unsealed", "id", sqlite_where=text("seq IS NULL"), postgresql_where=text("seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    seq: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)
    action_id: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[Any] = mapped_column(JsonType)
    created_at: Mapped[datetime]
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sealed seq and hash. Only the sealer writes it: its row lock is what keeps
    two sealers from forking the chain, and no request waits on it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class PolicyVersion(Base):
    __tablename__ = "policy_versions"

    version: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime]


class ReviewMessage(Base):
    """Where an action's review is shown (a Slack channel and message ts), so clicks and thread
    replies can be traced back to the action and the message can be updated in place."""

    __tablename__ = "review_messages"
    __table_args__ = (UniqueConstraint("channel", "message_ts", name="uq_review_messages_location"),)

    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))
    message_ts: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime]


class Comment(Base):
    """Free text a reviewer wrote about an action (e.g. a reply in the review's thread)."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("action_id", "source_ref", name="uq_comments_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    source_ref: Mapped[str] = mapped_column(String(100))  # e.g. the Slack message ts; deduplicates redelivery
    created_at: Mapped[datetime]


class Interaction(Base):
    """A reviewer's click, written before the ack so it survives a lost job; a worker applies it once."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_unapplied", "applied_at", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # approve | reject | claim
    reason_tags: Mapped[Any] = mapped_column(JsonType)
    reply_channel: Mapped[str | None] = mapped_column(String(40))  # where to send an ephemeral notice
    seen: Mapped[str | None] = mapped_column(String(40))  # the revision and payload hash the button showed (core/seen.py)
    source: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """A decision owed to an agent's callback_url. The database says what is owed; Redis only carries the attempts."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "state", "next_attempt_at"),)

    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class Escalation(Base):
    """One firing of an action's timer: a level notified, an acknowledgement timing out, or the end."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("action_id", "seq", name="uq_escalations_seq"),
        Index("ix_escalations_unnotified", "notified_at", "fired_at"),
        Index("ix_escalations_fired", "fired_at"),  # /hitl-stats: escalations over a window
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("actions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … per action
    kind: Mapped[str] = mapped_column(String(16))  # escalated | ack_timeout | final | deadline
    level: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    targets: Mapped[Any] = mapped_column(JsonType)
    due_at: Mapped[datetime]  # when the timer was set for
    fired_at: Mapped[datetime]  # when it actually ran (the benchmark compares the two)
    notified_at: Mapped[datetime | None]  # the Slack thread reply and DMs went out (None: still owed)


class EscalationNotice(Base):
    """One notice of one escalation to one target: the thread reply ("thread"), a user's direct
    message (U…), a channel post (C…), or the one warning in the thread about a target that cannot
    be reached ("warn:C…"). Seq 0 is the first level, paged when the review is posted."""

    __tablename__ = "escalation_notices"

    action_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # sent | failed (retried) | unreachable (given up)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class OutboxRow(Base):
    """An effect a committed change owes (core/effects.py), written in the change's own transaction.

    The process that committed carries it out at once when it can; a relay in the workers carries
    out every row not settled by its `due_at`. The job that does the work settles the row, so a
    crash, a Redis outage or a FLUSHALL between the commit and the job's end loses nothing."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_open", "done_at", "due_at"),  # the relay: open rows that are due
        Index("ix_outbox_action", "action_id", "kind"),  # a job: the open rows it settles
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    action_id: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(100), default="")  # tells effects of one kind on one action apart
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the relay carries it out from then on (again, with backoff, until settled)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times the relay carried it out
    done_at: Mapped[datetime | None]


# The learning loop's tables share this Base: importing them here puts every table on one metadata
# (create_all, Alembic's comparison) whichever module is imported first.
import core.store.learning_tables  # noqa: E402,F401
