"""The weekly digest: when it is due, where it goes, and the message the workers post."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from bot.slack import digest_jobs
from core import deciding, digest, intake
from core.agents import create_agent
from core.autonomy import Autonomy
from core.policy.loader import load_policy_text
from core.proposal import Proposal
from core.recommend import Recommendation
from tests.conftest import POLICY
from tests.slack.blockkit import assert_valid_message
from tests.slack.conftest import use_policy

MONDAY = datetime(2026, 11, 30, 9, tzinfo=UTC)  # a Monday, the default digest hour
DIGESTS = POLICY.replace("version: test\n", "version: test\ndigest_channel: C0DIGEST\n").replace(
    "  ping:\n", "  ping:\n    digest_channel: C0PINGS\n")


def test_a_digest_is_due_from_its_hour_for_a_day():
    assert digest.due_at(MONDAY + timedelta(minutes=5), 0, 9) == MONDAY
    assert digest.due_at(MONDAY + timedelta(hours=23), 0, 9) == MONDAY
    assert digest.due_at(MONDAY - timedelta(minutes=1), 0, 9) is None  # Monday 08:59: last week's is too old
    assert digest.due_at(MONDAY + timedelta(days=2), 0, 9) is None
    assert digest.due_at(MONDAY + timedelta(days=2), 2, 9) == MONDAY + timedelta(days=2)


def test_each_digest_channel_covers_its_types():
    policy = load_policy_text(DIGESTS, "p.yaml").policy
    assert digest.channels(policy) == {"C0PINGS": ("ping",), "C0DIGEST": None}


def _week(services, agent, at: datetime, rejected: int, approved: int) -> None:
    with freeze_time(at):
        for i in range(rejected + approved):
            a = intake.submit(services, agent, Proposal(action_type="refund", title=f"r{i}", payload={"amount": 5},
                                                        confidence=0.5))[0].id
            if i < rejected:
                deciding.decide(services, a, reviewer="UALICE", kind="reject", reason_tags=["wrong_action"])
            else:
                deciding.decide(services, a, reviewer="UALICE", kind="approve")


def test_the_workers_post_the_digest_once_per_channel_and_week(slack, slack_runtime, settings):
    use_policy(settings, DIGESTS)
    services = slack_runtime.services
    agent, _ = create_agent(services.db, "digest-agent")
    _week(services, agent, MONDAY - timedelta(days=10), rejected=2, approved=2)
    _week(services, agent, MONDAY - timedelta(days=3), rejected=0, approved=4)

    services.clock = lambda: MONDAY + timedelta(minutes=3)
    assert digest_jobs.enqueue_due(slack_runtime, slack_runtime.redis) == 2
    slack.drain()
    posts = {p["channel"]: p for p in slack.fake.of("chat.postMessage") if p["channel"] in ("C0DIGEST", "C0PINGS")}
    assert set(posts) == {"C0DIGEST", "C0PINGS"}
    blocks = posts["C0DIGEST"]["blocks"]
    assert_valid_message(blocks)
    assert blocks[0]["text"]["text"] == "Weekly digest · all action types · week to Nov 30"
    text = str(blocks)
    assert "*Rejection rate*\\n0%  ▼ 50 pts" in text and "*Biggest movers*" in text
    assert "`refund`: override 0% (= 0 pts), rejection 0% (▼ 50 pts), 4 reviewed" in text
    assert any(b["type"] == "image" for b in blocks)
    assert posts["C0PINGS"]["blocks"][0]["text"]["text"] == "Weekly digest · ping · week to Nov 30"

    assert digest_jobs.enqueue_due(slack_runtime, slack_runtime.redis) == 0  # posted: not again this week
    assert digest_jobs.post_digest("C0DIGEST", [], MONDAY.isoformat()) == "posted already"


def test_a_failed_post_is_tried_again(slack, slack_runtime, settings):
    use_policy(settings, DIGESTS)
    slack.fake.refuse("chat.postMessage", "channel_not_found", channel="C0DIGEST")
    try:
        digest_jobs.post_digest("C0DIGEST", [], MONDAY.isoformat())
    except Exception:
        pass
    slack.fake.refusals.clear()
    assert digest_jobs.post_digest("C0DIGEST", [], MONDAY.isoformat()) == "posted"


def _rec(threshold):
    return Recommendation("refund", 10, threshold, 10, 1.0, 0.9, 0.5, 0.1, "why")


def test_advice_changes_are_named_with_before_and_after():
    keep = Autonomy("refund", "review", None, False, "")
    move = Autonomy("refund", "review", "sample", False, "")
    before = digest._advice(type("S", (), {"recommendations": [(_rec(None), keep)]})())
    after = digest._advice(type("S", (), {"recommendations": [(_rec(0.9), move)]})())
    assert before["refund"] == "no safe threshold yet; keep review_mode review"
    assert after["refund"] == "auto_approve_threshold 0.9; review_mode review → sample"
