"""`hitl audit`: the audit log's keys, its signed checkpoints, and the check of all of it."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli_support import store
from core.settings import Settings


@click.group()
def audit() -> None:
    """The hash-chained audit log and its signed checkpoints."""


@audit.command("keygen")
def audit_keygen() -> None:
    """Make an Ed25519 key pair for signing checkpoints."""
    from core import audit_checkpoints

    private, public = audit_checkpoints.new_key()
    click.echo(f"HITL_AUDIT_SIGNING_KEY={private}\nHITL_AUDIT_PUBLIC_KEY={public}")
    click.echo("Give the signing key to the workers only, never to the database or its administrators; keep the "
               "public key with whoever verifies the log.", err=True)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Seal what is committed and sign a checkpoint of it now (the workers do both every few seconds)."""
    from workers.sealer import Sealer

    settings = Settings()
    if settings.audit_signing_key is None:
        raise click.UsageError("HITL_AUDIT_SIGNING_KEY is not set (make one with `hitl audit keygen`)")
    _or_usage(lambda: audit_checkpoints_key(settings))
    sealer = Sealer(settings.audit_signing_key.get_secret_value(), settings.effective_checkpoint_file, 0)
    services = store()
    sealed = sealer.seal(services)
    cp = sealer.checkpoint(services, force=True)
    click.echo((f"sealed {sealed} events; " if sealed else "")
               + (f"checkpoint at event {cp.seq}" if cp else "nothing new since the last checkpoint"))


def audit_checkpoints_key(settings: Settings):
    from core import audit_checkpoints

    return audit_checkpoints.private_key(settings.audit_signing_key.get_secret_value())


@audit.command("verify")
@click.option("--checkpoints", type=click.Path(path_type=Path), default=None,
              help="The checkpoint file (default HITL_AUDIT_CHECKPOINT_FILE, else DATA_DIR/audit-checkpoints.jsonl).")
@click.option("--public-key", default=None, help="base64url Ed25519 public key (default HITL_AUDIT_PUBLIC_KEY, else "
              "derived from HITL_AUDIT_SIGNING_KEY).")
def audit_verify(checkpoints: Path | None, public_key: str | None) -> None:
    """Check the log's chain, the actions against their events, and the log against the signed checkpoints."""
    from core import audit_checkpoints, audit_consistency, audit_log

    settings = Settings()
    path = checkpoints or settings.effective_checkpoint_file
    key = _public_key(settings, public_key)
    lines = audit_checkpoints.read(path)
    with store().db.read() as s:
        report = audit_log.verify(s)
        actions, disagree = audit_consistency.check(s)
        signed = audit_checkpoints.check(s, lines, key, report.last_seq) if key is not None else []
    problems = report.problems + disagree + signed
    if key is None:
        click.echo("warning: no audit public key (HITL_AUDIT_PUBLIC_KEY or HITL_AUDIT_SIGNING_KEY): without signed "
                   "checkpoints, whoever can write the database can rewrite the log unseen", err=True)
    elif not lines:
        click.echo(f"warning: no checkpoints in {path}: only the chain and the actions were checked", err=True)
    if problems:
        for p in problems:
            click.echo(f"TAMPERED: {p}", err=True)
        sys.exit(1)
    anchored = f", {len(lines)} signed checkpoints agree" if key is not None and lines else ""
    waiting = (f" ({report.unsealed} newer events not sealed yet: a running worker seals them within a second)"
               if report.unsealed else "")
    click.echo(f"audit log intact: {report.checked} events verified{waiting}, {actions} actions agree with them"
               f"{anchored}")


def _public_key(settings: Settings, given: str | None):
    from core import audit_checkpoints

    if given or settings.audit_public_key:
        return _or_usage(lambda: audit_checkpoints.public_key(given or settings.audit_public_key or ""))
    if settings.audit_signing_key is not None:
        return _or_usage(lambda: audit_checkpoints_key(settings)).public_key()
    return None


def _or_usage(make):
    from core.audit_checkpoints import BadKey

    try:
        return make()
    except BadKey as exc:
        raise click.UsageError(str(exc)) from None
