"""Signed checkpoints of the audit log, kept outside the database.

The hash chain (core/audit_log.py) shows an edit only to someone who trusts the head: whoever can
write the database can delete the last events and reset the head, delete the whole log, or rewrite
an event and recompute every later hash with our own function. A checkpoint pins (sequence number,
event hash, time) with an Ed25519 signature whose private key is not in the database
(HITL_AUDIT_SIGNING_KEY), in an append-only file the database administrator does not control.
`verify` then finds every forgery that touches an event at or before the latest checkpoint.

Each line also carries the hash of the line before it, so a line cut out of the middle of the
file shows too. The format is one JSON object per line:
  {"seq": 1200, "hash": "<event 1200's hash>", "at": "2026-12-04T10:00:00+00:00", "prev": "<sha256 of the line before>",
   "sig": "<base64url Ed25519 signature of the other four, canonical JSON>"}
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit_log import GENESIS, canonical
from core.store.tables import AuditEvent, AuditHead

TAIL_BYTES = 8192  # the last line is found in the file's tail: no checkpoint line comes near this


class BadKey(ValueError):
    """A key that is not a base64url Ed25519 key: the message says which setting and what it should be."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise BadKey(f"{what} is not base64url ({exc}): make one with `hitl audit keygen`") from None
    if len(raw) != 32:
        raise BadKey(f"{what} must be 32 bytes (base64url, 43 characters), not {len(raw)}: "
                        "make one with `hitl audit keygen`")
    return raw


def new_key() -> tuple[str, str]:
    """(private, public), base64url: the private one goes in HITL_AUDIT_SIGNING_KEY, the public one
    wherever the log is verified."""
    key = Ed25519PrivateKey.generate()
    return _b64(key.private_bytes_raw()), _b64(key.public_key().public_bytes_raw())


def private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_unb64(text, "HITL_AUDIT_SIGNING_KEY"))


def public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text, "the audit public key"))


def public_of(key: Ed25519PrivateKey) -> str:
    return _b64(key.public_key().public_bytes_raw())


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    prev: str
    sig: str

    def body(self) -> str:
        return canonical({"seq": self.seq, "hash": self.hash, "at": self.at, "prev": self.prev})

    def line(self) -> str:
        return canonical({"seq": self.seq, "hash": self.hash, "at": self.at, "prev": self.prev, "sig": self.sig})


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _last_line(path: Path) -> str | None:
    if not path.exists():
        return None
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - TAIL_BYTES))
        lines = [x for x in f.read().decode(errors="replace").splitlines() if x.strip()]
    return lines[-1] if lines else None


def _seq_of(line: str | None) -> int:
    try:
        return json.loads(line).get("seq", 0) if line is not None else 0
    except ValueError:  # a line cut short by a crash: written after, and named by `verify`
        return 0


def last_seq(path: Path) -> int:
    """The event the file's last checkpoint signed (0: none)."""
    return _seq_of(_last_line(path))


def write_if_new(session: Session, path: Path, key: Ed25519PrivateKey, now: datetime) -> Checkpoint | None:
    """Append a checkpoint of the log's head when it moved since the file's last line."""
    head = session.get(AuditHead, 1)
    if head is None:
        return None
    last = _last_line(path)
    if _seq_of(last) >= head.seq:
        return None
    unsigned = Checkpoint(seq=head.seq, hash=head.hash, at=now.isoformat(),
                          prev=_line_hash(last) if last is not None else GENESIS, sig="")
    cp = Checkpoint(**{**unsigned.__dict__, "sig": _b64(key.sign(unsigned.body().encode()))})
    path.parent.mkdir(parents=True, exist_ok=True)
    cut_short = last is not None and not _ends_with_newline(path)
    with path.open("a", encoding="utf-8") as f:
        f.write(("\n" if cut_short else "") + cp.line() + "\n")
        f.flush()
        os.fsync(f.fileno())  # a checkpoint the machine forgets in a crash anchors nothing
    return cp


def read(path: Path) -> list[str]:
    return [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []


def check(session: Session, lines: list[str], key: Ed25519PublicKey, log_end: int) -> list[str]:
    """What the checkpoints say is wrong with the log, which ends at event `log_end`."""
    problems: list[str] = []
    prev = GENESIS
    pinned: dict[int, tuple[int, str]] = {}  # event seq -> (line number, hash)
    for n, line in enumerate(lines, 1):
        try:
            cp = Checkpoint(**json.loads(line))
        except (ValueError, TypeError):
            problems.append(f"checkpoint line {n} is not a checkpoint")
            prev = _line_hash(line)  # the next line was written after it
            continue
        try:
            key.verify(base64.urlsafe_b64decode(cp.sig + "=" * (-len(cp.sig) % 4)), cp.body().encode())
        except (InvalidSignature, ValueError):
            problems.append(f"checkpoint line {n} (event {cp.seq}): the signature does not match the public key")
            continue
        if cp.prev != prev:
            problems.append(f"checkpoint line {n} (event {cp.seq}): the line before it is not the one it was "
                            "written after (a line was removed or reordered)")
        prev = _line_hash(line)
        pinned[cp.seq] = (n, cp.hash)
    if not pinned:
        return problems
    latest = max(pinned)
    if log_end < latest:
        problems.append(f"the log ends at event {log_end}, but a signed checkpoint records event {latest}: "
                        f"events {log_end + 1}..{latest} were deleted")
    seqs = sorted(pinned)
    found: dict[int, str] = {}
    for i in range(0, len(seqs), 1000):  # a year of checkpoints is millions of lines: no IN list that long
        found.update((seq or 0, digest or "") for seq, digest in session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(seqs[i:i + 1000]))))
    for seq, (n, digest) in sorted(pinned.items()):
        if seq in found and found[seq] != digest:
            problems.append(f"event {seq} is not the event checkpoint line {n} signed: it, or an event before it, "
                            "was rewritten")
        elif seq not in found and seq <= log_end:
            problems.append(f"event {seq}, signed at checkpoint line {n}, is missing")
    return problems
