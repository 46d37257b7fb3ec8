"""A policy file that reloads itself when it changes; a broken edit keeps the last good policy."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from core.errors import PolicyError
from core.policy.loader import LoadedPolicy, load_policy, load_policy_text

log = logging.getLogger(__name__)


class FilePolicySource:
    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        # No file: the built-in policy is the fail-closed default (everything goes to review).
        self._loaded = load_policy(self.path) if self.path else load_policy_text("{}", source="<built-in default>")
        if self.path:
            self._stamp = self._stat()

    def _stat(self) -> tuple[float, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
            return (st.st_mtime, st.st_size)
        except OSError:
            return None

    def current(self) -> LoadedPolicy:
        if self.path is None:
            return self._loaded
        stamp = self._stat()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._stamp = stamp
                    try:
                        self._loaded = load_policy(self.path)
                        log.info("policy reloaded: version %s", self._loaded.version)
                    except PolicyError as exc:
                        log.error("policy file changed but is invalid; keeping version %s:\n%s", self._loaded.version, exc)
        return self._loaded
