"""`hitl dev` (`make run`): the web process, a worker, the demo agent and the Slack sandbox on one
machine, started together, announced in one short banner, and stopped together on Ctrl+C,
the embedded Redis included (left running, the next run would silently reuse it)."""
from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import threading

import click

from core.settings import Settings

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def run(settings: Settings, host: str, port: int, demo: bool | None) -> None:
    import uvicorn
    from pydantic import SecretStr

    from bot.bootstrap import build_runtime
    from bot.web.app import create_app
    from bot.web.limits import server_options
    from workers.connection import stop_embedded

    base = f"http://{host}:{port}"
    sandboxed = not settings.slack_enabled
    if sandboxed:
        settings = settings.model_copy(update={
            "slack_bot_token": SecretStr("xoxb-sandbox"), "slack_signing_secret": SecretStr(secrets.token_hex(16)),
            "slack_api_url": f"{base}/sandbox/api/", "slack_default_channel": "C0REVIEWS1"})
    if demo is None:
        demo = sandboxed  # never into a real workspace unless asked
    if sandboxed and host not in LOOPBACK:
        click.echo(f"hitl-gate dev: warning: the sandbox lets anyone who reaches {host}:{port} act as any user", err=True)
    runtime = build_runtime(settings, log_level=settings.log_level)
    worker: subprocess.Popen | None = None
    stop_demo: threading.Event | None = None
    try:
        app = create_app(runtime)
        if sandboxed:
            from bot.sandbox.routes import Sandbox, router
            from bot.sandbox.workspace import Workspace

            workspace = Workspace.from_policy(runtime.services.policies.current().policy).keep_in(
                settings.data_dir / "sandbox-workspace.json")
            secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
            app.include_router(router(Sandbox(workspace, secret, base)))
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env={**os.environ, **env_of(settings)})
        if demo:
            stop_demo = _start_demo(runtime, base)
        click.echo(banner(settings, runtime, base, sandboxed, demo))
        uvicorn.run(app, host=host, port=port, **server_options(settings))  # returns on Ctrl+C or SIGTERM
    finally:
        if stop_demo is not None:
            stop_demo.set()
        if worker is not None:
            _stop(worker)
        runtime.close()
        stop_embedded()
        click.echo("hitl-gate dev: stopped", err=True)


def _start_demo(runtime, base: str) -> threading.Event:
    from bot.sandbox import demo as demo_agent
    from core.agents import create_agent, rotate_key
    from core.errors import NotFound

    try:
        key = rotate_key(runtime.services.db, "demo-agent")  # a fresh key each run; none is ever printed
    except NotFound:
        _identity, key = create_agent(runtime.services.db, "demo-agent")
    return demo_agent.start(base, key)


def _stop(worker: subprocess.Popen) -> None:
    """A warm shutdown first (it finishes the job in hand), then a kill: never leave it running."""
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        log.warning("the worker did not stop within 20 s; killing it")
        worker.kill()
        worker.wait(10)


def banner(settings: Settings, runtime, base: str, sandboxed: bool, demo: bool) -> str:
    loaded = runtime.services.policies.current()
    from sqlalchemy.engine import make_url  # its URL masking works for redis:// URLs too

    redis = ("embedded Redis" if settings.redis_url is None
             else "Redis at " + make_url(settings.redis_url.get_secret_value()).render_as_string(hide_password=True))
    database = runtime.services.db.url.render_as_string(hide_password=True)
    lines = ["", "hitl-gate dev is running"]
    if sandboxed:
        lines.append(f"  Slack sandbox  {base}/sandbox/   open this: reviews, buttons, /hitl-stats "
                     "(no Slack credentials: nothing leaves this machine)")
    else:
        lines.append("  Slack          the workspace of HITL_SLACK_BOT_TOKEN (events at /slack/events)")
    lines += [f"  intake API     {base}/v1/actions   docs at {base}/docs",
              "  worker         1 process: posts to Slack, escalation timers, callbacks to agents"]
    if demo:
        lines.append("  demo agent     proposes 24 varied actions over about two minutes (--no-demo leaves it out)")
    lines += [f"  data           {database} and {redis}",
              f"  policy         {loaded.source} (version {loaded.version})",
              "Below: only warnings and notable events; HITL_LOG_LEVEL=debug shows every job.",
              f"HITL_PORT={settings.port + 1} make run moves the port. Ctrl+C stops everything.", ""]
    return "\n".join(lines)


def env_of(settings: Settings) -> dict[str, str]:
    """The settings as HITL_* variables, for a child process (the worker) to build the same runtime."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"HITL_{name.upper()}"] = str(value)
    env["HITL_DATABASE_URL"] = settings.effective_database_url
    return env
