"""No database session outlives its process (PostgreSQL): a forked child never keeps its parent's
sockets open, and every session carries statement, lock and idle-in-transaction limits."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core import intake
from core.proposal import Proposal
from core.store.db import Database, Limits
from tests.waiting import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

# A process that takes a row lock inside a transaction, forks a long-lived child (as RQ forks its
# scheduler), says so, and waits to be killed.
HOLDER = textwrap.dedent("""
    import os, sys, time
    from sqlalchemy import text
    from core.store.db import Database, Limits
    db = Database(sys.argv[1], limits=Limits(idle_in_transaction=0, lock=0, statement=0), name="lock-holder")
    with db.engine.connect() as conn:
        conn.execute(text("UPDATE actions SET lock_version = lock_version + 1 WHERE id = :id"), {"id": sys.argv[2]})
        child = os.fork()
        if child == 0:
            time.sleep(600)  # the orphan: lives on after its parent is killed
            os._exit(0)
        print(child, flush=True)
        time.sleep(600)
""")


@pytest.fixture
def held(database_url, services, agent) -> str:
    """A pending action: the row the tests fight over."""
    return intake.submit(services, agent, Proposal(action_type="refund", title="t", payload={"amount": 1},
                                                   confidence=0.5))[0].id


@pytest.fixture
def pg(database_url, held):
    """The test's own engine, with no limits."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def row_free(engine, held: str) -> bool:
    """Whether another session can lock the row now (NOWAIT: never blocks)."""
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = 0"))
            conn.execute(text("SELECT 1 FROM actions WHERE id = :id FOR UPDATE NOWAIT"), {"id": held})
        return True
    except OperationalError:
        return False


def sessions(engine, name: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT state FROM pg_stat_activity WHERE application_name = :n"), {"n": name})
                    .scalars())


def test_a_killed_process_gives_its_locks_back_though_its_forked_child_lives_on(pg, held, database_url):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url, held], stdout=subprocess.PIPE, text=True,
                              start_new_session=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        child = int(holder.stdout.readline())
        assert sessions(pg, "lock-holder") == ["idle in transaction"] and not row_free(pg, held)
        os.kill(holder.pid, signal.SIGKILL)  # the parent dies mid-transaction; its child does not
        holder.wait(30)
        os.kill(child, 0)  # the orphan is still alive
        # Without the fix the orphan keeps the socket open and the session idles in transaction,
        # holding the row, for as long as the orphan lives.
        wait_for(lambda: row_free(pg, held), 30, "the dead process's row lock to be released")
        assert sessions(pg, "lock-holder") == []
    finally:
        os.killpg(holder.pid, signal.SIGKILL)


def test_every_session_carries_the_configured_limits(pg, held, database_url):
    db = Database(database_url, limits=Limits(statement=2.5, lock=1.5, idle_in_transaction=3, pool_wait=1))
    try:
        with db.read() as s:
            shown = {name: s.execute(text(f"SHOW {name}")).scalar()
                     for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
            name = s.execute(text("SHOW application_name")).scalar()
        assert shown == {"statement_timeout": "2500ms", "lock_timeout": "1500ms",
                         "idle_in_transaction_session_timeout": "3s"}
        assert name == "hitl-gate"
        # A write that waits for a row another session holds gives up after lock_timeout.
        with pg.connect() as other:
            other.execute(text("BEGIN"))
            other.execute(text("SELECT 1 FROM actions WHERE id = :id FOR UPDATE"), {"id": held})
            with pytest.raises(OperationalError, match="lock timeout"), db.transaction() as s:
                s.execute(text("UPDATE actions SET lock_version = 0 WHERE id = :id"), {"id": held})
            other.execute(text("ROLLBACK"))
        # A session left idle inside a transaction is ended by the server, and its lock released.
        conn = db.engine.connect()
        conn.execute(text("UPDATE actions SET lock_version = 0 WHERE id = :id"), {"id": held})
        wait_for(lambda: row_free(pg, held), 30, "the idle transaction to be ended by the server")
        conn.invalidate()
        conn.close()
        # Migrations and rollup rebuilds run without the limits.
        with db.unlimited() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        db.dispose()


def _kill_sessions(pg, name: str) -> int:
    with pg.connect() as c:
        return len(c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                             {"n": name}).all())


def test_an_idle_pooled_connection_found_dead_is_replaced_unseen(pg, database_url, monkeypatch):
    from core.store import db as db_module

    db = Database(database_url, name="ping-test")
    try:
        with db.read() as s:
            s.execute(text("SELECT 1"))
        assert _kill_sessions(pg, "ping-test") == 1  # the server ended it while it sat in the pool
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle "long enough"
        with db.read() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1  # pinged, found dead, replaced
    finally:
        db.dispose()


def test_a_recently_used_connection_is_not_pinged_and_one_failure_renews_the_pool(pg, database_url, monkeypatch):
    """The trade-off, shown: a connection used a moment ago is trusted, so a server restart costs
    the next statement on it one error (a 503 to the agent, who retries); the pool then renews."""
    from core.store import db as db_module

    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    db = Database(database_url, name="ping-test")
    try:
        with db.read() as s:
            s.execute(text("SELECT 1"))
        assert _kill_sessions(pg, "ping-test") == 1
        with pytest.raises(OperationalError), db.read() as s:
            s.execute(text("SELECT 1"))
        with db.read() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
    finally:
        db.dispose()
