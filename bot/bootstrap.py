"""The composition root: turns Settings into a Gate with concrete adapters.

Two shapes: `build_runtime` plugs in everything (Redis, RQ, Slack) for the web process, the worker
and commands that change actions; `build_store` is the database and the policy alone, for the CLI
commands that only read or manage keys, so they start without importing or starting any of that.
Adapters are imported inside the builders for the same reason (ARCHITECTURE.md, "start-up").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.gate import Gate
from core.policy.source import FilePolicySource
from core.settings import Settings
from core.store.db import Database

if TYPE_CHECKING:
    import redis
    from slack_sdk import WebClient

    from bot.slack.directory import SlackGroupDirectory


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


class NoEffects:
    """The notifier of a store-only gate. Its commands change no action, so a call here is a bug:
    it fails loudly rather than let a change commit without telling anyone."""

    def action_changed(self, action_id: str, status: str) -> None:
        raise RuntimeError(f"action {action_id} changed ({status}) in a command built without adapters")


def _logging(settings: Settings, log_level: str | None) -> None:
    logging.basicConfig(level=(log_level or settings.log_level).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request drowns everything else


def _database(settings: Settings, migrate: bool | None) -> Database:
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    if settings.auto_migrate if migrate is None else migrate:
        db.migrate()  # cheap when the schema is at head: one SELECT, no Alembic import
    return db


def build_store(settings: Settings | None = None, migrate: bool | None = None, log_level: str | None = None) -> Gate:
    """The database and the policy, without Redis, RQ or Slack: for reads and key management."""
    settings = settings or Settings()
    _logging(settings, log_level)
    return Gate(db=_database(settings, migrate), policies=FilePolicySource(settings.policy_file), notifier=NoEffects())


def build_runtime(settings: Settings | None = None, migrate: bool | None = None, log_level: str | None = None) -> Runtime:
    from workers.connection import connect, redis_url
    from workers.notify import RedisNotifier
    from workers.queue import CallbackNotifier, Notifiers, RQTimers, SlackPublisher, SlackRefresher

    settings = settings or Settings()
    _logging(settings, log_level)
    db = _database(settings, migrate)
    client = connect(settings)
    gate = Gate(db=db, policies=FilePolicySource(settings.policy_file),
                notifier=Notifiers(RedisNotifier(client), CallbackNotifier(client)), timers=RQTimers(client))
    runtime = Runtime(settings=settings, gate=gate, redis=client, redis_url=redis_url(settings))
    if settings.slack_enabled:
        from bot.slack.directory import SlackGroupDirectory
        from workers.slack_api import web_client

        runtime.slack = web_client(settings)
        runtime.groups = SlackGroupDirectory(runtime.slack, ttl=settings.slack_group_cache_seconds)
        gate.publisher = SlackPublisher(client)
        gate.notifier = Notifiers(RedisNotifier(client), CallbackNotifier(client), SlackRefresher(client))
    return runtime
