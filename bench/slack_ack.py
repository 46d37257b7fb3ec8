"""Slack ack latency: signed block_actions clicks against `hitl serve` from 16 concurrent clients.

    .venv/bin/python bench/slack_ack.py [--clicks 2000] [--clients 16]

A throwaway PostgreSQL database, a private embedded Redis and a fake Slack Web API; the web
process runs as `hitl serve` in its own process. The ack path is what Slack waits for: verify the
signature, record the click (one INSERT), enqueue its job. Round one approves N pending actions,
round two clicks them all again (each will lose). No worker runs during the rounds; afterwards
`hitl worker --burst` applies every recorded click, and the counts show none was lost.
Slack's limit is 3 s; the target is p99 under 50 ms.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_URL, hitl_serve, pct, throwaway_database  # noqa: E402
from bot.slack import ids  # noqa: E402
from bot.slack.request_body import bound_value  # noqa: E402
from core.agents import create_agent  # noqa: E402
from core.seen import Seen  # noqa: E402
from core.store.db import Database  # noqa: E402
from tests.slack_fake import FakeSlack  # noqa: E402
from tests.slack_requests import SECRET, block_action, form, sign  # noqa: E402

BODY = {"action_type": "refund", "title": "t", "payload": {"amount": 1}, "confidence": 0.5}


def button_value(action_id: str) -> str:
    """What the Approve button of a new review carries: the id, revision 0 and the payload's hash."""
    return bound_value(action_id, Seen.of(0, BODY["payload"]))


def run_wrk(base: str, actions: list[str], args, tmp: str) -> None:
    """wrk over pre-signed clicks (each valid for Slack's 5-minute window), 16 connections, 2 threads."""
    entries = []
    for action_id in actions:
        body = form(block_action("UALICE", ids.APPROVE, button_value(action_id)))
        headers = sign(body)
        entries.append((body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]))
    script = Path(tmp) / "clicks.lua"
    rows = ",\n".join(f'{{[==[{b}]==], "{t}", "{sig}"}}' for b, t, sig in entries)
    script.write_text(f"""local clicks = {{
{rows}
}}
local i = 0
request = function()
  i = i + 1
  local c = clicks[(i % #clicks) + 1]
  return wrk.format("POST", "/slack/events", {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Slack-Request-Timestamp"] = c[2], ["X-Slack-Signature"] = c[3]}}, c[1])
end
""")
    out = subprocess.run(["wrk", "-t2", f"-c{args.clients}", f"-d{args.seconds}s", "--latency", "-s", str(script),
                          f"{base}/slack/events"], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    rps = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
    total = re.search(r"(\d+) requests in", out).group(1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"wrk, {args.clients} connections, {args.seconds}s: {total} signed clicks, {rps} req/s, "
          f"p50 {lat['50']}  p90 {lat['90']}  p99 {lat['99']}  non-2xx {bad.group(1) if bad else 0}")


def client_run(base: str, action_ids: list[str]) -> list[tuple[float, int]]:
    """One client: signed Approve clicks, one after another, on a kept-alive connection."""
    out = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for action_id in action_ids:
            payload = form(block_action("UALICE", ids.APPROVE, button_value(action_id)))
            headers = sign(payload)
            t = time.perf_counter()
            r = client.post("/slack/events", content=payload, headers=headers)
            out.append((time.perf_counter() - t, r.status_code))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--clicks", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--skip-drain", action="store_true", help="measure the acks only")
    ap.add_argument("--driver", choices=["python", "wrk"], default="wrk" if shutil.which("wrk") else "python",
                    help="load generator: wrk (C, Debian package `wrk`) costs the shared CPUs far less than Python")
    ap.add_argument("--seconds", type=int, default=10, help="wrk: how long each round runs")
    ap.add_argument("--web-workers", type=int, default=1, help="web processes (hitl serve --workers)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="hitl-bench-")
    policy = Path(tmp) / "policy.yaml"
    policy.write_text("action_types:\n  refund:\n    reviewers: [UALICE, UBOB]\n    channel: C0REVIEW\n")
    with FakeSlack() as fake, throwaway_database(args.pg_url) as url:
        db = Database(url)
        _agent, key = create_agent(db, "bench")
        env = {"HITL_DATABASE_URL": url, "HITL_POLICY_FILE": str(policy), "HITL_DATA_DIR": tmp,
               "HITL_SLACK_BOT_TOKEN": "xoxb-bench", "HITL_SLACK_SIGNING_SECRET": SECRET, "HITL_SLACK_API_URL": fake.url,
               "HITL_DB_POOL_SIZE": "20",
               "HITL_SLACK_POST_INTERVAL_MS": "0"}  # the drain posts 2,000 reviews to one channel; acks are measured here
        with hitl_serve(env, port=8798, web_workers=args.web_workers) as base:
            agent = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})
            actions = [agent.post("/v1/actions", json=BODY).json()["id"] for _ in range(args.clicks)]
            if args.driver == "wrk":
                run_wrk(base, actions, args, tmp)
            else:
                for label in ("approve (decides)", "approve again (loses)"):
                    # One process per client: a single process of 16 threads would measure its own GIL queue.
                    shares = [actions[i::args.clients] for i in range(args.clients)]
                    started = time.perf_counter()
                    with ProcessPoolExecutor(args.clients) as pool:
                        results = [r for part in pool.map(client_run, [base] * args.clients, shares) for r in part]
                    wall = time.perf_counter() - started
                    lat = [r[0] for r in results]
                    codes = {c: sum(1 for r in results if r[1] == c) for c in {r[1] for r in results}}
                    print(f"{label:24s}: {len(lat)} clicks, {args.clients} clients, {len(lat) / wall:6.0f} req/s, "
                          f"p50 {pct(lat, 50) * 1000:5.1f} ms  p99 {pct(lat, 99) * 1000:5.1f} ms  "
                          f"max {max(lat) * 1000:6.1f} ms  status {codes}")
        if not args.skip_drain:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--burst"], env={**os.environ, **env}, cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            drained = time.perf_counter() - started
            with db.read() as s:
                decided = s.execute(text("SELECT count(*) FROM actions WHERE status = 'approved'")).scalar()
                clicks, applied = s.execute(text("SELECT count(*), count(applied_at) FROM interactions")).one()
            print(f"afterwards one `hitl worker --burst` applied {applied} of {clicks} recorded clicks in {drained:.1f} s: "
                  f"{decided} of {len(actions)} actions approved, {len(fake.of('chat.postEphemeral'))} losers told who won")
        db.dispose()
        print(f"machine: {os.cpu_count()} cores; load generator, web process and PostgreSQL share them")


if __name__ == "__main__":
    main()
