"""`hitl stats`, `hitl recommend` and `hitl export`: the learning loop, read by people and tools."""
from __future__ import annotations

import json
import sys

import click

from bot.cli_support import store


@click.command()
@click.argument("args", nargs=-1)
def stats(args: tuple[str, ...]) -> None:
    """The /hitl-stats numbers in the terminal: [action_type|agent] [7d|30d|90d] [by day|week] [by version]."""
    from core import metrics, stats_subjects, stats_text

    q = stats_text.parse_args(" ".join(args))
    services = store()
    if wrong := stats_text.problem(q, *stats_subjects.known(services)):
        raise click.UsageError(f"{wrong}\nusage: hitl stats {stats_text.USAGE}")
    click.echo("\n".join(stats_text.lines(metrics.stats(services, q.subject, q.days, by=q.by, versions=q.by_version))))


@click.command()
@click.argument("action_types", nargs=-1)
@click.option("--target", type=click.FloatRange(0.5, 0.9999), default=0.95, show_default=True,
              help="Required share of right answers above a threshold (Wilson 95% lower bound).")
@click.option("--min-samples", type=click.IntRange(1), default=30, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Weigh only the evidence of the last DAYS: improvement and drift both show.")
@click.option("--all-versions", is_flag=True, help="Also weigh earlier agent versions' evidence (default: the newest only).")
@click.option("--cost-error", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Cost of one wrong action that runs; with --cost-review, pick the cheapest threshold.")
@click.option("--cost-review", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Cost of one human review, in the same unit.")
def recommend(action_types: tuple[str, ...], target: float, min_samples: int, days: int, all_versions: bool,
              cost_error: float | None, cost_review: float | None) -> None:
    """Recommend auto_approve_threshold, review_mode and audit_rate per action type from recent human
    verdicts (reviews and spot checks) of the newest agent version; ⚠ when drift or miscalibration
    says to move back. Prints proposals for the policy file; changes nothing."""
    from core import autonomy as earned
    from core import evidence
    from core import recommend as rec

    if (cost_error is None) != (cost_review is None):
        raise click.UsageError("give --cost-error and --cost-review together")
    services = store()
    policy = services.policies.current().policy
    if action_types:
        from core import stats_subjects

        known, _agents = stats_subjects.known(services)
        if unknown := [t for t in action_types if t not in known]:
            raise click.UsageError(f"no action type called {', '.join(map(repr, unknown))} "
                                   f"(known: {', '.join(known) or 'none yet'})")
    for action_type in action_types or rec.action_types(services, days):
        entry, _known = policy.for_action_type(action_type)
        found = evidence.gather(services, action_type, days=days, all_versions=all_versions)
        errors, reviews = cost_error or entry.cost_error, cost_review or entry.cost_review
        r = rec.recommend(services, action_type, target=target, min_samples=min_samples, days=days, evidence=found,
                          cost_error=errors if errors and reviews else None, cost_review=reviews if errors else None,
                          current=entry.auto_approve_threshold)
        a = earned.autonomy(services, action_type, entry.review_mode.value, days=days, evidence=found)
        head = "⚠ " if a.alert else ""
        click.echo(f"{head}{action_type}: " + (f"auto_approve_threshold: {r.threshold:g}" if r.threshold is not None
                                              else "auto_approve_threshold: none (keep reviewing below any threshold)"))
        click.echo(f"  {r.why}")
        if r.threshold is not None and r.expected_escaped_rate is not None:
            click.echo(f"  expected: {r.auto_approve_share:.0%} of proposals auto-approved; errors among them at most "
                       f"{r.expected_escaped_rate:.1%} (95% confidence), watched by spot checks")
        for p in r.curve:
            label = "review all" if p.threshold is None else f"≥ {p.threshold:g}"
            mark = " ←" if p.threshold == r.threshold else ""
            click.echo(f"    {label:>10}  auto {p.auto_share:>4.0%}  error {p.error_rate:>5.1%}  "
                       f"cost/1000 {p.cost_per_1000:>10,.0f}{mark}")
        move = f"review_mode: {a.mode} → {a.recommended}" if a.recommended else f"review_mode: {a.mode} (keep)"
        click.echo(f"  {head}{move}; audit_rate: {a.audit_rate:g}")
        click.echo(f"    {a.why}")


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
