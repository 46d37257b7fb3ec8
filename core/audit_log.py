"""Append-only, hash-chained audit log. Editing or deleting any row breaks `verify`."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
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
    """Append inside the caller's transaction, so the events commit or roll back with the change they record.

    Call it last in the transaction: from here to the commit, other appenders wait on the head row.
    """
    # Bumping the head first takes its lock: concurrent appenders queue here instead of forking the chain.
    head = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + len(events))
        .returning(AuditHead.seq, AuditHead.hash)
    ).first()
    if head is None:
        session.add(AuditHead(id=1, seq=len(events), hash=GENESIS))
        session.flush()
        first, prev = 1, GENESIS
    else:
        first, prev = head[0] - len(events) + 1, head[1]
    rows = []
    for offset, (kind, action_id, data) in enumerate(events):
        seq = first + offset
        data = json.loads(canonical(data))  # hash exactly what the database will hand back
        digest = _digest(prev, seq, action_id, kind, data, now)
        rows.append({"seq": seq, "action_id": action_id, "kind": kind, "data": data, "created_at": now,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(insert(AuditEvent), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


@dataclass
class VerifyReport:
    ok: bool
    checked: int
    problems: list[str]
    last_seq: int = 0  # where the log ends


def verify(session: Session, batch: int = 5000) -> VerifyReport:
    problems: list[str] = []
    prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                problems.append(f"events {expected_seq}..{ev.seq - 1} are missing (deleted?)")
            if ev.prev_hash != prev:
                problems.append(f"event {ev.seq}: prev_hash does not match event {ev.seq - 1}'s hash")
            recomputed = _digest(ev.prev_hash, ev.seq, ev.action_id, ev.kind, ev.data, ev.created_at)
            if recomputed != ev.hash:
                problems.append(f"event {ev.seq} ({ev.kind}, action {ev.action_id}): contents were changed")
            prev, expected_seq, last_seq = ev.hash, ev.seq + 1, ev.seq
            checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        problems.append(f"the log ends at event {last_seq} but the head records event {head.seq}: "
                        "trailing events were deleted")
    if head is None and checked:
        problems.append("the audit head row is missing")
    return VerifyReport(ok=not problems, checked=checked, problems=problems, last_seq=last_seq)
