from __future__ import annotations

from dataclasses import dataclass

from bot.bootstrap import Runtime
from bot.slack import jobs
from workers.queue import enqueue


@dataclass
class SlackDeps:
    """What listeners need; built from the Runtime so tests can build it the same way."""

    runtime: Runtime

    @property
    def services(self):
        return self.runtime.services

    @property
    def client(self):
        return self.runtime.slack

    @property
    def groups(self):
        return self.runtime.groups

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """An ephemeral notice, sent by a worker so the ack is not held up."""
        if channel:
            enqueue(self.runtime.redis, jobs.post_ephemeral, channel, user, text)

    def later(self, job, *args) -> bool:
        """Enqueue a job (a function of bot/slack/jobs.py); False when Redis is away."""
        return enqueue(self.runtime.redis, job, *args)
