"""The workers' audit sealer: every committed audit event gets its place in the one hash chain a
moment after its commit, and, with HITL_AUDIT_SIGNING_KEY, the chain's head is signed into the
checkpoint file every HITL_AUDIT_CHECKPOINT_SECONDS when it moved (core/audit_log.py,
core/audit_checkpoints.py). Every `hitl worker` runs it on a thread; sealers on many workers take
turns on the audit head row, so running several is safe."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from core import audit_checkpoints, audit_log
from core.store.tables import AuditHead

log = logging.getLogger(__name__)
BATCH = 2000


class Sealer:
    def __init__(self, signing_key: str | None, path: Path, checkpoint_seconds: float):
        self.key = None
        if signing_key is not None:
            try:
                self.key = audit_checkpoints.private_key(signing_key)
            except audit_checkpoints.BadKey as exc:
                log.error("audit checkpoints are off: %s", exc)
        self.path = path
        self.checkpoint_seconds = checkpoint_seconds
        self._last_checkpoint = float("-inf")

    def seal(self, services) -> int:
        with services.db.read() as s:
            if not audit_log.any_unsealed(s):
                return 0
        total = 0
        while True:
            with services.db.transaction() as s:
                n = audit_log.seal(s, BATCH)
            total += n
            if n < BATCH:
                return total

    def checkpoint(self, services, force: bool = False) -> audit_checkpoints.Checkpoint | None:
        """Under the head's lock, so two workers sharing a file never append the same checkpoint twice."""
        if self.key is None or not (force or time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds):
            return None
        with services.db.read() as s:  # nothing new: no lock taken, nothing written
            head = s.get(AuditHead, 1)
            if head is None or head.seq <= audit_checkpoints.last_seq(self.path):
                return None
        with services.db.transaction() as s:
            audit_log.lock_head(s)
            cp = audit_checkpoints.write_if_new(s, self.path, self.key, services.clock())
        self._last_checkpoint = time.monotonic()
        return cp

    def __call__(self, runtime, connection=None) -> int:
        """One pass: what the worker's thread runs twice a second."""
        sealed = self.seal(runtime.services)
        self.checkpoint(runtime.services)
        return sealed

    def seal_audit_log(self, runtime, connection) -> None:
        """The reconciler's chore, for a worker whose thread is not running (a stock `rq worker`).
        Routine work: it returns nothing, so the tick logs nothing."""
        self(runtime, connection)
