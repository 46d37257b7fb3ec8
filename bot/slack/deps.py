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
        """For calls inside an ack (views.open): no retries, a short timeout."""
        return self.runtime.slack_ack or self.runtime.slack

    @property
    def groups(self):
        """Listeners run inside an ack: they read the shared cache and never ask Slack themselves."""
        return self.runtime.groups.reading_only() if self.runtime.groups is not None else None

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """An ephemeral notice, sent by a worker so the ack is not held up."""
        if channel:
            enqueue(self.runtime.redis, jobs.post_ephemeral, channel, user, text)

    def later(self, job, *args) -> bool:
        """Enqueue a job (a function of bot/slack/jobs.py); False when Redis is away."""
        return enqueue(self.runtime.redis, job, *args)
