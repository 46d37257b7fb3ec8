"""The composition root: turns Settings into a Gate with concrete adapters."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from slack_sdk import WebClient

from bot.slack.directory import SlackGroupDirectory
from core.gate import Gate
from core.policy.source import FilePolicySource
from core.settings import Settings
from core.store.db import Database
from workers.connection import connect, redis_url
from workers.notify import RedisNotifier
from workers.queue import CallbackNotifier, Notifiers, RQTimers, SlackPublisher, SlackRefresher
from workers.slack_api import web_client


@dataclass
class Runtime:
    settings: Settings
    gate: Gate
    redis: redis.Redis
    redis_url: str
    slack: WebClient | None = None  # None: no Slack credentials, no review surface
    groups: SlackGroupDirectory | None = None

    def close(self) -> None:
        self.gate.db.dispose()
        self.redis.close()


def build_runtime(settings: Settings | None = None, migrate: bool | None = None, log_level: str | None = None) -> Runtime:
    settings = settings or Settings()
    logging.basicConfig(level=(log_level or settings.log_level).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request drowns everything else
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    if settings.auto_migrate if migrate is None else migrate:
        db.migrate()
    client = connect(settings)
    gate = Gate(db=db, policies=FilePolicySource(settings.policy_file),
                notifier=Notifiers(RedisNotifier(client), CallbackNotifier(client)), timers=RQTimers(client))
    runtime = Runtime(settings=settings, gate=gate, redis=client, redis_url=redis_url(settings))
    if settings.slack_enabled:
        runtime.slack = web_client(settings)
        runtime.groups = SlackGroupDirectory(runtime.slack, ttl=settings.slack_group_cache_seconds)
        gate.publisher = SlackPublisher(client)
        gate.notifier = Notifiers(RedisNotifier(client), CallbackNotifier(client), SlackRefresher(client))
    return runtime
