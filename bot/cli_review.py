"""`hitl decide` and `hitl actions`: an operator's view of and say on single actions."""
from __future__ import annotations

import json

import click

from bot.cli_support import store


@click.command()
@click.argument("action_id")
@click.argument("kind", type=click.Choice(["approve", "modify", "reject"]))
@click.option("--reviewer", required=True, callback=lambda _ctx, _param, v: _slack_user(v),
              help="The Slack user id of who decides (U0ALICE01; case does not matter).")
@click.option("--tag", "tags", multiple=True, help="Reason tag; repeatable. A rejection needs one.")
@click.option("--comment", default=None)
@click.option("--payload", default=None, help="modify: the whole edited payload as JSON.")
@click.option("--set", "sets", multiple=True, help="modify: FIELD=VALUE (VALUE parsed as JSON if it can be); repeatable.")
@click.option("--remove", "removals", multiple=True,
              help="modify: a field to remove on purpose, as a JSON Pointer (/note); repeatable.")
@click.option("--rating", "ratings", multiple=True, help="NAME=1..5 for accuracy, completeness, tone, policy_compliance.")
def decide(action_id, kind, reviewer, tags, comment, payload, sets, removals, ratings) -> None:
    """Record a decision as an operator (the Slack buttons do the same for reviewers).

    An edit is checked against the action type's payload_schema, or else must keep every field
    and its JSON type; a failing field is named and the command exits 2."""
    from core import deciding, masking
    from core.queries import get_action

    services = store()  # the Slack message, the thread diff and the callback follow through the outbox
    edited = None
    if kind == "modify":
        if payload:
            edited = _json_arg(payload, "--payload")
        else:
            edited = dict(get_action(services, action_id).current_payload)
        for item in sets:
            key, sep, value = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--set")
            _set_path(edited, key, _maybe_json(value))
        for pointer in removals:
            try:
                # With --payload the field may be left out already; --remove then says it is on purpose.
                _remove_path(edited, masking.parse(pointer), missing_ok=bool(payload))
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--remove") from None
    parsed_ratings = {}
    for item in ratings:
        key, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            raise click.BadParameter(f"{item!r} is not NAME=1..5", param_hint="--rating")
        parsed_ratings[key] = int(value)
    result = deciding.decide(services, action_id, reviewer=reviewer, kind=kind, reason_tags=list(tags),
                             comment=comment, ratings=parsed_ratings or None, edited_payload=edited, source="cli",
                             removed_fields=list(removals) or None)
    a = result.action
    if result.final:
        click.echo(f"{a.id}: {a.status} by {', '.join(a.decision.reviewers)}")
        if a.decision.text_diff:
            click.echo(a.decision.text_diff)
    else:
        click.echo(f"{a.id}: vote recorded; {len(a.quorum.approvals)} of {a.quorum.required} approvals: "
                   f"{', '.join(a.quorum.approvals)}")


@click.group()
def actions() -> None:
    """Look at actions."""


@actions.command("list")
@click.option("--status", default="pending", show_default=True)
@click.option("--limit", default=50, show_default=True)
def actions_list(status: str, limit: int) -> None:
    from sqlalchemy import select

    from core.store.tables import Action

    with store().db.read() as s:
        rows = s.scalars(select(Action).where(Action.status == status).order_by(Action.created_at).limit(limit))
        for a in rows:
            click.echo(f"{a.id}\t{a.created_at:%Y-%m-%d %H:%M}\t{a.action_type}\t{a.confidence:.2f}\t{a.title}")


@actions.command("show")
@click.argument("action_id")
def actions_show(action_id: str) -> None:
    from core.queries import get_action

    click.echo(get_action(store(), action_id).model_dump_json(indent=2))



def _json_arg(raw: str, name: str):
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=name) from None


def _slack_user(raw: str) -> str:
    from core.access import user_id

    if (found := user_id(raw)) is None:
        raise click.BadParameter(f"{raw!r} is not a Slack user id (U… or W…, e.g. U0ALICE01)")
    return found


def _maybe_json(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _set_path(obj: dict, dotted: str, value) -> None:
    """FIELD is a JSON Pointer (/customer/name) or, for a key without dots, a dotted path."""
    from core import masking

    try:
        parts = masking.parse(dotted) if dotted.startswith("/") else tuple(dotted.split("."))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from None
    *parents, last = parts
    for p in parents:
        obj = obj.setdefault(p, {})
        if not isinstance(obj, dict):
            raise click.BadParameter(f"{dotted!r}: {p!r} is not an object", param_hint="--set")
    obj[last] = value


def _remove_path(obj: dict, parts: tuple[str, ...], missing_ok: bool = False) -> None:
    *parents, last = parts
    for p in parents:
        obj = obj.get(p) if isinstance(obj, dict) else None
    if not isinstance(obj, dict) or last not in obj:
        if missing_ok:
            return
        raise ValueError(f"the payload has no field {'/' + '/'.join(parts)!r} to remove")
    del obj[last]


COMMANDS = (decide, actions)
