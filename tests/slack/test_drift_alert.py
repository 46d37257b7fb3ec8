"""A drift, end to end: spot checks flagged with the Slack buttons raise an alarm, the alert reaches
the policy's alerts_channel, and the type's next proposal waits for a human review."""
from __future__ import annotations

from bot.slack import ids
from tests.slack.blockkit import assert_valid_message
from tests.slack.conftest import use_policy
from tests.slack_requests import block_action

POLICY = """
alerts_channel: C0ALERTS
action_types:
  crm:
    risk: low
    review_mode: auto
    audit_rate: 1
    on_drift: review
    reviewers: [UALICE]
    audit_channel: C0AUDIT
    channel: C0CRM
"""


def flag(slack, action_id: str) -> None:
    post = next(p for p in slack.fake.of("chat.postMessage")
                if p["channel"] == "C0AUDIT" and action_id in str(p["blocks"]))
    body = block_action("UALICE", ids.SPOT_CHECK_FLAG, action_id, channel="C0AUDIT", message_ts=post.get("ts", "1.1"))
    body["actions"][0]["block_id"] = ids.SPOT_CHECK_BLOCK
    body["state"] = {"values": {ids.SPOT_CHECK_BLOCK: {ids.SPOT_CHECK_TAG: {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "wrong_action"}, "value": "wrong_action"}}}}}
    assert slack.post_interaction(body).status_code == 200
    slack.drain()


def test_flags_in_slack_raise_an_alert_and_send_the_type_back_to_review(slack):
    use_policy(slack.server.runtime.settings, POLICY)
    ran = [slack.propose(action_type="crm", title=f"Update <!channel> {i}", payload={"i": i}, confidence=0.97)
           for i in range(2)]
    assert all(a["status"] == "auto_approved" for a in ran)
    slack.drain()
    for a in ran:
        flag(slack, a["id"])

    (alert,) = [p for p in slack.fake.of("chat.postMessage") if p["channel"] == "C0ALERTS"]
    assert_valid_message(alert["blocks"])
    assert alert["blocks"][0]["text"]["text"] == "⚠ Drift: crm"
    shown = str(alert["blocks"])
    assert "2 of the last 2 spot checks of crm were flagged" in shown and "hitl drift clear crm" in shown

    held = slack.propose(action_type="crm", title="Update 3", payload={"i": 3}, confidence=0.99)
    assert held["status"] == "pending" and held["explanation"].startswith("back to review: drift caught")
    slack.drain()
    assert slack.posted(held["id"])["channel"] == "C0CRM"  # a human review, in the type's channel
