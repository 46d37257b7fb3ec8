"""`hitl`: run the service and operate it.

Each command imports what it uses inside its own body: an operator's `hitl stats` or
`hitl agents create` should answer at once, not load Slack, RQ and the web framework first
(bench/cli_startup.py measures it). Commands that only read or manage keys build a store-only gate.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from core.errors import HitlError, PolicyError
from core.settings import Settings
from workers.names import QUEUES


def _runtime(migrate: bool = True, log_level: str = "WARNING"):
    """Everything: Redis, RQ and Slack adapters, for commands whose changes others must hear of."""
    from bot.bootstrap import build_runtime

    return build_runtime(migrate=migrate, log_level=log_level)


def _store():
    """The database and policy only, for commands that read or manage keys."""
    from bot.bootstrap import build_store

    return build_store(migrate=True, log_level="WARNING")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """hitl-gate: a human review gate for AI agents."""


@cli.command()
@click.option("--host", default=None, help="Default HITL_HOST or 127.0.0.1.")
@click.option("--port", type=int, default=None, help="Default HITL_PORT or 8000.")
@click.option("--workers", type=int, default=1, show_default=True, help="Web processes sharing the port.")
@click.option("--socket-mode", is_flag=True, help="Receive Slack events over Socket Mode (needs HITL_SLACK_APP_TOKEN).")
def serve(host: str | None, port: int | None, workers: int, socket_mode: bool) -> None:
    """Run the web process (intake API) on the configured or embedded database and Redis."""
    import uvicorn

    settings = Settings()
    host, port = host or settings.host, port or settings.port
    runtime = _runtime(log_level=settings.log_level)
    click.echo(f"hitl-gate: database {runtime.gate.db.url.render_as_string(hide_password=True)}")
    loaded = runtime.gate.policies.current()
    click.echo(f"hitl-gate: policy {loaded.source} (version {loaded.version})")
    click.echo(f"hitl-gate: intake on http://{host}:{port}  (API docs at /docs, OpenAPI at /openapi.json)")
    click.echo("hitl-gate: create an agent key with: .venv/bin/hitl agents create my-agent")
    if runtime.slack is None:
        click.echo("hitl-gate: Slack is not configured (HITL_SLACK_BOT_TOKEN, HITL_SLACK_SIGNING_SECRET); "
                   "decide with `hitl decide`")
    if socket_mode:
        if runtime.settings.slack_app_token is None or runtime.slack is None:
            raise click.UsageError("--socket-mode needs HITL_SLACK_BOT_TOKEN and HITL_SLACK_APP_TOKEN (xapp-…)")
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        from bot.slack.app import build_bolt_app

        SocketModeHandler(build_bolt_app(runtime), runtime.settings.slack_app_token.get_secret_value()).connect()
        click.echo("hitl-gate: connected to Slack over Socket Mode")
    if workers > 1:
        uvicorn.run("bot.web.main:build", factory=True, host=host, port=port, workers=workers, log_level="warning")
    else:
        from bot.web.app import create_app

        uvicorn.run(create_app(runtime), host=host, port=port, log_level="warning")


@cli.command()
@click.option("--host", default=None, help="Interface to listen on (HITL_HOST).")
@click.option("--port", type=int, default=None, help="Port (HITL_PORT).")
@click.option("--demo/--no-demo", default=None,
              help="Run the demo agent (default: only with the sandbox, never into a real workspace).")
def dev(host: str | None, port: int | None, demo: bool | None) -> None:
    """Everything on one machine: the web process, a worker, the demo agent and, when no Slack
    credentials are configured, the local Slack sandbox (the bot talks to it, never to Slack)."""
    from bot.dev import run

    settings = Settings()
    run(settings, host or settings.host, port or settings.port, demo)


@cli.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--fork", is_flag=True, help="Fork a child per job (isolation; about 5x slower per job, measured).")
@click.option("--queues", "-q", default=",".join(QUEUES), show_default=True,
              help="Comma-separated queues to serve, in priority order (e.g. a worker only for escalations).")
def worker(burst: bool, fork: bool, queues: str) -> None:
    """Run an RQ worker with the scheduler (timers) on the hitl queues; it also runs the reconciler."""
    import workers.context
    from workers.worker import run

    runtime = _runtime(log_level=Settings().log_level)
    workers.context.use(runtime)
    # Jobs are ours, small and idempotent, so by default they run in the worker process itself:
    # a click becomes a decision in ~8 ms instead of ~40 ms of fork and reconnect (ARCHITECTURE.md).
    names = tuple(q.strip() for q in queues.split(",") if q.strip())
    if unknown := [q for q in names if q not in QUEUES]:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(QUEUES)}",
                                 param_hint="--queues")
    run(runtime, fork=fork, queues=names, burst=burst)


@cli.group()
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

    gate = _store()
    with gate.db.transaction() as s:
        total = rollups.rebuild(s, progress=lambda n: click.echo(f"\r{n:,} actions read", nl=False, err=True))
    click.echo(f"\nrollups rebuilt from {total:,} actions", err=True)


@cli.group()
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


@cli.group()
def agents() -> None:
    """Agent API keys."""


@agents.command("create")
@click.argument("name")
@click.option("--action-types", default=None, help="Comma-separated action types this key may propose (default any).")
def agents_create(name: str, action_types: str | None) -> None:
    """Create an agent and print its key once (only a hash is stored)."""
    from core.agents import create_agent

    types = [t.strip() for t in action_types.split(",") if t.strip()] if action_types else None
    agent, key = create_agent(_store().db, name, types)
    allowed = ", ".join(agent.action_types) if agent.action_types else "any action type"
    click.echo(f"agent {agent.name} created; may propose: {allowed}")
    click.echo("key (shown once, store it now):", err=True)
    click.echo(key)


@agents.command("list")
def agents_list() -> None:
    from core.agents import list_agents

    for a in list_agents(_store().db):
        state = f"revoked {a.revoked_at:%Y-%m-%d}" if a.revoked_at else "active"
        click.echo(f"{a.name}\t{a.key_prefix}…\t{state}\t{','.join(a.action_types or []) or 'any'}")


@agents.command("revoke")
@click.argument("name")
def agents_revoke(name: str) -> None:
    from core.agents import revoke_agent

    revoke_agent(_store().db, name)
    click.echo(f"agent {name} revoked")


@cli.command()
@click.argument("action_id")
@click.argument("kind", type=click.Choice(["approve", "modify", "reject"]))
@click.option("--reviewer", required=True, help="Who decides (recorded), e.g. a Slack user id.")
@click.option("--tag", "tags", multiple=True, help="Reason tag; repeatable. A rejection needs one.")
@click.option("--comment", default=None)
@click.option("--payload", default=None, help="modify: the whole edited payload as JSON.")
@click.option("--set", "sets", multiple=True, help="modify: FIELD=VALUE (VALUE parsed as JSON if it can be); repeatable.")
@click.option("--rating", "ratings", multiple=True, help="NAME=1..5 for accuracy, completeness, tone, policy_compliance.")
def decide(action_id, kind, reviewer, tags, comment, payload, sets, ratings) -> None:
    """Record a decision as an operator (the Slack buttons do the same for reviewers)."""
    from core import deciding
    from core.queries import get_action

    runtime = _runtime()
    edited = None
    if kind == "modify":
        if payload:
            edited = _json_arg(payload, "--payload")
        else:
            edited = dict(get_action(runtime.gate, action_id).current_payload)
        for item in sets:
            key, sep, value = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--set")
            _set_path(edited, key, _maybe_json(value))
    parsed_ratings = {}
    for item in ratings:
        key, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            raise click.BadParameter(f"{item!r} is not NAME=1..5", param_hint="--rating")
        parsed_ratings[key] = int(value)
    result = deciding.decide(runtime.gate, action_id, reviewer=reviewer, kind=kind, reason_tags=list(tags),
                             comment=comment, ratings=parsed_ratings or None, edited_payload=edited, source="cli")
    a = result.action
    if result.final:
        click.echo(f"{a.id}: {a.status} by {', '.join(a.decision.reviewers)}")
        if a.decision.text_diff:
            click.echo(a.decision.text_diff)
    else:
        click.echo(f"{a.id}: vote recorded; {len(a.quorum.approvals)} of {a.quorum.required} approvals: "
                   f"{', '.join(a.quorum.approvals)}")


@cli.group()
def actions() -> None:
    """Look at actions."""


@actions.command("list")
@click.option("--status", default="pending", show_default=True)
@click.option("--limit", default=50, show_default=True)
def actions_list(status: str, limit: int) -> None:
    from sqlalchemy import select

    from core.store.tables import Action

    with _store().db.read() as s:
        rows = s.scalars(select(Action).where(Action.status == status).order_by(Action.created_at).limit(limit))
        for a in rows:
            click.echo(f"{a.id}\t{a.created_at:%Y-%m-%d %H:%M}\t{a.action_type}\t{a.confidence:.2f}\t{a.title}")


@actions.command("show")
@click.argument("action_id")
def actions_show(action_id: str) -> None:
    from core.queries import get_action

    click.echo(get_action(_store(), action_id).model_dump_json(indent=2))


@cli.command()
@click.argument("args", nargs=-1)
def stats(args: tuple[str, ...]) -> None:
    """The /hitl-stats numbers in the terminal: [action_type|agent] [7d|30d|90d]."""
    from core import metrics

    q = metrics.parse_args(" ".join(args))
    click.echo("\n".join(metrics.lines(metrics.stats(_store(), q.subject, q.days, by=q.by))))


@cli.command()
@click.argument("action_types", nargs=-1)
@click.option("--target", type=click.FloatRange(0.5, 0.9999), default=0.95, show_default=True,
              help="Required unmodified-approval rate (Wilson 95% lower bound).")
@click.option("--min-samples", type=click.IntRange(1), default=30, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True)
def recommend(action_types: tuple[str, ...], target: float, min_samples: int, days: int) -> None:
    """Recommend auto_approve_threshold and review_mode per action type from past reviews and audits
    (earned autonomy, and alerts when drift says to move back). Prints proposals for the policy
    file; changes nothing."""
    from core import recommend as rec

    gate = _store()
    for action_type in action_types or rec.action_types(gate, days):
        r = rec.recommend(gate, action_type, target=target, min_samples=min_samples, days=days)
        if r.threshold is None:
            click.echo(f"{action_type}: keep reviewing; {r.why}")
            continue
        click.echo(f"{action_type}: auto_approve_threshold: {r.threshold:g}")
        click.echo(f"  {r.why}")
        click.echo(f"  expected: {r.auto_approve_share:.0%} of proposals auto-approved; escaped errors among them "
                   f"at most {r.expected_escaped_rate:.1%} (95% confidence)")
    policy = gate.policies.current().policy
    for action_type in action_types or rec.action_types(gate, days):
        entry, _known = policy.for_action_type(action_type)
        a = rec.autonomy(gate, action_type, entry.review_mode.value, days=min(days, 30))
        if a.recommended or a.alert:
            head = "⚠ " if a.alert else ""
            move = f"review_mode: {a.mode} → {a.recommended}" if a.recommended else f"review_mode: {a.mode}"
            click.echo(f"{head}{action_type}: {move}; {a.why}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["raw", "sft", "preference"]), default="raw", show_default=True)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Decided at or after (UTC), e.g. 2026-01-01.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Decided before (UTC).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="A file, or - for standard output.")
def export(fmt: str, since, until, output: str) -> None:
    """Write decisions as JSONL: raw (everything), sft (input/output) or preference (chosen/rejected)."""
    from datetime import UTC

    from core import export as datasets

    gate = _store()
    since = since.replace(tzinfo=UTC) if since else None
    until = until.replace(tzinfo=UTC) if until else None
    total = datasets.count(gate, fmt, since, until)
    written = 0
    with click.open_file(output, "w", encoding="utf-8") as out:
        # The bar goes to stderr, so it never mixes with JSONL on stdout; click hides it when not a terminal.
        with click.progressbar(datasets.records(gate, fmt, since, until), length=total, label=f"exporting {fmt}",
                               file=sys.stderr) as bar:
            for record in bar:
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                written += 1
    click.echo(f"{written} {fmt} record(s) written to {'stdout' if output == '-' else output}", err=True)


@cli.group()
def callbacks() -> None:
    """Decisions delivered to agents' callback_url."""


@callbacks.command("failed")
def callbacks_failed() -> None:
    """List dead-lettered deliveries (every retry failed)."""
    from core import callbacks as deliveries

    rows = deliveries.failed(_store())
    for d in rows:
        click.echo(f"{d.action_id}\t{d.attempts} attempts\t{d.url}\t{d.last_error}")
    if not rows:
        click.echo("no failed deliveries")


@callbacks.command("retry")
@click.argument("action_ids", nargs=-1)
def callbacks_retry(action_ids: tuple[str, ...]) -> None:
    """Deliver dead-lettered decisions again (all of them, or the given action ids)."""
    from core import callbacks as deliveries
    from workers.queue import enqueue

    runtime = _runtime()
    ids = list(action_ids) or [d.action_id for d in deliveries.failed(runtime.gate)]
    count = deliveries.retry(runtime.gate, ids)
    for action_id in ids:
        enqueue(runtime.redis, "workers.jobs.deliver_callback", action_id)
    click.echo(f"{count} deliveries queued again")


@cli.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check that no audit event was edited or deleted."""
    from core import audit as audit_log

    with _store().db.read() as s:
        report = audit_log.verify(s)
    if report.ok:
        click.echo(f"audit log intact: {report.checked} events verified")
        return
    for p in report.problems:
        click.echo(f"TAMPERED: {p}", err=True)
    sys.exit(1)


def _json_arg(raw: str, name: str):
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=name) from None


def _maybe_json(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _set_path(obj: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        obj = obj.setdefault(p, {})
        if not isinstance(obj, dict):
            raise click.BadParameter(f"{dotted!r}: {p!r} is not an object", param_hint="--set")
    obj[last] = value


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HitlError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
