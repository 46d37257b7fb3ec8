"""The database handle: engines for SQLite (embedded default) and PostgreSQL (production)."""
from __future__ import annotations

import json
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:  # the async engine is imported only where it is used (PostgreSQL clicks)
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision. Knowing it lets a process that finds the schema current skip
# Alembic altogether (its import and upgrade check cost a CLI command ~0.4 s); a test keeps it true.
SCHEMA_HEAD = "0015"
_MIGRATION_LOCK = 727_274_001  # pg advisory lock id: many web processes may start at once


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched: the compare-and-set answer every claim relies on.
    (Session.execute is typed as returning Result, which hides CursorResult.rowcount.)"""
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class Limits:
    """How long PostgreSQL lets one session wait, run or sit in a transaction, in seconds (0: no
    limit). A process that dies, hangs or is cut off mid-transaction then gives its locks back
    instead of wedging every writer behind it."""

    statement: float = 30.0
    lock: float = 10.0
    idle_in_transaction: float = 60.0
    pool_wait: float = 10.0  # waiting for a free pooled connection; then the caller gets a 503
    connect: float = 10.0

    def options(self) -> str:
        ms = {"statement_timeout": self.statement, "lock_timeout": self.lock,
              "idle_in_transaction_session_timeout": self.idle_in_transaction}
        return " ".join(f"-c {name}={int(seconds * 1000)}" for name, seconds in ms.items())


# Every PostgreSQL connection this process opened, so a forked child can let go of their sockets.
_CONNECTIONS: weakref.WeakSet = weakref.WeakSet()


def _track(dbapi_conn: Any, _record: Any) -> None:
    _CONNECTIONS.add(getattr(dbapi_conn, "driver_connection", None) or dbapi_conn)


def _release_inherited_sockets() -> None:
    """In a forked child (RQ's scheduler, a job's work horse): point every inherited PostgreSQL socket
    at /dev/null. The child must never use them, and must not keep them open either: if it did, a
    parent killed mid-transaction would leave its session idle in transaction, holding its locks,
    for as long as the child lives. Closing them the libpq way would instead end the parent's own
    sessions; replacing the descriptor does neither, and whatever the child's copy of libpq writes
    there later goes nowhere."""
    inherited = list(_CONNECTIONS)
    _CONNECTIONS.clear()
    if not inherited:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for conn in inherited:
            try:
                fd = conn.pgconn.socket
            except Exception:  # already closed or broken: nothing is held open
                continue
            if fd >= 0:
                os.dup2(devnull, fd)
    finally:
        os.close(devnull)


os.register_at_fork(after_in_child=_release_inherited_sockets)


class Database:
    def __init__(self, url: str, pool_size: int = 10, limits: Limits | None = None, name: str = "hitl-gate"):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.limits = limits or Limits()
        kwargs: dict = {"pool_pre_ping": self.is_sqlite}
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=self.limits.pool_wait,
                          connect_args=self._pg_connect_args(name))
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        else:
            event.listen(self.engine, "connect", _track)
            _ping_when_idle(self.engine)
        # RQ forks a child per job: the child must open its own connections, never reuse the parent's
        # (whose sockets _release_inherited_sockets has already taken away from it).
        os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))
        self._writes = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(self.engine.execution_options(hitl_read_only=True), expire_on_commit=False)
        self._pool_size = pool_size
        self._async_engine: AsyncEngine | None = None

    @property
    def async_engine(self) -> AsyncEngine:
        """PostgreSQL only: for the few writes made on an event loop, which must wait without blocking it."""
        if self.is_sqlite:
            raise RuntimeError("the SQLite store has no async engine; its writes are local and short")
        if self._async_engine is None:
            from sqlalchemy.ext.asyncio import create_async_engine

            # No pre-ping: it would add a round trip to every click; recycle instead, and a dead
            # connection fails one click, which the reviewer sees and repeats.
            self._async_engine = create_async_engine(self.url, pool_size=self._pool_size, pool_recycle=300,
                                                     pool_timeout=self.limits.pool_wait,
                                                     connect_args=self._pg_connect_args("hitl-gate"))
            event.listen(self._async_engine.sync_engine, "connect", _track)
        return self._async_engine

    def _pg_connect_args(self, name: str) -> dict[str, Any]:
        args: dict[str, Any] = {"options": self.limits.options(), "application_name": name[:63]}
        if self.limits.connect:
            args["connect_timeout"] = max(1, int(self.limits.connect))
        return args

    @contextmanager
    def unlimited(self) -> Iterator[Any]:
        """A connection without the statement and lock limits, for an operator's long job
        (migrations, rebuilding the rollups) that may rightly wait and run for minutes."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.execute(text("SET statement_timeout = 0"))
                conn.execute(text("SET lock_timeout = 0"))
                conn.execute(text("SET idle_in_transaction_session_timeout = 0"))
                conn.commit()
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on any exception."""
        with self._writes.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads.begin() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def schema_version(self) -> str | None:
        """The applied migration, or None for a database that has none yet."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:  # no such table: never migrated
            return None

    def migrate(self) -> None:
        """Bring the schema to the newest migration. Safe to call from many processes at once."""
        if self.schema_version() == SCHEMA_HEAD:
            return
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)  # before the import: it logs while loading plugins
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.unlimited() as conn:  # other processes wait here for the migration lock
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._async_engine is not None:
            engine, self._async_engine = self._async_engine, None
            _close_async_pool(engine)


def _close_async_pool(engine: AsyncEngine) -> None:
    """Close the event-loop pool's connections now, on a loop of its own in a short thread (the
    caller may be on a loop, or on none). Left to the garbage collector, they stayed open for as
    long as anything referred to them: in the tests, where each app freezes the collector's view,
    that was long enough to run PostgreSQL out of connections."""
    import asyncio
    import logging
    import threading

    def close() -> None:
        try:
            asyncio.run(engine.dispose())
        except Exception:  # a connection already broken: dropping it is all that is left to do
            logging.getLogger(__name__).debug("closing the async pool failed; its connections are dropped",
                                              exc_info=True)
            engine.sync_engine.dispose(close=False)

    closer = threading.Thread(target=close, name="hitl-async-pool-close", daemon=True)
    closer.start()
    closer.join(10)


def json_add(a: str | None, b: str | None) -> str:
    """{k: a[k] + b[k]} over two JSON objects of numbers: how rollup maps merge (PostgreSQL has the
    same function in SQL, created by migration 0006)."""
    total = json.loads(a) if a else {}
    for k, v in (json.loads(b) if b else {}).items():
        total[k] = total.get(k, 0) + v
    return json.dumps(total)


# A pooled PostgreSQL connection idle this long is pinged before use, and replaced if dead (a
# restarted server, a firewall's idle cut). One used more recently is trusted: pinging every
# checkout was 0.2 ms of a 1.5 ms proposal. Should the server restart under busy connections, the
# first statement on one fails (a 503 the client retries with its Idempotency-Key) and SQLAlchemy
# drops every connection of that pool at once.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception:
            alive = False
        if not alive:
            raise exc.DisconnectionError("the pooled connection was dead; the pool opens a new one")


def _sqlite_setup(engine: Engine) -> None:
    # pysqlite's own transaction handling would start writers DEFERRED, and a deferred reader that
    # later writes fails at once with "database is locked" instead of waiting. Take control of BEGIN.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        dbapi_conn.create_function("hitl_json_add", 2, json_add, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        if conn.get_execution_options().get("hitl_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
