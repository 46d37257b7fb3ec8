"""A worker's background passes (the outbox relay, the audit sealer): a daemon thread running one
pass every `interval` seconds until stopped. A failed pass (the database or Redis away) is logged
and tried again next round; it never ends the thread."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker(threading.Thread):
    def __init__(self, name: str, interval: float, tick: Callable[[], int], done: str, level: int = logging.INFO):
        super().__init__(name=name, daemon=True)
        self.interval, self.tick, self.done = interval, tick, done  # done: "... %d ..." for a pass that did work
        self.level = level
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                if n := self.tick():
                    log.log(self.level, self.done, n)
            except Exception:
                log.warning("%s pass failed", self.name, exc_info=log.isEnabledFor(logging.DEBUG))

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
