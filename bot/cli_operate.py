"""`hitl db`, `hitl policy`, `hitl agents`, `hitl callbacks` and `hitl audit` (bot/cli_audit.py): keeping the
service in order."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli_support import store
from core.errors import HitlError, PolicyError
from core.settings import Settings


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (the web process also does this at start unless HITL_AUTO_MIGRATE=false)."""
    from core.store.db import Database

    Database(Settings().effective_database_url).migrate()
    click.echo("database is at the newest schema")


@db.command("rebuild-rollups")
def db_rebuild_rollups() -> None:
    """Recompute the /hitl-stats rollups from every stored decision (safe while the service runs)."""
    from core import rollups

    services = store()
    with services.db.transaction() as s:
        total = rollups.rebuild(s, progress=lambda n: click.echo(f"\r{n:,} actions read", nl=False, err=True))
    click.echo(f"\nrollups rebuilt from {total:,} actions", err=True)


@click.group()
def policy() -> None:
    """Policy files."""


@policy.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sample", "sample", default=None, help="A proposal as JSON (or @file.json) to route and explain.")
def policy_check(file: Path, sample: str | None) -> None:
    """Validate FILE; with --sample, say which rule routes that proposal and why."""
    from core.policy.explain import describe, explain_sample
    from core.policy.loader import load_policy

    try:
        loaded = load_policy(file)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(describe(loaded))
    if sample:
        raw = Path(sample[1:]).read_text() if sample.startswith("@") else sample
        try:
            click.echo(explain_sample(loaded, json.loads(raw)))
        except (ValueError, HitlError) as exc:
            click.echo(f"sample: {exc}", err=True)
            sys.exit(1)


@click.group()
def agents() -> None:
    """Agent API keys."""


@agents.command("create")
@click.argument("name")
@click.option("--action-types", default=None, help="Comma-separated action types this key may propose (default any).")
def agents_create(name: str, action_types: str | None) -> None:
    """Create an agent and print its key once (only a hash is stored)."""
    from core.agents import create_agent

    types = [t.strip() for t in action_types.split(",") if t.strip()] if action_types else None
    agent, key = create_agent(store().db, name, types)
    allowed = ", ".join(agent.action_types) if agent.action_types else "any action type"
    click.echo(f"agent {agent.name} created; may propose: {allowed}")
    click.echo("key (shown once, store it now):", err=True)
    click.echo(key)


@agents.command("list")
def agents_list() -> None:
    from core.agents import list_agents

    for a in list_agents(store().db):
        state = f"revoked {a.revoked_at:%Y-%m-%d}" if a.revoked_at else "active"
        click.echo(f"{a.name}\t{a.key_prefix}…\t{state}\t{','.join(a.action_types or []) or 'any'}")


@agents.command("revoke")
@click.argument("name")
def agents_revoke(name: str) -> None:
    from core.agents import revoke_agent

    revoke_agent(store().db, name)
    click.echo(f"agent {name} revoked")



@click.group()
def callbacks() -> None:
    """Decisions delivered to agents' callback_url."""


@callbacks.command("failed")
def callbacks_failed() -> None:
    """List dead-lettered deliveries (every retry failed)."""
    from core import deliveries

    rows = deliveries.failed(store())
    for d in rows:
        click.echo(f"{d.action_id}\t{d.attempts} attempts\t{d.url}\t{d.last_error}")
    if not rows:
        click.echo("no failed deliveries")


@callbacks.command("retry")
@click.argument("action_ids", nargs=-1)
def callbacks_retry(action_ids: tuple[str, ...]) -> None:
    """Deliver dead-lettered decisions again (all of them, or the given action ids)."""
    from core import deliveries
    services = store()
    again = deliveries.retry(services, list(action_ids) or None)
    # Through the outbox, like every effect: a running worker's relay delivers them within a second.
    click.echo(f"{len(again)} deliveries queued again")


from bot.cli_audit import audit  # noqa: E402 (its own module: keys, checkpoints, verify)

COMMANDS = (db, policy, agents, callbacks, audit)
