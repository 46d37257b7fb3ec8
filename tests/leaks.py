"""Processes a finished test left connected to the run's PostgreSQL database.

Every PostgreSQL test shares one database per pytest process (truncated between tests). A worker
process that outlived its test would carry on taking outbox rows and running jobs in the next
test's data, which then fails for no reason of its own. Each PostgreSQL test starts by finding such
processes (through the client port of each session on the database), killing them, and warning
with their command line, so the test that leaked them can be found in the warnings summary."""
from __future__ import annotations

import os
import signal
import warnings

import psutil
from sqlalchemy import text
from sqlalchemy.engine import Connection


class LeakedProcess(UserWarning):
    pass


def _client_ports(conn: Connection) -> set[int]:
    rows = conn.execute(text("SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid() AND client_port IS NOT NULL AND client_port > 0"))
    return {port for (port,) in rows}


def foreign_clients(conn: Connection) -> list[psutil.Process]:
    """Processes other than this one holding a session on the connection's database."""
    ports = _client_ports(conn)
    if not ports:
        return []
    server = conn.engine.url.port or 5432
    # Only sockets connected *to* PostgreSQL: a server another test runs may listen on, or accept
    # connections at, a port number that is also some PostgreSQL client's local port.
    pids = {c.pid for c in psutil.net_connections(kind="tcp")
            if c.laddr and c.raddr and c.laddr.port in ports and c.raddr.port == server
            and c.status == psutil.CONN_ESTABLISHED and c.pid and c.pid != os.getpid()}
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    return found


def kill_leftovers(conn: Connection) -> None:
    for proc in foreign_clients(conn):
        try:
            command = " ".join(proc.cmdline())
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        except psutil.NoSuchProcess:
            continue
        except psutil.TimeoutExpired:
            command += " (still alive after SIGKILL)"
        warnings.warn(LeakedProcess(f"a process from an earlier test was still using the test database; "
                                    f"killed: {command}"), stacklevel=2)
