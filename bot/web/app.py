"""The web process: the agent intake (/v1), health, and Slack's /slack/events when Slack is configured."""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from bot.bootstrap import Runtime
from bot.web import action_routes, error_responses, example_routes, health, spot_check_routes, stats, tool_routes
from bot.web.limits import BodyLimit
from bot.web.waiter import DecisionWaiter
from core.key_cache import KeyCache


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.waiter = DecisionWaiter(runtime.redis_url)
        await app.state.waiter.start()
        # Everything built at start-up lives for the whole process: move it out of the collector's
        # sight, so full collections stay short. Measured: ack p99 137 ms → 44 ms (bench/slack_ack.py).
        gc.freeze()
        # Sync handlers run on this pool. Fewer threads queue less behind the GIL: at 16 concurrent
        # intake clients, 40 threads gave p99 219 ms and 8 gave 141 ms (bench/intake.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = runtime.settings.web_threads
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
    app.state.agent_keys = KeyCache(runtime.settings.agent_key_cache_seconds)
    error_responses.install(app)
    app.include_router(action_routes.router)
    app.include_router(example_routes.router)
    app.include_router(tool_routes.router)
    app.include_router(spot_check_routes.router)
    app.include_router(stats.router)
    app.include_router(health.router)
    if runtime.slack is not None:  # over HTTP or Socket Mode alike, Slack fetches the charts from here
        from bot.web import chart_routes

        app.include_router(chart_routes.router)
    if runtime.slack is not None and runtime.settings.slack_signing_secret is not None:
        from slack_sdk.signature import SignatureVerifier

        from bot.slack.bolt_app import build_bolt_app
        from bot.slack.deps import SlackDeps
        from bot.web import editor_routes, slack_events

        app.state.bolt = build_bolt_app(runtime)
        app.state.slack_deps = SlackDeps(runtime)
        app.state.slack_verifier = SignatureVerifier(runtime.settings.slack_signing_secret.get_secret_value())
        app.include_router(slack_events.router)
        app.include_router(editor_routes.router)
    limits = runtime.settings
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, max_header_bytes=limits.max_header_bytes,
                       body_seconds=limits.body_timeout_seconds)
    return app
