"""`hitl spot-checks`, `hitl drift` and `hitl operators`: watching what runs without a human."""
from __future__ import annotations

import click

from bot.cli_support import store


@click.group("spot-checks")
def spot_checks() -> None:
    """Auto-approvals drawn for a look after the fact."""


@spot_checks.command("pending")
@click.option("--type", "action_type", default=None, help="Only this action type.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def spot_checks_pending(action_type: str | None, limit: int) -> None:
    """Drawn auto-approvals without a verdict, oldest first (masked fields stay masked)."""
    import json

    from core import spot_checks as checks

    waiting = checks.pending(store(), action_type, limit)
    for w in waiting:
        drawn = "?" if w.probability is None else f"{w.probability:g}"
        click.echo(f"{w.action_id}\t{w.action_type}\t{w.drawn_at:%Y-%m-%d %H:%M}\tconfidence {w.confidence:g}\t"
                   f"{w.risk}\tdrawn at p={drawn}\t{w.title}")
        click.echo(f"  {json.dumps(w.payload, ensure_ascii=False, sort_keys=True)[:500]}")
    if not waiting:
        click.echo("no spot checks waiting")


@spot_checks.command("verdict")
@click.argument("action_id")
@click.argument("verdict", type=click.Choice(["looks_right", "flagged"]))
@click.option("--reviewer", required=True, help="The Slack user id of who checked it (U0ALICE01).")
@click.option("--tag", "tags", multiple=True, help="Reason tag; repeatable. A flag needs one.")
def spot_checks_verdict(action_id: str, verdict: str, reviewer: str, tags: tuple[str, ...]) -> None:
    """Say whether a drawn auto-approval was right. A flag is an escaped error: it becomes an example
    for the agent and feeds the drift test."""
    from core import spot_checks as checks
    from core.access import user_id

    who = user_id(reviewer)
    if who is None:
        raise click.BadParameter(f"{reviewer!r} is not a Slack user id (U… or W…)", param_hint="--reviewer")
    item = checks.record_verdict(store(), action_id, who, verdict, list(tags), groups=None)
    click.echo(f"{action_id}: {item.verdict} by {item.auditor}")


@click.group()
def drift() -> None:
    """Action types whose auto-approvals started going wrong."""


@drift.command("list")
def drift_list() -> None:
    """Open drift alarms, with their evidence."""
    from core import drift as drifts

    alarms = drifts.open_alarms(store())
    for a in alarms:
        held = "held in review" if a.hold else "alert only"
        click.echo(f"⚠ {a.action_type}\tcaught {a.detected_at:%Y-%m-%d %H:%M} UTC\t{held}\n  {a.evidence}")
    if not alarms:
        click.echo("no open drift alarms")


@drift.command("clear")
@click.argument("action_type")
@click.option("--by", required=True, help="Who says the drift is dealt with (a name or Slack user id).")
@click.option("--note", default=None, help="What was done about it, for the audit log.")
def drift_clear(action_type: str, by: str, note: str | None) -> None:
    """End an alarm: a hold lifts, and the drift test starts again from the next spot check."""
    from core import drift as drifts

    alarm = drifts.clear(store(), action_type, by, note)
    click.echo(f"drift alarm {alarm.id} on {action_type} cleared by {by}" + ("; the hold is lifted" if alarm.hold else ""))


@click.group()
def operators() -> None:
    """Operator keys: a person's key for the operator HTTP endpoints."""


@operators.command("create")
@click.argument("name")
@click.option("--reviewer", required=True, help="The Slack user id the key acts as (U0ALICE01).")
def operators_create(name: str, reviewer: str) -> None:
    """Create an operator key and print it once (only a hash is stored)."""
    from core import operators as ops

    op, key = ops.create(store().db, name, reviewer)
    click.echo(f"operator {op.name} created; acts as {op.reviewer}")
    click.echo("key (shown once, store it now):", err=True)
    click.echo(key)


@operators.command("list")
def operators_list() -> None:
    from core import operators as ops

    for o in ops.list_all(store().db):
        state = f"revoked {o.revoked_at:%Y-%m-%d}" if o.revoked_at else "active"
        click.echo(f"{o.name}\t{o.key_prefix}…\t{o.reviewer}\t{state}")


@operators.command("revoke")
@click.argument("name")
def operators_revoke(name: str) -> None:
    from core import operators as ops

    ops.revoke(store().db, name)
    click.echo(f"operator {name} revoked")


COMMANDS = (spot_checks, drift, operators)
