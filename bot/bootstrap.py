"""The composition root: turns Settings into a Gate with concrete adapters.

Two shapes: `build_runtime` plugs in everything (Redis, RQ, Slack) for the web process, the worker
and commands that change actions; `build_store` is the database and the policy alone, for the CLI
commands that only read or manage keys, so they start without importing or starting any of that.
Adapters are imported inside the builders for the same reason (ARCHITECTURE.md, "start-up").
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.policy.source import FilePolicySource
from core.services import Services
from core.settings import Settings
from core.store.db import Database

if TYPE_CHECKING:
    import redis
    from slack_sdk import WebClient

    from bot.slack.directory import SlackGroupDirectory
    from workers.sealer import Sealer


@dataclass
class Runtime:
    settings: Settings
    services: Services
    redis: redis.Redis
    redis_url: str
    slack: WebClient | None = None  # None: no Slack credentials, no review surface
    slack_ack: WebClient | None = None
    groups: SlackGroupDirectory | None = None
    click_job: Callable[..., Any] | None = None  # applies a recorded click (bot/slack/jobs.py); Slack only
    # What the maintenance tick does besides reconciling, each called as chore(runtime, redis): the weekly
    # digest, the audit sealer
    chores: list[Callable[..., Any]] = field(default_factory=list)
    sealer: Sealer | None = None  # chains committed audit events and signs checkpoints (workers/sealer.py)

    def close(self) -> None:
        self.services.db.dispose()
        self.redis.close()


def _logging(settings: Settings, log_level: str | None) -> None:
    logging.basicConfig(level=(log_level or settings.log_level).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request drowns everything else


def _process_role() -> str:
    """What this process is (serve, worker, decide…), for PostgreSQL's application_name: an operator
    looking at pg_stat_activity sees who holds what."""
    return (sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].isidentifier() else "process")[:30]


def _database(settings: Settings, migrate: bool | None) -> Database:
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size, limits=settings.db_limits,
                  name=f"hitl-gate {_process_role()}")
    if settings.auto_migrate if migrate is None else migrate:
        db.migrate()  # cheap when the schema is at head: one SELECT, no Alembic import
    return db


def build_store(settings: Settings | None = None, migrate: bool | None = None, log_level: str | None = None) -> Services:
    """The database and the policy, without Redis, RQ or Slack: for the CLI. A change made through
    it (`hitl decide`) writes its effects to the outbox like any other, and a worker's relay carries
    them out: the Slack message is updated, the agent's callback delivered."""
    settings = settings or Settings()
    _logging(settings, log_level)
    return Services(db=_database(settings, migrate), policies=FilePolicySource(settings.policy_file),
                    egress=settings.egress_policy)


def build_runtime(settings: Settings | None = None, migrate: bool | None = None, log_level: str | None = None) -> Runtime:
    """Everything: the web process, `hitl worker`, and the first job of a stock `rq worker` (through
    the `hitl_gate.runtime` entry point, see workers/context.py)."""
    from core.effects import Effect
    from workers.callback_jobs import deliver_callback
    from workers.connection import connect, redis_url
    from workers.dispatch import JobDispatcher

    settings = settings or Settings()
    _logging(settings, log_level)
    db = _database(settings, migrate)
    client = connect(settings)
    routes: dict[Effect, Callable[..., Any]] = {Effect.CALLBACK_OWED: deliver_callback}
    runtime = Runtime(settings=settings, services=Services(db=db, policies=FilePolicySource(settings.policy_file),
                                                           egress=settings.egress_policy),
                      redis=client, redis_url=redis_url(settings))
    if settings.slack_enabled:
        from bot.slack import alert_jobs, gold_jobs, jobs
        from bot.slack.directory import SlackGroupDirectory
        from bot.slack.web_api import web_client
        from workers.queue import enqueue

        runtime.slack = web_client(settings)
        # For what runs inside an ack (views.open): no retries and a short timeout, so a rate-limited
        # or slow Slack costs the reviewer a notice, never a late ack.
        runtime.slack_ack = web_client(settings, retries=False, timeout=2.5)
        runtime.groups = SlackGroupDirectory(runtime.slack, client, ttl=settings.slack_group_cache_seconds,
                                             request_refresh=lambda group: enqueue(client, jobs.refresh_group, group))
        runtime.click_job = jobs.apply_interaction
        from bot.slack import digest_jobs

        runtime.chores.append(digest_jobs.enqueue_due)
        routes.update(jobs.ROUTES)
        routes.update(alert_jobs.ROUTES)
        routes.update(gold_jobs.ROUTES)
    from workers.sealer import Sealer

    key = settings.audit_signing_key
    runtime.sealer = Sealer(key.get_secret_value() if key else None, settings.effective_checkpoint_file,
                            settings.audit_checkpoint_seconds)
    runtime.chores.append(runtime.sealer.seal_audit_log)  # each worker's thread seals within a second; a backstop
    runtime.services.dispatcher = JobDispatcher(client, routes, grace_seconds=settings.reconcile_grace_seconds)
    return runtime
