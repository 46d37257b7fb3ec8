"""The suite's own guard (tests/leaks.py): a process an earlier test left on the PostgreSQL test
database is found, killed and named; this process's own sessions are left alone."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import psutil
import pytest
from sqlalchemy import create_engine

from tests.leaks import LeakedProcess, foreign_clients, kill_leftovers

LINGERER = textwrap.dedent("""
    import sys, time
    from sqlalchemy import create_engine, text
    with create_engine(sys.argv[1]).connect() as conn:
        conn.execute(text("SELECT 1"))
        print("connected", flush=True)
        time.sleep(600)
""")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lingering_process_on_the_test_database_is_killed_and_named(database_url):
    engine = create_engine(database_url)
    lingerer = subprocess.Popen([sys.executable, "-c", LINGERER, database_url], stdout=subprocess.PIPE, text=True)
    try:
        assert lingerer.stdout.readline().strip() == "connected"
        with engine.connect() as conn, engine.connect() as own:  # a second session of our own: not foreign
            assert own is not None
            assert [p.pid for p in foreign_clients(conn)] == [lingerer.pid]
            with pytest.warns(LeakedProcess, match=r"(?s)killed: .*time.sleep\(600\)"):
                kill_leftovers(conn)
        assert not psutil.pid_exists(lingerer.pid)  # killed and reaped (so Popen sees no status of its own)
        with engine.connect() as conn:
            assert foreign_clients(conn) == []
    finally:
        lingerer.kill()
        lingerer.wait(timeout=30)
        lingerer.stdout.close()
        engine.dispose()
