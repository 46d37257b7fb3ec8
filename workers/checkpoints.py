"""The workers' signed audit checkpoints: on every maintenance tick (HITL_RECONCILE_INTERVAL_SECONDS),
under the reconciler's lock, one worker appends a checkpoint when the log moved
(core/audit_checkpoints.py)."""
from __future__ import annotations

import logging

from core import audit_checkpoints

log = logging.getLogger(__name__)


def checkpoint_chore(signing_key: str, path):
    """The chore, with its key parsed once; None (and an error in the log) for a key that is no key."""
    try:
        key = audit_checkpoints.private_key(signing_key)
    except audit_checkpoints.BadKey as exc:
        log.error("audit checkpoints are off: %s", exc)
        return None

    def write_checkpoint(runtime, connection) -> int:
        with runtime.services.db.read() as s:
            cp = audit_checkpoints.write_if_new(s, path, key, runtime.services.clock())
        return cp.seq if cp is not None else 0

    return write_checkpoint
