"""What the benchmarks share: a throwaway PostgreSQL database, a `hitl serve` process, percentiles."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("HITL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


@contextmanager
def throwaway_database(admin_url: str = PG_URL) -> Iterator[str]:
    """A new, migrated database of our own; dropped afterwards whatever happens."""
    from core.store.db import Database

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"hitl_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        db = Database(url)
        db.migrate()
        db.dispose()
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def hitl_serve(env: dict[str, str], port: int, web_workers: int = 1, started: list | None = None) -> Iterator[str]:
    """`hitl serve` in its own process; yields its base URL once /healthz answers 200. `started`, when
    given, receives the process (for its memory and its children's)."""
    env = {**os.environ, **env, "HITL_PORT": str(port), "HITL_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--workers", str(web_workers)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    if started is not None:
        started.append(server)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("hitl serve did not become healthy")
        yield base
    finally:
        server.terminate()
        server.wait(10)
