"""The /hitl-stats trend chart: a PNG of the report's own periods, and none when there is nothing to draw."""
from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from bot.charts import store, trend
from core.metrics import Headline, Stats, Window

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def _head(reviewed: int, rate: float | None) -> Headline:
    return Headline(proposed=reviewed * 2, reviewed=reviewed, approved=0, modified=0, rejected=0, auto_approved=reviewed,
                    blocked=0, override_rate=rate, rejection_rate=rate, intervention_rate=0.5, auto_approve_share=0.5,
                    ttd_p50=None if rate is None else 300.0, ttd_p90=None, ttd_exact=True, distinct_tags=0,
                    distinct_field_sets=0, top_tags=[])


def _stats(trend_heads: list[Headline]) -> Stats:
    periods = [(NOW - timedelta(days=7 * (len(trend_heads) - k)), h) for k, h in enumerate(trend_heads)]
    return Stats(scope="refund", window=Window.ending(NOW, 7), current=trend_heads[-1], previous=trend_heads[-2],
                 pending=0, oldest_pending=None, trend=periods)


def test_the_chart_is_a_png_of_800_by_420():
    png = trend.render(_stats([_head(0, None)] * 2 + [_head(10 + k, 0.3 - k * 0.05) for k in range(6)]))
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 420)


def test_no_chart_without_a_single_review_in_the_trend():
    assert trend.render(_stats([_head(0, None)] * 8)) is None


def test_a_chart_address_is_random_and_only_its_own_token_finds_it():
    import fakeredis

    r = fakeredis.FakeRedis()
    token = store.put(r, b"png", 60)
    assert store.TOKEN.fullmatch(token) and store.get(r, token) == b"png"
    assert store.put(r, b"png", 60) != token
    assert store.get(r, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.get(r, "x" * 31 + "/") is None  # not an address this store makes
    assert token not in str(r.keys())  # Redis holds the address's hash, not the address
    assert 0 < r.ttl(store.PREFIX + __import__("hashlib").sha256(token.encode()).hexdigest()) <= 60
    assert store.url("https://hitl.example.com/", token) == f"https://hitl.example.com/charts/{token}.png"


def test_no_chart_address_slack_could_not_reach():
    from bot.slack.stats_jobs import _reachable
    from core.settings import Settings

    assert not _reachable(Settings(slack_api_url="https://slack.com/api/"))  # a real Slack, http://127.0.0.1:8000
    assert _reachable(Settings(slack_api_url="https://slack.com/api/", public_url="https://hitl.example.com"))
    assert _reachable(Settings(slack_api_url="http://127.0.0.1:9000/sandbox/api/"))  # the sandbox fetches locally
