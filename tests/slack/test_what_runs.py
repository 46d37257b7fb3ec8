"""What a reviewer approves is what runs: edits are checked, masked values never leave for Slack,
a payload too large for a modal is never approved without its edit, and the agent's evidence is
shown without the power to format, ping or link. Through the real web process with signed
requests shaped like Slack's, on both databases."""
from __future__ import annotations

import json
from datetime import timedelta

from freezegun import freeze_time

from bot.slack import ids
from core import deciding, escalation
from hitl_client import payload_sha256
from tests.conftest import POLICY
from tests.slack.conftest import use_policy
from tests.slack_requests import block_action, view_submission

SCHEMA_POLICY = POLICY + """
  transfer:
    reviewers: [UALICE, UBOB]
    mask_fields: [/customer/ssn, /a.b]
    payload_schema:
      type: object
      required: [amount, order, customer]
      properties:
        amount: {type: number, minimum: 0}
        order: {type: string, minLength: 1}
        customer: {type: object, required: [ssn]}
        express: {type: boolean}
"""
TRANSFER = {"amount": 900, "order": "A-1", "customer": {"name": "Ann", "ssn": "123-45-6789"}, "a.b": "secret-ab",
            "express": True}
SSN = "123-45-6789"


def field(v, kind="plain_text_input"):
    return {ids.INPUT: {"type": kind, "value": v}}


def select(v):
    return {ids.INPUT: {"type": "static_select", "selected_option": {"value": v}}}


def open_modify(slack, user: str, value: str) -> dict:
    slack.post_interaction(block_action(user, ids.MODIFY, value))
    return slack.fake.of("views.open")[-1]["view"]


def sent_to_slack(slack) -> str:
    return json.dumps(slack.fake.calls, ensure_ascii=False)


def transfer_values(amount="900", order="A-1", customer=None, express="true") -> dict:
    customer = customer if customer is not None else json.dumps({"name": "Ann", "ssn": "••••••"})
    return {"f:amount": field(amount, "number_input"), "f:order": field(order), "f:customer": field(customer),
            "f:express": select(express)}


def test_intake_refuses_a_payload_that_fails_its_schema_naming_every_field(slack, settings):
    use_policy(settings, SCHEMA_POLICY)
    r = slack.agent.post("/v1/actions", json={"action_type": "transfer", "title": "Pay", "confidence": 0.5,
                                              "payload": {"amount": -5, "customer": "just a string"}})
    assert r.status_code == 422, r.text
    got = {f["field"]: f["message"] for f in r.json()["fields"]}
    assert got == {"/payload/amount": "must be at least 0", "/payload/order": "is required",
                   "/payload/customer": "must be of type object"}
    for bad in ("NaN", "Infinity", "1e400"):
        r = slack.agent.post("/v1/actions", content='{"action_type": "refund", "title": "x", "confidence": 0.5, '
                                                    f'"payload": {{"amount": {bad}}}}}',
                             headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "finite number" in r.text, (bad, r.text)


def test_slack_edits_are_checked_against_the_schema_inline_and_record_nothing(slack, settings):
    use_policy(settings, SCHEMA_POLICY)
    a = slack.propose(action_type="transfer", payload=TRANSFER)
    slack.drain()
    view = open_modify(slack, "UALICE", slack.bound(a["id"]))
    for values, block, says in [
        (transfer_values(amount="-5"), "f:amount", "Must be at least 0"),
        (transfer_values(order=""), "f:order", "Enter a value"),
        (transfer_values(customer='"just a string"'), "f:customer", "masked field /customer/ssn"),
        (transfer_values(amount="nan"), "f:amount", "finite number"),
        (transfer_values(amount="inf"), "f:amount", "finite number"),
        (transfer_values(amount="1e400"), "f:amount", "finite number"),
        (transfer_values(express="1"), "f:express", "true or false"),
    ]:
        r = slack.post_interaction(view_submission("UALICE", view, values))
        assert r.status_code == 200 and r.json()["response_action"] == "errors", (values, r.text)
        assert says in r.json()["errors"][block], r.json()
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["votes"] == [] and got["status"] == "pending"

    r = slack.post_interaction(view_submission("UALICE", view, transfer_values(amount="600", express="false")))
    assert r.status_code == 200 and not r.content
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    # Types kept, masked values kept though the form showed only the mask.
    assert got["decision"]["final_payload"] == {**TRANSFER, "amount": 600, "express": False}
    final = got["decision"]["final_payload"]
    assert final["express"] is False and final["customer"]["ssn"] == SSN


def test_without_a_schema_an_edit_keeps_types_and_fields_unless_removed_on_purpose(slack):
    a = slack.propose(payload={"amount": 120, "order": "42", "note": "x", "flags": {"vip": True}})
    slack.drain()
    view = open_modify(slack, "UALICE", slack.bound(a["id"]))
    base = {"f:amount": field("120", "number_input"), "f:order": field("42"), "f:note": field("x"),
            "f:flags": field('{"vip": true}')}
    r = slack.post_interaction(view_submission("UALICE", view, {**base, "f:flags": field('{"vip": 1}')}))
    assert "must stay a boolean" in r.json()["errors"]["f:flags"]
    r = slack.post_interaction(view_submission("UALICE", view, {**base, "f:flags": field("")}))
    assert "Remove fields" in r.json()["errors"]["f:flags"]
    removal = {ids.INPUT: {"type": "multi_static_select", "selected_options": [{"value": "/note"}]}}
    r = slack.post_interaction(view_submission("UALICE", view, {**base, ids.REMOVE_BLOCK: removal}))
    assert r.status_code == 200 and not r.content
    got = slack.agent.get(f"/v1/actions/{a['id']}").json()
    assert got["status"] == "modified"
    assert got["decision"]["final_payload"] == {"amount": 120, "order": "42", "flags": {"vip": True}}


def test_masked_values_never_reach_slack(slack, settings):
    use_policy(settings, SCHEMA_POLICY)
    a = slack.propose(action_type="transfer", payload=TRANSFER)
    slack.drain()
    open_modify(slack, "UALICE", slack.bound(a["id"]))
    slack.post_interaction(block_action("UALICE", ids.VIEW_PAYLOAD, a["id"]))
    # An operator edits a masked value from the CLI path: the thread diff must not show it either.
    deciding.decide(slack.server.runtime.services, a["id"], reviewer="UBOB", kind="modify",
                    edited_payload={**TRANSFER, "amount": 800, "customer": {"name": "Ann", "ssn": "999-99-9999"}})
    slack.drain()
    assert slack.fake.of("chat.postMessage") and slack.fake.of("views.open")
    sent = sent_to_slack(slack)
    for secret in (SSN, "999-99-9999", "secret-ab"):
        assert secret not in sent
    diff = [c for c in slack.fake.of("chat.postMessage") if c.get("thread_ts")][-1]["text"]
    assert "amount: 900 → 800" in diff and "999" not in diff


def test_a_payload_too_large_for_a_modal_gets_only_an_editor_link(slack):
    a = slack.propose(payload={"amount": 120, "order": "42", "note": "x" * 3500})
    slack.drain()
    view = open_modify(slack, "UALICE", slack.bound(a["id"]))
    assert "submit" not in view and view["callback_id"] == ids.EDITOR_VIEW
    link = next(e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert link["url"].startswith(slack.server.runtime.settings.effective_public_url + "/edit/")
    assert slack.post_interaction(block_action("UALICE", ids.OPEN_EDITOR, "")).status_code == 200


def test_evidence_is_shown_without_formatting_pings_or_live_links(slack, settings):
    use_policy(settings, POLICY.replace("version: test\n", "version: test\nlink_hosts: [docs.example.com]\n"))
    context = {"ticket": "https://docs.example.com/t/1", "evil": "https://evil.example/login",
               "quote": "> *urgent* _now_ ~x~ `rm -rf` <!channel>", "": "empty key"}
    a = slack.propose(context=context, summary="*bold* claim")
    slack.drain()
    message = json.dumps(slack.posted(a["id"])["blocks"], ensure_ascii=False)
    assert "<https://docs.example.com/t/1|https://docs.example.com/t/1>" in message
    assert "`https://evil.example/login`" in message and "<https://evil.example" not in message
    assert "<!channel>" not in message and "&lt;!channel&gt;" in message
    assert "<!date^0^{_}|*>urgent<!date^0^{_}|*>" in message and "<!date^0^{_}|*>bold" in message
    assert "_(empty key)_" in message and '"**' not in message
    slack.post_interaction(block_action("UALICE", ids.VIEW_PAYLOAD, a["id"]))
    full = json.dumps(slack.fake.of("views.open")[-1]["view"], ensure_ascii=False)
    assert "evil.example/login" in full and "*Context*" in full

    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    slack.drain()
    assert slack.fake.of("chat.update")[-1]["text"].startswith("Approved: Refund order 42")


def test_an_approval_from_slack_runs_once_and_not_after_its_ttl(slack, settings):
    use_policy(settings, POLICY.replace("    review_mode: review\n", "    review_mode: review\n    approval_ttl: 15m\n", 1))
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    slack.drain()
    decision = slack.agent.get(f"/v1/actions/{a['id']}/decision").json()["decision"]
    assert decision["go_ahead"] and decision["payload_sha256"] == payload_sha256(decision["final_payload"])
    assert "may run it until" in json.dumps(slack.fake.of("chat.update")[-1]["blocks"])

    first = slack.agent.post(f"/v1/actions/{a['id']}/execute", json={"payload_sha256": decision["payload_sha256"]})
    second = slack.agent.post(f"/v1/actions/{a['id']}/execute", json={"payload_sha256": decision["payload_sha256"]})
    assert first.status_code == 200 and first.json()["final_payload"] == decision["final_payload"]
    assert second.status_code == 409 and second.json()["error"] == "already_claimed"
    slack.drain()
    assert "Claimed by the agent to run" in json.dumps(slack.fake.of("chat.update")[-1]["blocks"])

    # Another approval, never claimed: once its lifetime is over, nothing can run it.
    b = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(b["id"])))
    slack.drain()
    sha = slack.agent.get(f"/v1/actions/{b['id']}").json()["decision"]["payload_sha256"]
    services = slack.server.runtime.services
    with freeze_time(services.clock() + timedelta(minutes=15, seconds=1)):
        assert dict(escalation.fire_due(services))[b["id"]].kind == "approval_expired"
    late = slack.agent.post(f"/v1/actions/{b['id']}/execute", json={"payload_sha256": sha})
    assert late.status_code == 409 and late.json()["error"] == "approval_expired"
    slack.drain()
    assert "expired unclaimed" in json.dumps(slack.fake.of("chat.update")[-1]["blocks"])


def editor_link(slack, action_id: str, user: str = "UALICE") -> str:
    view = open_modify(slack, user, slack.bound(action_id))
    url = next(e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"])["url"]
    return url[len(slack.server.url):]


def test_the_editor_link_is_one_reviewers_for_one_revision_and_checks_like_a_modal(slack, settings):
    # Two approvals, so Bob's edit below leaves the action open for Alice.
    two = SCHEMA_POLICY.replace("    mask_fields: [/customer", "    approvals_required: 2\n    mask_fields: [/customer")
    use_policy(settings, two)
    big = {**TRANSFER, "memo": "m" * 3500}
    a = slack.propose(action_type="transfer", payload=big)
    slack.drain()
    link = editor_link(slack, a["id"])
    page = slack.http.get(link)
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert SSN not in page.text and "secret-ab" not in page.text  # masked means never sent to the browser either
    shown = {**big, "customer": {"name": "Ann", "ssn": "••••••"}, "a.b": "••••••"}

    bad = slack.http.post(f"{link}/check", json={"payload": {**shown, "amount": -5}})
    assert bad.status_code == 200 and {"field": "/amount", "message": "must be at least 0"} in bad.json()["problems"]
    r = slack.http.post(link, json={"payload": {**shown, "amount": -5}})
    assert r.status_code == 422 and r.json()["fields"] == [{"field": "/edited_payload/amount",
                                                            "message": "must be at least 0"}]
    r = slack.http.post(link, json={"payload": {**shown, "customer": "just a string"}})
    assert r.status_code == 422 and "masked field /customer/ssn" in r.text
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert slack.http.get(tampered).status_code == 422
    assert slack.http.post(tampered, json={"payload": shown}).status_code == 422

    # Bob edits first: Alice's link was for the revision she saw, so it records nothing now.
    deciding.decide(slack.server.runtime.services, a["id"], reviewer="UBOB", kind="modify",
                    edited_payload={**big, "amount": 600})
    r = slack.http.post(link, json={"payload": {**shown, "amount": 500}})
    assert r.status_code == 409 and "open Modify again" in r.json()["message"]
    assert slack.http.get(link).status_code == 409

    fresh = editor_link(slack, a["id"])
    r = slack.http.post(fresh, json={"payload": {**shown, "amount": 500}, "comment": "less"})
    assert r.status_code == 200 and r.json() == {"status": "pending", "final": False, "revision": 2}, r.text
    current = slack.agent.get(f"/v1/actions/{a['id']}").json()["current_payload"]
    assert current["amount"] == 500 and current["customer"]["ssn"] == SSN and current["a.b"] == "secret-ab"
    assert slack.http.post(fresh, json={"payload": shown}).status_code == 409  # used


def test_an_editor_link_expires(slack):
    a = slack.propose(payload={"amount": 120, "order": "42", "note": "x" * 3500})
    slack.drain()
    link = editor_link(slack, a["id"])
    services = slack.server.runtime.services
    with freeze_time(services.clock() + timedelta(minutes=11)):
        r = slack.http.get(link)
    assert r.status_code == 422 and "expired" in r.text
