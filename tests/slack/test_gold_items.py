"""Gold items in Slack: a past decision posted beside a new review, looking exactly like one; the
reviewer's click is scored against the known answer, shown to them, and nothing runs."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.slack import ids
from core import deciding, gold
from core.store.tables import Action
from tests.slack.blockkit import assert_valid_message
from tests.slack.conftest import use_policy
from tests.slack_requests import block_action

POLICY = """
action_types:
  refund:
    risk: medium
    gold_rate: 0.5
    channel: C0REF
    reviewers: [UALICE, UBOB]
"""


def settled_long_ago(slack, kind: str, **extra) -> dict:
    """A refund a person decided two days ago: gold items are drawn from settled decisions only."""
    services = slack.server.runtime.services
    a = slack.propose(title=f"Refund <!channel> {kind}", **extra)
    deciding.decide(services, a["id"], reviewer="UBOB", kind=kind, reason_tags=["policy_violation"]
                    if kind == "reject" else None)
    with services.db.transaction() as s:
        s.execute(update(Action).where(Action.id == a["id"]).values(decided_at=services.clock() - timedelta(days=2)))
    slack.drain()
    return a


def gold_post(slack) -> dict:
    (post,) = [p for p in slack.fake.of("chat.postMessage") if "gold_" in str(p["blocks"])]
    return post


def ts_of(slack, post: dict) -> str:
    gold_id = next(v for v in buttons(post).values() if v.startswith("gold_")).split(":")[0]
    return gold.get(slack.server.runtime.services, gold_id).message_ts


def buttons(post: dict) -> dict[str, str]:
    (row,) = [b for b in post["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e.get("value", "") for e in row["elements"]}


def test_a_gold_item_looks_like_a_review_and_a_miss_is_shown_to_the_reviewer(slack):
    use_policy(slack.server.runtime.settings, POLICY)
    slack.server.runtime.services.draw = lambda: 0.0  # drawn, from the known-bad pool, its newest
    past = settled_long_ago(slack, "reject")
    new = slack.propose(title="Refund order 7")
    slack.drain()

    real, post = slack.posted(new["id"]), gold_post(slack)
    assert post["channel"] == "C0REF" and post is not real
    assert_valid_message(post["blocks"])
    assert set(buttons(post)) == set(buttons(real))  # the same buttons as any review
    assert post["blocks"][0]["text"]["text"] == "Refund <!channel> reject"  # plain text: inert
    assert post["text"].startswith("Review needed: ")
    assert past["id"] not in str(post) and "Rejected" not in str(post["blocks"])
    gold_id = buttons(post)[ids.APPROVE].split(":")[0]
    assert gold.is_gold(gold_id)

    assert slack.post_interaction(block_action("UALICE", ids.APPROVE, buttons(post)[ids.APPROVE],
                                               channel="C0REF", message_ts=ts_of(slack, post))).status_code == 200
    slack.drain()
    update_ = [u for u in slack.fake.of("chat.update") if u["ts"] == ts_of(slack, post)][-1]
    assert_valid_message(update_["blocks"])
    shown = str(update_["blocks"])
    assert "Gold item" in shown and "*rejected*" in shown and "would have let a wrong action run" in shown
    assert all(b["type"] != "actions" for b in update_["blocks"])
    item = gold.get(slack.server.runtime.services, gold_id)
    assert (item.reviewer, item.response, item.correct) == ("UALICE", "approve", False)
    got = slack.agent.get(f"/v1/actions/{past['id']}").json()
    assert got["status"] == "rejected" and len(got["votes"]) == 1  # the past action is untouched


def gold_beside_a_new_review(slack, kind: str) -> dict:
    """A past refund decided `kind`, then a new one whose review draws a gold item (the past one)."""
    use_policy(slack.server.runtime.settings, POLICY)
    slack.server.runtime.services.draw = lambda: 0.0
    settled_long_ago(slack, kind)
    slack.propose(title="Refund order 8")
    slack.drain()
    return gold_post(slack)


def test_modify_on_a_gold_item_is_the_answer_itself_and_opens_no_form(slack):
    post = gold_beside_a_new_review(slack, "approve")  # only a known-good item exists
    value = buttons(post)[ids.MODIFY]
    slack.post_interaction(block_action("UALICE", ids.MODIFY, value, channel="C0REF", message_ts=ts_of(slack, post)))
    slack.drain()
    assert not slack.fake.of("views.open")
    item = gold.get(slack.server.runtime.services, value.split(":")[0])
    assert (item.response, item.answer, item.correct) == ("modify", "approve", False)
    update_ = [u for u in slack.fake.of("chat.update") if u["ts"] == ts_of(slack, post)][-1]
    assert "It was right as proposed" in str(update_["blocks"])


def test_someone_who_is_not_a_reviewer_is_told_so_and_the_item_stays_open(slack):
    post = gold_beside_a_new_review(slack, "reject")
    value = buttons(post)[ids.REJECT]
    slack.post_interaction(block_action("UMALLORY", ids.REJECT, value, channel="C0REF", message_ts=ts_of(slack, post)))
    slack.drain()
    (notice,) = [e for e in slack.fake.of("chat.postEphemeral") if e["user"] == "UMALLORY"]
    assert "not a reviewer" in notice["text"]
    assert gold.get(slack.server.runtime.services, value.split(":")[0]).response is None
