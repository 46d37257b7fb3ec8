"""`hitl`: run the service (serve, dev, worker) and operate it (the command groups in bot/cli_*.py)."""
from __future__ import annotations

import signal
import sys

import click

from bot import cli_learning, cli_operate, cli_review, cli_support, cli_watch
from core.errors import HitlError, InvalidEdit, InvalidPayload
from core.settings import Settings
from workers.names import QUEUES


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

    from bot.web.limits import server_options

    settings = Settings()
    host, port = host or settings.host, port or settings.port
    runtime = cli_support.runtime(log_level=settings.log_level)
    click.echo(f"hitl-gate: database {runtime.services.db.url.render_as_string(hide_password=True)}")
    loaded = runtime.services.policies.current()
    click.echo(f"hitl-gate: policy {loaded.source} (version {loaded.version})")
    click.echo(f"hitl-gate: intake on http://{host}:{port}  (API docs at /docs, OpenAPI at /openapi.json)")
    click.echo("hitl-gate: create an agent key with: .venv/bin/hitl agents create my-agent")
    if runtime.slack is None:
        click.echo("hitl-gate: Slack is not configured (HITL_SLACK_BOT_TOKEN, HITL_SLACK_SIGNING_SECRET); "
                   "decide with `hitl decide`")
    link = _socket_mode(runtime) if socket_mode else None
    if link is not None:
        # uvicorn stops gracefully on SIGTERM, then raises it again for the handler it found: this
        # one, so the `finally` below still runs and the link ends with a close frame (also when
        # SIGTERM comes before uvicorn has started).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if workers > 1:
            uvicorn.run("bot.web.main:build", factory=True, host=host, port=port, workers=workers,
                        **server_options(runtime.settings))
        else:
            from bot.web.app import create_app

            uvicorn.run(create_app(runtime), host=host, port=port, **server_options(runtime.settings))
    finally:
        if link is not None:
            link.close()  # a close frame, so Slack does not wait out a dead socket


def _socket_mode(runtime):
    """The Socket Mode link, started; "connected" is printed only on Slack's hello. A token Slack
    refuses is one line and exit 2; an endpoint that is down at start is retried, and said so."""
    if runtime.settings.slack_app_token is None or runtime.slack is None:
        raise click.UsageError("--socket-mode needs HITL_SLACK_BOT_TOKEN and HITL_SLACK_APP_TOKEN (xapp-…)")
    from slack_sdk.errors import SlackApiError

    from bot.slack.bolt_app import build_bolt_app
    from bot.slack.socket_mode import BadAppToken, SocketModeLink

    def connected() -> None:
        click.echo("hitl-gate: connected to Slack over Socket Mode" if link.connections == 1
                   else "hitl-gate: reconnected to Slack over Socket Mode")

    link = SocketModeLink(build_bolt_app(runtime), runtime.settings.slack_app_token.get_secret_value(),
                          runtime.settings.slack_api_url, on_connected=connected)
    try:
        link.endpoint()  # the token, checked before anything else starts
    except BadAppToken as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (SlackApiError, OSError) as exc:
        click.echo(f"hitl-gate: Slack's Socket Mode endpoint is not reachable yet ({type(exc).__name__}); "
                   "retrying in the background", err=True)
    link.start()
    return link


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

    runtime = cli_support.runtime(log_level=Settings().log_level)
    workers.context.use(runtime)
    # Jobs are ours, small and idempotent, so by default they run in the worker process itself:
    # a click becomes a decision in ~8 ms instead of ~40 ms of fork and reconnect (ARCHITECTURE.md).
    names = tuple(q.strip() for q in queues.split(",") if q.strip())
    if unknown := [q for q in names if q not in QUEUES]:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(QUEUES)}",
                                 param_hint="--queues")
    run(runtime, fork=fork, queues=names, burst=burst)



@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
             add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def mcp(args: tuple[str, ...]) -> None:
    """A gate in front of an MCP server: the same as `hitl-mcp` (see `hitl mcp --help`)."""
    from hitl_client.mcp_gate.command_line import main as hitl_mcp

    hitl_mcp(list(args))


for module in (cli_review, cli_learning, cli_operate, cli_watch):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    if sys.argv[1:2] == ["mcp"]:  # before click, which would swallow the `--` that starts the upstream's command
        from hitl_client.mcp_gate.command_line import main as hitl_mcp

        return hitl_mcp(sys.argv[2:])
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (InvalidEdit, InvalidPayload) as exc:
        # Bad input: one line per failing field, and the exit status of a usage error.
        for where, problem in exc.problems:
            click.echo(f"error: payload field {where or '(top level)'} {problem}", err=True)
        sys.exit(2)
    except HitlError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
