"""The web process: the agent intake today; the Slack endpoints mount here too."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.bootstrap import Runtime
from bot.web import actions, errors, health
from bot.web.limits import BodyLimit
from bot.web.waiter import DecisionWaiter


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.waiter = DecisionWaiter(runtime.redis_url)
        await app.state.waiter.start()
        try:
            yield
        finally:
            await app.state.waiter.stop()

    app = FastAPI(
        title="hitl-gate intake",
        version="1",
        description="Agents propose actions; the gate decides whether a human must look, and returns the decision.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    app.include_router(actions.router)
    app.include_router(health.router)
    if runtime.slack is not None and runtime.settings.slack_signing_secret is not None:
        from bot.slack.app import build_bolt_app
        from bot.web import slack_events

        app.state.bolt = build_bolt_app(runtime)
        app.include_router(slack_events.router)
    app.add_middleware(BodyLimit, max_bytes=runtime.settings.max_body_bytes)
    return app
