"""`hitl stats`, `hitl recommend` and `hitl export`: the learning loop, read by people and tools."""
from __future__ import annotations

import json
import sys

import click

from bot.cli_support import store


@click.command()
@click.argument("args", nargs=-1)
def stats(args: tuple[str, ...]) -> None:
    """The /hitl-stats numbers in the terminal: [action_type|agent] [7d|30d|90d]."""
    from core import metrics, stats_text

    q = stats_text.parse_args(" ".join(args))
    click.echo("\n".join(stats_text.lines(metrics.stats(store(), q.subject, q.days, by=q.by))))


@click.command()
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

    services = store()
    for action_type in action_types or rec.action_types(services, days):
        r = rec.recommend(services, action_type, target=target, min_samples=min_samples, days=days)
        if r.threshold is None:
            click.echo(f"{action_type}: keep reviewing; {r.why}")
            continue
        click.echo(f"{action_type}: auto_approve_threshold: {r.threshold:g}")
        click.echo(f"  {r.why}")
        click.echo(f"  expected: {r.auto_approve_share:.0%} of proposals auto-approved; escaped errors among them "
                   f"at most {r.expected_escaped_rate:.1%} (95% confidence)")
    policy = services.policies.current().policy
    for action_type in action_types or rec.action_types(services, days):
        entry, _known = policy.for_action_type(action_type)
        a = rec.autonomy(services, action_type, entry.review_mode.value, days=min(days, 30))
        if a.recommended or a.alert:
            head = "⚠ " if a.alert else ""
            move = f"review_mode: {a.mode} → {a.recommended}" if a.recommended else f"review_mode: {a.mode}"
            click.echo(f"{head}{action_type}: {move}; {a.why}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["raw", "sft", "preference"]), default="raw", show_default=True)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Decided at or after (UTC), e.g. 2026-01-01.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), default=None,
              help="Decided before (UTC).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="A file, or - for standard output.")
@click.option("--unmasked", is_flag=True, help="Include the values of masked fields (mask_fields); masked by default.")
def export(fmt: str, since, until, output: str, unmasked: bool) -> None:
    """Write decisions as JSONL: raw (everything), sft (input/output) or preference (chosen/rejected).
    Masked fields are masked unless --unmasked."""
    from datetime import UTC

    from core import export as datasets

    services = store()
    since = since.replace(tzinfo=UTC) if since else None
    until = until.replace(tzinfo=UTC) if until else None
    total = datasets.count(services, fmt, since, until)
    written = 0
    with click.open_file(output, "w", encoding="utf-8") as out:
        # The bar goes to stderr, so it never mixes with JSONL on stdout; click hides it when not a terminal.
        rows = datasets.records(services, fmt, since, until, unmasked)
        with click.progressbar(rows, length=total, label=f"exporting {fmt}", file=sys.stderr) as bar:
            for record in bar:
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                written += 1
    click.echo(f"{written} {fmt} record(s) written to {'stdout' if output == '-' else output}", err=True)



COMMANDS = (stats, recommend, export)
