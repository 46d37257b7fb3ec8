"""A vote counts only for the payload its voter saw: every button and modal names the revision and
a hash of the payload it shows (core/seen.py), and a click or submission for any other records
nothing. Through the real web process with signed requests shaped like Slack's."""
from __future__ import annotations

from bot.slack import ids
from tests.slack_requests import block_action, view_submission

PAYLOAD = {"amount": 900, "order": "42", "note": "Refund the duplicate charge"}


def field(v, kind="plain_text_input"):
    return {ids.INPUT: {"type": kind, "value": v}}


def modify_values(amount: str, note: str) -> dict:
    return {"f:amount": field(amount, "number_input"), "f:order": field("42"), "f:note": field(note)}


def open_modify(slack, user: str, value: str) -> dict:
    slack.post_interaction(block_action(user, ids.MODIFY, value))
    return slack.fake.of("views.open")[-1]["view"]


def action(slack, action_id: str) -> dict:
    return slack.agent.get(f"/v1/actions/{action_id}").json()


def test_a_modal_opened_before_someone_elses_edit_cannot_write_the_old_values_back(slack):
    a = slack.propose(payload=PAYLOAD)  # over 500: two approvals needed, so B's edit leaves it pending
    slack.drain()
    before = slack.bound(a["id"])
    view_a = open_modify(slack, "UALICE", before)  # A opens Modify, then goes for coffee
    view_b = open_modify(slack, "UBOB", before)
    accepted = slack.post_interaction(view_submission("UBOB", view_b, modify_values("600", PAYLOAD["note"])))
    assert accepted.status_code == 200 and not accepted.content  # an empty ack closes the modal
    slack.drain()
    assert action(slack, a["id"])["current_payload"]["amount"] == 600

    r = slack.post_interaction(view_submission("UALICE", view_a, modify_values("900", "only the note changed")))
    errors = r.json()["errors"]
    assert r.json()["response_action"] == "errors"
    assert "changed since you looked: amount 900 → 600 (edited by UBOB)" in next(iter(errors.values()))
    got = action(slack, a["id"])
    assert got["current_payload"]["amount"] == 600 and [v["reviewer"] for v in got["votes"]] == ["UBOB"]


def test_approve_on_the_message_as_it_was_before_an_edit_counts_for_nothing(slack):
    a = slack.propose(payload=PAYLOAD)
    slack.drain()
    stale = slack.bound(a["id"])
    view = open_modify(slack, "UBOB", stale)
    slack.post_interaction(view_submission("UBOB", view, modify_values("600", PAYLOAD["note"])))
    slack.drain()
    fresh = slack.bound(a["id"])
    assert fresh != stale and fresh.split(":")[1] == "1"  # the updated message names revision 1

    updates = len(slack.fake.of("chat.update"))
    assert slack.post_interaction(block_action("UALICE", ids.APPROVE, stale)).status_code == 200
    slack.drain()
    got = action(slack, a["id"])
    assert got["status"] == "pending" and got["quorum"]["approvals"] == ["UBOB"]
    notice = slack.fake.of("chat.postEphemeral")[-1]
    assert notice["user"] == "UALICE" and "amount 900 → 600 (edited by UBOB)" in notice["text"]
    assert len(slack.fake.of("chat.update")) > updates  # the message was redrawn for whoever still saw the old one

    slack.post_interaction(block_action("UALICE", ids.APPROVE, fresh))  # on what A now sees: it counts
    slack.drain()
    assert action(slack, a["id"])["status"] == "modified"


def test_a_button_that_names_no_revision_records_nothing_and_redraws_the_message(slack):
    """A message posted before votes were bound to what they showed carries only the action id."""
    a = slack.propose()
    slack.drain()
    updates = len(slack.fake.of("chat.update"))
    for click in (block_action("UALICE", ids.APPROVE, a["id"]),
                  block_action("UALICE", ids.REJECT, a["id"], reason_tag="edge_case"),
                  block_action("UALICE", ids.APPROVE, a["id"] + ":0:not-a-hash")):
        assert slack.post_interaction(click).status_code == 200
    slack.drain()
    assert action(slack, a["id"])["votes"] == []
    told = [t["text"] for t in slack.fake.of("chat.postEphemeral")]
    assert len(told) == 3 and all("out of date" in t for t in told)
    assert len(slack.fake.of("chat.update")) > updates


def test_a_modal_from_before_the_upgrade_is_asked_to_be_opened_again(slack):
    from bot.slack.modal_metadata import ModalMetadata

    a = slack.propose()
    slack.drain()
    view = open_modify(slack, "UALICE", slack.bound(a["id"]))
    view["private_metadata"] = ModalMetadata(action_id=a["id"], channel="C0REVIEW", revision=0).dump()  # no `seen`
    r = slack.post_interaction(view_submission("UALICE", view, modify_values("100", "x")))
    assert r.json()["response_action"] == "errors" and "open it again" in next(iter(r.json()["errors"].values()))
    assert action(slack, a["id"])["votes"] == []


def test_every_update_of_the_message_has_fresh_block_ids(slack):
    a = slack.propose(payload=PAYLOAD)
    slack.drain()
    slack.post_interaction(block_action("UBOB", ids.CLAIM, a["id"]))
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    slack.drain()
    messages = [p for p in slack.fake.of("chat.postMessage") if p.get("blocks")] + slack.fake.of("chat.update")
    actions_ids = [b["block_id"] for m in messages for b in m["blocks"] if b.get("type") == "actions"]
    assert len(actions_ids) >= 3 and len(set(actions_ids)) == len(actions_ids)
