"""Shadow mode in Slack: the reviewer decides unaided, and only afterwards sees what the agent proposed."""
from __future__ import annotations

import json

import pytest

from bot.slack import ids
from tests.conftest import POLICY
from tests.slack.blockkit import assert_valid_message, assert_valid_modal
from tests.slack.conftest import use_policy
from tests.slack_requests import block_action, view_submission

SHADOW = POLICY + "  email:\n    review_mode: shadow\n    reviewers: [UALICE, UBOB]\n    mask_fields: [/token]\n"
PROPOSAL = dict(action_type="email", title="Tell Ann her refund of $120 is on its way", summary="She asked twice",
                payload={"to": "ann@example.com", "body": "Your refund of $120 is on its way", "amount": 120,
                         "token": "s3cret"},
                context={"ticket": "Where is my refund? I was charged twice."}, confidence=0.93)
ANSWER = {"to": "ann@example.com", "body": "Your refund of $120 is on its way", "amount": 120}
LEAKS = ("ann@example.com", "refund of $120", "93%", "She asked twice", "Tell Ann", "s3cret")


@pytest.fixture
def shadow(slack, settings):
    use_policy(settings, SHADOW)
    a = slack.propose(**PROPOSAL)
    slack.drain()
    return slack, a


def _fields(values: dict) -> dict:
    return {f"f:{k}": {ids.INPUT: {"type": "number_input" if isinstance(v, int) else "plain_text_input", "value": str(v)}}
            for k, v in values.items()}


def test_the_review_shows_the_situation_not_the_agents_answer(shadow):
    slack, a = shadow
    post = slack.posted(a["id"])
    assert_valid_message(post["blocks"])
    shown = json.dumps(post, ensure_ascii=False)
    assert not [leak for leak in LEAKS if leak in shown]
    assert "email (shadow review)" in post["text"] and "Where is my refund? I was charged twice." in shown
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons] == [ids.MODIFY, ids.REJECT, ids.REASON_TAG, ids.CLAIM]
    assert buttons[0]["text"]["text"] == "Decide…"


def test_decide_opens_empty_inputs_and_the_same_answer_counts_as_agreement(shadow):
    slack, a = shadow
    slack.post_interaction(block_action("UALICE", ids.MODIFY, slack.bound(a["id"])))
    view = slack.fake.of("views.open")[-1]["view"]
    assert_valid_modal(view)
    assert view["title"]["text"] == "Your decision" and not [leak for leak in LEAKS if leak in json.dumps(view)]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert {"f:to", "f:body", "f:amount"} <= set(inputs) and "f:token" not in inputs  # masked: kept as proposed
    assert not [e for e in inputs.values() if "initial_value" in e or "initial_options" in e]
    assert inputs["f:amount"]["type"] == "number_input"
    r = slack.post_interaction(view_submission("UALICE", view, _fields(ANSWER)))
    assert r.status_code == 200 and r.content in (b"", b"{}")
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["status"] == "approved" and got["decision"]["final_payload"] == PROPOSAL["payload"]
    slack.drain()
    update = slack.fake.of("chat.update")[-1]
    assert_valid_message(update["blocks"])
    shown = json.dumps(update["blocks"], ensure_ascii=False)
    assert "it matched the decision ✅" in shown and "ann@example.com" in shown and "Tell Ann" in shown
    assert "s3cret" not in shown  # still masked after the reveal


def test_a_different_answer_runs_and_is_reported_as_disagreement(shadow):
    slack, a = shadow
    slack.post_interaction(block_action("UBOB", ids.MODIFY, slack.bound(a["id"])))
    view = slack.fake.of("views.open")[-1]["view"]
    mine = {**ANSWER, "body": "Your refund is on its way; sorry for the double charge."}
    slack.post_interaction(view_submission("UBOB", view, _fields(mine)))
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["status"] == "modified" and got["decision"]["final_payload"] == {**mine, "token": "s3cret"}
    slack.drain()
    shown = json.dumps(slack.fake.of("chat.update")[-1]["blocks"], ensure_ascii=False)
    assert "the decision differed" in shown and "Your refund of $120 is on its way" in shown
    replies = [p for p in slack.fake.of("chat.postMessage") if p.get("thread_ts")]
    assert replies and "changed the payload" in replies[-1]["text"]  # decided: the diff may be shown now
    st = slack.server.runtime.services
    from core import metrics

    current = metrics.stats(st, "email", 7).current
    assert (current.shadow_decided, current.shadow_agreed) == (1, 0)


def test_the_full_payload_stays_hidden_until_decided(shadow):
    slack, a = shadow
    slack.post_interaction(block_action("UALICE", ids.VIEW_PAYLOAD, a["id"]))
    slack.drain()
    assert slack.fake.of("views.open") == []
    (eph,) = slack.fake.of("chat.postEphemeral")
    assert eph["user"] == "UALICE" and "shadow review" in eph["text"]
