from __future__ import annotations

from dataclasses import dataclass

from bot.bootstrap import Runtime
from workers.queue import enqueue


@dataclass
class SlackDeps:
    """What listeners need; built from the Runtime so tests can build it the same way."""

    runtime: Runtime

    @property
    def gate(self):
        return self.runtime.gate

    @property
    def client(self):
        return self.runtime.slack

    @property
    def groups(self):
        return self.runtime.groups

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """An ephemeral notice, sent by a worker so the ack is not held up."""
        if channel:
            enqueue(self.runtime.redis, "workers.jobs.post_ephemeral", channel, user, text)

    def later(self, job: str, *args) -> bool:
        return enqueue(self.runtime.redis, job, *args)
