"""Scenarios end to end over HTTP: intake → chat.postMessage; signed clicks → decisions, chat.update, modals."""
from __future__ import annotations

import threading

from bot.slack import ids
from tests.slack.blockkit import assert_valid_message, assert_valid_modal
from tests.slack_requests import block_action, view_submission


def test_proposal_is_posted_with_valid_blocks(slack):
    a = slack.propose()
    slack.drain()
    post = slack.posted(a["id"])
    assert post["channel"] == "C0REVIEW" and "Refund order 42" in post["text"]
    assert_valid_message(post["blocks"])
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons] == [ids.APPROVE, ids.MODIFY, ids.REJECT, ids.REASON_TAG, ids.CLAIM,
                                                 ids.VIEW_PAYLOAD]
    assert buttons[0]["style"] == "primary" and buttons[2]["style"] == "danger"


def test_approve_click_returns_the_long_poll_and_updates_the_message(slack):
    a = slack.propose()
    slack.drain()
    result = {}
    poll = threading.Thread(target=lambda: result.update(slack.agent.get(f"/v1/actions/{a['id']}/decision",
                                                                           params={"wait": 30}).json()))
    poll.start()
    r = slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    assert r.status_code == 200
    slack.drain()  # the worker applies the recorded click
    poll.join(20)
    assert result["status"] == "approved" and result["decision"]["reviewers"] == ["UALICE"]
    slack.drain()
    update = slack.fake.of("chat.update")[-1]
    where = slack.location(a["id"])
    assert (update["channel"], update["ts"]) == (where.channel, where.message_ts) == ("C0REVIEW", where.message_ts)
    assert_valid_message(update["blocks"])
    text = str(update["blocks"])
    assert "Approved" in text and "<@UALICE>" in text and not any(b["type"] == "actions" for b in update["blocks"])


def test_reject_with_the_dropdown_tag_stores_the_tag(slack):
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UBOB", ids.REJECT, slack.bound(a["id"]), reason_tag="policy_violation"))
    slack.drain()
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["status"] == "rejected" and got["decision"]["reason_tags"] == ["policy_violation"]


def test_reject_without_a_tag_opens_the_modal_and_its_submission_rejects(slack):
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UBOB", ids.REJECT, slack.bound(a["id"])))
    (opened,) = slack.fake.of("views.open")
    view = opened["view"]
    assert view["callback_id"] == ids.REJECT_VIEW and opened["trigger_id"] == "111.222.trigger"
    assert_valid_modal(view)
    values = {ids.TAGS_BLOCK: {ids.INPUT: {"type": "multi_static_select", "selected_options": [
        {"text": {"type": "plain_text", "text": "edge case"}, "value": "edge_case"}]}},
        ids.COMMENT_BLOCK: {ids.INPUT: {"type": "plain_text_input", "value": "needs a manager"}}}
    r = slack.post_interaction(view_submission("UBOB", view, values))
    assert r.status_code == 200 and r.content in (b"", b"{}")
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["decision"]["reason_tags"] == ["edge_case"] and got["decision"]["comment"] == "needs a manager"


def test_modify_modal_stores_patch_and_diff_and_replies_in_thread(slack):
    a = slack.propose(payload={"amount": 120, "order": "42", "note": "Refund the duplicate charge",
                               "items": [{"sku": "A1"}]})
    slack.drain()
    slack.post_interaction(block_action("UCAROL", ids.MODIFY, slack.bound(a["id"])))
    view = slack.fake.of("views.open")[-1]["view"]
    assert view["callback_id"] == ids.MODIFY_VIEW
    assert_valid_modal(view)
    field = lambda k, v, kind="plain_text_input": {ids.INPUT: {"type": kind, "value": v}}  # noqa: E731
    values = {"f:amount": field("amount", "100", "number_input"), "f:order": field("order", "42"),
              "f:note": field("note", "Refund one of the two charges"), "f:items": field("items", '[{"sku": "A1"}]'),
              "rating:accuracy": {ids.INPUT: {"type": "static_select", "selected_option": {"value": "3"}}}}
    r = slack.post_interaction(view_submission("UCAROL", view, values))
    assert r.status_code == 200
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["status"] == "modified"
    assert got["decision"]["patch"] == [{"op": "replace", "path": "/amount", "value": 100},
                                        {"op": "replace", "path": "/note", "value": "Refund one of the two charges"}]
    assert "amount: 120 → 100" in got["decision"]["text_diff"] and got["votes"][0]["ratings"] == {"accuracy": 3}
    slack.drain()
    reply = [p for p in slack.fake.of("chat.postMessage") if p.get("thread_ts")][-1]
    assert "changed the payload" in reply["text"] and "amount: 120 → 100" in reply["text"]


def test_modify_with_bad_json_shows_the_error_inline_and_records_nothing(slack):
    a = slack.propose(payload={"amount": 1, "meta": {"k": 1}})
    slack.drain()
    slack.post_interaction(block_action("UCAROL", ids.MODIFY, slack.bound(a["id"])))
    view = slack.fake.of("views.open")[-1]["view"]
    values = {"f:amount": {ids.INPUT: {"type": "number_input", "value": "abc"}},
              "f:meta": {ids.INPUT: {"type": "plain_text_input", "value": "{not json"}}}
    r = slack.post_interaction(view_submission("UCAROL", view, values))
    assert r.status_code == 200
    body = r.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["f:amount"] == "Enter a number" and body["errors"]["f:meta"].startswith("Not valid JSON")
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "pending"


def test_unauthorised_click_changes_nothing_and_is_told_why(slack):
    a = slack.propose()
    slack.drain()
    r = slack.post_interaction(block_action("UMALLORY", ids.APPROVE, slack.bound(a["id"])))
    assert r.status_code == 200
    slack.drain()
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "pending"
    (eph,) = slack.fake.of("chat.postEphemeral")
    assert eph["user"] == "UMALLORY" and "not a reviewer" in eph["text"] and "Nothing was recorded" in eph["text"]


def test_group_member_may_decide(slack):
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UDAVE", ids.APPROVE, slack.bound(a["id"])))  # S0FIN member in the fake
    slack.drain()
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "approved"
    assert [p["usergroup"] for p in slack.fake.of("usergroups.users.list")] == ["S0FIN"]


def test_bad_signature_or_stale_timestamp_gets_401_and_changes_nothing(slack):
    import time

    a = slack.propose()
    slack.drain()
    click = block_action("UALICE", ids.APPROVE, slack.bound(a["id"]))
    assert slack.post_interaction(click, secret="wrong").status_code == 401
    stale = int(time.time()) - 301
    assert slack.post_interaction(click, timestamp=stale).status_code == 401
    unsigned = slack.http.post("/slack/events", content="payload={}",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401
    slack.drain()
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "pending"


def test_quorum_progress_and_the_loser_is_told_who_won(slack):
    a = slack.propose(payload={"amount": 900})
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    slack.drain()
    progress = slack.fake.of("chat.update")[-1]
    assert "1 of 2 approvals: <@UALICE>" in str(progress["blocks"])
    slack.post_interaction(block_action("UBOB", ids.APPROVE, slack.bound(a["id"])))
    slack.post_interaction(block_action("UCAROL", ids.REJECT, slack.bound(a["id"]), reason_tag="edge_case"))
    slack.drain()
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["decision"]["reviewers"] == ["UALICE", "UBOB"]
    loser = slack.fake.of("chat.postEphemeral")[-1]
    assert loser["user"] == "UCAROL" and "already approved by UALICE, UBOB" in loser["text"]


def test_thread_reply_becomes_a_comment(slack):
    from tests.slack_requests import thread_reply_event

    a = slack.propose()
    slack.drain()
    event = thread_reply_event("UBOB", "C0REVIEW", slack.location(a["id"]).message_ts, "checked the ledger, looks right",
                               "1700000099.000001")
    assert slack.post_event(event).status_code == 200
    assert slack.post_event(event).status_code == 200  # Slack retries: stored once
    comments = slack.agent.get(f"/v1/actions/{a['id']}").json()["comments"]
    assert [(c["author"], c["text"]) for c in comments] == [("UBOB", "checked the ledger, looks right")]


def test_fifty_concurrent_conflicting_clicks_record_one_decision(slack):
    from concurrent.futures import ThreadPoolExecutor

    a = slack.propose()
    slack.drain()
    reviewers = ["UALICE", "UBOB", "UCAROL", "UDAVE"]
    value = slack.bound(a["id"])

    def click(i):
        kind = ids.APPROVE if i % 2 else ids.REJECT
        return slack.post_interaction(block_action(reviewers[i % 4], kind, value, reason_tag="edge_case")).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(click, range(50)))
    assert codes == [200] * 50
    slack.drain()
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["status"] in ("approved", "rejected") and len(got["votes"]) == 1
    winner = got["votes"][0]["reviewer"]
    told = slack.fake.of("chat.postEphemeral")
    assert len(told) == 49 and all(f"by {winner}" in t["text"] or "already voted" in t["text"] for t in told)


def test_a_click_while_redis_is_down_is_applied_at_once_not_lost(slack, monkeypatch):
    import redis

    a = slack.propose()
    slack.drain()

    def down(*args, **kwargs):
        raise redis.ConnectionError("gone")

    monkeypatch.setattr("rq.queue.Queue.enqueue", down)
    r = slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    assert r.status_code == 200
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "approved"  # no worker needed
