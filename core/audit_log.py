"""Append-only, hash-chained audit log. Editing or deleting any sealed row breaks `verify`.

Writes only insert their events (`append_many`, in the change's own transaction): nothing global is
read or locked on the request path, so concurrent writes never queue behind one another here. The
workers' sealer (`seal`, a few times a second) then gives each committed event its place in one
chain (seq, prev_hash, hash) in the order it finds them, under the audit head row's lock, which
only sealers take. Signed checkpoints of the sealed head (core/audit_checkpoints.py) anchor the
chain outside the database."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core.store.tables import AuditEvent, AuditHead

GENESIS = "0" * 64


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(prev_hash: str, seq: int, action_id: str | None, kind: str, data: Any, created_at: datetime) -> str:
    record = canonical({"seq": seq, "action_id": action_id, "kind": kind, "data": data, "at": created_at.isoformat()})
    return hashlib.sha256((prev_hash + record).encode()).hexdigest()


def append(session: Session, kind: str, action_id: str | None, data: Mapping[str, Any], now: datetime) -> None:
    append_many(session, [(kind, action_id, data)], now)


def append_many(session: Session, events: Sequence[tuple[str, str | None, Mapping[str, Any]]], now: datetime) -> None:
    """Insert inside the caller's transaction, so the events commit or roll back with the change they record."""
    session.execute(insert(AuditEvent), event_rows(events, now))


def event_rows(events: Sequence[tuple[str, str | None, Mapping[str, Any]]], now: datetime) -> list[dict]:
    # canonical first: what is stored is plain JSON, whatever the caller passed (datetimes, enums)
    return [{"action_id": action_id, "kind": kind, "data": json.loads(canonical(data)), "created_at": now}
            for kind, action_id, data in events]


def lock_head(session: Session) -> tuple[int, str]:
    """The sealed head, locked until the caller's commit: a no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite alike."""
    head = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)
                           .returning(AuditHead.seq, AuditHead.hash)).first()
    if head is None:  # a new database: a racing sealer's insert fails its transaction, and it tries again
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return head[0], head[1]


def seal(session: Session, limit: int = 2000) -> int:
    """Chain up to `limit` committed, unsealed events after the head; returns how many. Events are
    hashed as the database hands them back, which is what `verify` reads."""
    seq, prev = lock_head(session)
    rows = session.execute(select(AuditEvent.id, AuditEvent.action_id, AuditEvent.kind, AuditEvent.data,
                                  AuditEvent.created_at).where(AuditEvent.seq.is_(None))
                           .order_by(AuditEvent.id).limit(limit)).all()
    if not rows:
        return 0
    sealed = []
    for event_id, action_id, kind, data, created_at in rows:
        seq += 1
        digest = _digest(prev, seq, action_id, kind, data, created_at)
        sealed.append({"id": event_id, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(update(AuditEvent), sealed)  # by primary key, one statement for the batch
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    return len(rows)


def any_unsealed(session: Session) -> bool:
    """Cheap (a partial index holds only unsealed events): an idle sealer takes no lock and writes nothing."""
    return session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1)) is not None


def unsealed(session: Session) -> int:
    """How many committed events wait for the sealer."""
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))) or 0


@dataclass
class VerifyReport:
    ok: bool
    checked: int
    problems: list[str]
    last_seq: int = 0  # where the sealed log ends
    unsealed: int = 0  # committed events the sealer has not reached yet: checked only against the actions


def verify(session: Session, batch: int = 5000) -> VerifyReport:
    problems: list[str] = []
    prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.action_id, AuditEvent.kind, AuditEvent.data, AuditEvent.created_at,
                   AuditEvent.prev_hash, AuditEvent.hash)
            .where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for seq, action_id, kind, data, created_at, prev_hash, digest in rows:
            if seq != expected_seq:
                problems.append(f"events {expected_seq}..{seq - 1} are missing (deleted?)")
            if prev_hash != prev:
                problems.append(f"event {seq}: prev_hash does not match event {seq - 1}'s hash")
            if _digest(prev_hash or "", seq, action_id, kind, data, created_at) != digest:
                problems.append(f"event {seq} ({kind}, action {action_id}): contents were changed")
            prev, expected_seq, last_seq = digest or "", seq + 1, seq
            checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        problems.append(f"the log ends at event {last_seq} but the head records event {head.seq}: "
                        "trailing events were deleted")
    if head is None and checked:
        problems.append("the audit head row is missing")
    return VerifyReport(ok=not problems, checked=checked, problems=problems, last_seq=last_seq,
                        unsealed=unsealed(session))
