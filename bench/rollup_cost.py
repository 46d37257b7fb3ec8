"""What keeping the /hitl-stats rollups costs the write path, on PostgreSQL, in one run.

    .venv/bin/python bench/rollup_cost.py [--n 1500] [--threads 1,8]

In process (no HTTP), for 1 and 8 threads: proposals auto-approved at intake (one rollup upsert
each), and human decisions on pending proposals (a vote, the decision, one upsert with reason tags,
the time-to-decision histogram and calibration). Each is run with the rollups kept and with the
commit hook that folds them removed; the ratio is what to read. All writers share one action type
and agent, so every upsert lands on the same hour and day rows: the worst case for row locks.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import PG_URL, throwaway_database  # noqa: E402
from core import deciding, intake, rollups  # noqa: E402
from core.agents import create_agent  # noqa: E402
from core.policy.loader import load_policy_text  # noqa: E402
from core.proposal import Proposal  # noqa: E402
from core.services import Services  # noqa: E402
from core.store.db import Database  # noqa: E402
from tests.fakes import FixedPolicy, RecordingDispatcher  # noqa: E402

POLICY = "version: bench\naction_types:\n  ping:\n    risk: low\n    review_mode: auto\n  refund:\n    review_mode: review\n"


@contextmanager
def rollups_off():
    event.remove(Session, "before_commit", rollups._fold)
    try:
        yield
    finally:
        event.listen(Session, "before_commit", rollups._fold)


def rate(threads: int, n: int, work) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(n)))
    return n / (time.perf_counter() - started)


def measure(services: Services, threads: int, n: int) -> tuple[float, float]:
    agent = create_agent(services.db, f"bench-{time.monotonic_ns()}")[0]
    auto = Proposal(action_type="ping", title="t", payload={"a": 1}, confidence=0.9)
    review = Proposal(action_type="refund", title="t", payload={"amount": 1}, confidence=0.7)
    pending = [intake.submit(services, agent, review)[0].id for _ in range(n)]
    kinds = ("approve", "reject", "approve", "modify")

    def decide(i: int) -> None:
        kind = kinds[i % 4]
        deciding.decide(services, pending[i], reviewer=f"U{i % 7}", kind=kind,
                        reason_tags=["edge_case"] if kind != "approve" else [],
                        edited_payload={"amount": 2} if kind == "modify" else None)

    return rate(threads, n, lambda _: intake.submit(services, agent, auto)), rate(threads, n, decide)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--threads", default="1,8")
    args = ap.parse_args()
    with throwaway_database(args.pg_url) as url:
        db = Database(url, pool_size=16)
        services = Services(db=db, policies=FixedPolicy(load_policy_text(POLICY, "bench.yaml")),
                            dispatcher=RecordingDispatcher())
        print(f"{'threads':>7} {'intake on':>10} {'intake off':>10} {'ratio':>6} "
              f"{'decide on':>10} {'decide off':>10} {'ratio':>6}")
        measure(services, 4, 200)  # warm up: connections, compiled statements, plans
        for threads in (int(t) for t in args.threads.split(",")):
            # off, on, off again: the table grows as the run goes, so "on" sits between two "off"s.
            with rollups_off():
                first = measure(services, threads, args.n)
            intake_on, decide_on = measure(services, threads, args.n)
            with rollups_off():
                second = measure(services, threads, args.n)
            intake_off, decide_off = ((a + b) / 2 for a, b in zip(first, second, strict=True))
            print(f"{threads:>7} {intake_on:>8.0f}/s {intake_off:>8.0f}/s {intake_on / intake_off:>6.2f} "
                  f"{decide_on:>8.0f}/s {decide_off:>8.0f}/s {decide_on / decide_off:>6.2f}", flush=True)
        db.dispose()


if __name__ == "__main__":
    main()
