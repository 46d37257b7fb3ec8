"""Escalation and sampled audits through the real web process, the real jobs and the fake Slack.
Time is the gate's clock, moved by the test (the live server runs in another thread)."""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.slack import ids
from tests.slack.blockkit import assert_valid_message
from tests.slack.conftest import use_policy
from tests.slack_requests import block_action
from workers.timer_jobs import fire_timers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TREE_POLICY = """
action_types:
  refund:
    risk: medium
    reviewers: [UALICE, UBOB, S0FIN]
    escalation:
      levels:
        - {targets: [UALICE], timeout: 5m}
        - {targets: [S0FIN, C0OPS], timeout: 10m}
      ack_timeout: 10m
      final_action: reject
  crm:
    risk: low
    review_mode: sample
    sample_rate: 0.5
    auto_approve_threshold: 0.8
    reviewers: [UALICE]
    audit_channel: C0AUDIT
"""


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def tree(slack, settings):
    use_policy(settings, TREE_POLICY)
    clock = Clock(T0)
    slack.server.runtime.services.clock = clock
    slack.server.runtime.services.draw = lambda: 0.1
    return slack, clock


def fire_due(slack, action_id: str) -> str:
    """Run the timer-wheel job for this second; say what happened to the action (the newest escalation)."""
    from core.store.tables import Escalation

    rt = slack.server.runtime
    assert fire_timers(math.ceil(rt.services.clock().timestamp())).startswith("fired")
    slack.drain()
    with rt.services.db.read() as s:
        return s.scalar(select(Escalation.kind).where(Escalation.action_id == action_id).order_by(Escalation.seq.desc())
                        .limit(1))


def fields_of(message: dict) -> str:
    return str([b for b in message["blocks"] if b["type"] == "section"])


def test_nobody_answers_then_claim_then_lapse_then_final_reject(tree):
    slack, clock = tree
    fake = slack.fake
    a = slack.propose()
    slack.drain()
    post = slack.posted(a["id"])
    assert "<@UALICE>" in post["text"] and "Level 1 of 2: <@UALICE>" in fields_of(post)
    assert_valid_message(post["blocks"])
    assert fake.of("conversations.open")[-1]["users"] == "UALICE"  # level 1 is paged at once
    assert fake.of("chat.postMessage")[-1]["channel"] == "DUALICE"

    clock.now = T0 + timedelta(minutes=5)
    assert fire_due(slack, a["id"]) == "escalated"
    where = slack.location(a["id"])
    reply = next(p for p in fake.of("chat.postMessage") if p.get("thread_ts") == where.message_ts)
    assert "level 2 of 2" in reply["text"] and "<!subteam^S0FIN>" in reply["text"] and "<#C0OPS>" in reply["text"]
    assert any(p["channel"] == "C0OPS" and "needs a decision" in p["text"] for p in fake.of("chat.postMessage"))
    update = fake.of("chat.update")[-1]
    assert "Level 2 of 2" in fields_of(update)
    assert_valid_message(update["blocks"])

    clock.now = T0 + timedelta(minutes=7)
    assert slack.post_interaction(block_action("UBOB", ids.CLAIM, a["id"])).status_code == 200
    slack.drain()
    assert "(paused: claimed)" in fields_of(fake.of("chat.update")[-1])

    clock.now = T0 + timedelta(minutes=17)
    assert fire_due(slack, a["id"]) == "ack_timeout"
    replies = [p for p in fake.of("chat.postMessage") if p.get("thread_ts") == where.message_ts]
    assert "claim lapsed" in replies[-1]["text"] and "<@UALICE>" in replies[-1]["text"]
    assert "Level 1 of 2" in fields_of(fake.of("chat.update")[-1])

    clock.now = T0 + timedelta(minutes=22)
    assert fire_due(slack, a["id"]) == "escalated"
    clock.now = T0 + timedelta(minutes=32)
    assert fire_due(slack, a["id"]) == "final"
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "rejected"
    final = fake.of("chat.update")[-1]
    assert "Rejected" in str(final["blocks"]) and not any(b["type"] == "actions" for b in final["blocks"])


def test_sampled_auto_approval_is_audited_in_its_channel(tree):
    slack, _clock = tree
    fake = slack.fake
    a = slack.propose(action_type="crm", title="Update CRM", payload={"field": "phone"}, confidence=0.95)
    assert a["status"] == "auto_approved"
    slack.drain()
    post = next(p for p in fake.of("chat.postMessage") if p["channel"] == "C0AUDIT")
    assert_valid_message(post["blocks"])
    buttons = [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [ids.SPOT_CHECK_OK, ids.SPOT_CHECK_FLAG, ids.SPOT_CHECK_TAG]

    def audit_click(user, action_id, tag=None):
        body = block_action(user, action_id, a["id"], channel="C0AUDIT", message_ts=post.get("ts", "1.1"))
        body["actions"][0]["block_id"] = ids.SPOT_CHECK_BLOCK
        if tag:
            body["state"] = {"values": {ids.SPOT_CHECK_BLOCK: {ids.SPOT_CHECK_TAG: {
                "type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": tag}, "value": tag}}}}}
        assert slack.post_interaction(body).status_code == 200
        slack.drain()

    audit_click("UMALLORY", ids.SPOT_CHECK_OK)
    assert "not a reviewer" in fake.of("chat.postEphemeral")[-1]["text"]
    audit_click("UALICE", ids.SPOT_CHECK_FLAG)  # no tag chosen
    assert "pick a reason tag" in fake.of("chat.postEphemeral")[-1]["text"]
    audit_click("UALICE", ids.SPOT_CHECK_FLAG, tag="policy_violation")
    update = fake.of("chat.update")[-1]
    assert_valid_message(update["blocks"])
    assert "Should not have happened" in str(update["blocks"]) and "policy violation" in str(update["blocks"])
    from core import spot_checks

    assert spot_checks.get(slack.server.runtime.services, a["id"]).verdict == "flagged"


def thread_replies(slack, action_id: str) -> list[str]:
    where = slack.location(action_id)
    return [p["text"] for p in slack.fake.of("chat.postMessage") if p.get("thread_ts") == where.message_ts]


def dms(slack) -> list[dict]:
    return [p for p in slack.fake.of("chat.postMessage") if str(p.get("channel", "")).startswith("D")]


def test_a_failing_dm_is_retried_alone_and_nobody_is_told_twice(tree):
    from bot.slack.jobs import NoticesFailed, notify_escalation, post_review
    from core import escalation_notices as notices

    slack, clock = tree
    use_policy(slack.server.runtime.settings, TREE_POLICY.replace("{targets: [S0FIN, C0OPS], timeout: 10m}",
                                                                  "{targets: [UBOB, C0OPS], timeout: 10m}"))
    slack.fake.refuse("conversations.open", "internal_error")  # no DM can be opened for now
    a = slack.propose()
    for _ in range(3):  # the job and its retries
        with pytest.raises(NoticesFailed, match="UALICE: internal_error"):
            post_review(a["id"])
    reviews = [p for p in slack.fake.of("chat.postMessage") if p.get("blocks") and not p.get("thread_ts")]
    assert len(reviews) == 1 and dms(slack) == []

    clock.now = T0 + timedelta(minutes=5)
    assert fire_timers(math.ceil(clock().timestamp())).startswith("fired")
    for _ in range(3):
        with pytest.raises(NoticesFailed, match="UBOB: internal_error"):
            notify_escalation(a["id"], 1)
    assert len(thread_replies(slack, a["id"])) == 1  # the thread reply went out once, not once per retry
    assert len([p for p in slack.fake.of("chat.postMessage") if p.get("channel") == "C0OPS"]) == 1

    slack.fake.refusals.clear()  # the fault clears: each DM goes out, once
    assert post_review(a["id"]) == "already posted"
    assert notify_escalation(a["id"], 1) == "notified 2 target(s)"
    assert notify_escalation(a["id"], 1) == "nothing owed"
    assert post_review(a["id"]) == "already posted"
    assert sorted(p["channel"] for p in dms(slack)) == ["DUALICE", "DUBOB"]
    assert len(thread_replies(slack, a["id"])) == 1
    assert notices.unreachable(slack.server.runtime.services) == []


def test_an_unreachable_channel_is_given_up_once_and_said_once_in_the_thread(tree):
    from bot.slack.jobs import notify_escalation

    slack, clock = tree
    slack.fake.refuse("chat.postMessage", "not_in_channel", channel="C0OPS")
    a = slack.propose()
    slack.drain()
    clock.now = T0 + timedelta(minutes=5)
    assert fire_due(slack, a["id"]) == "escalated"  # the job did not fail: a channel it cannot reach is no retry
    assert notify_escalation(a["id"], 1) == "nothing owed"
    replies = thread_replies(slack, a["id"])
    warnings = [r for r in replies if r.startswith("⚠️ Could not notify <#C0OPS>")]
    assert len(warnings) == 1 and "not_in_channel" in warnings[0] and "/invite" in warnings[0]
    from core import escalation_notices as notices

    (given_up,) = notices.unreachable(slack.server.runtime.services)
    assert (given_up.target, given_up.last_error) == ("C0OPS", "not_in_channel")
