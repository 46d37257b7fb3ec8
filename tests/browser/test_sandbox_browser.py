"""What a person does in the sandbox page, in a real browser: every click becomes a signed Slack
request to the bot, and what the bot sends back is rendered from its Block Kit."""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # chromium, and `hitl dev` runs a real worker


def open_channel(page, dev, channel: str = "C0REFUNDS1", user: str = "U0ALICE01"):
    page.goto(f"{dev.url}/sandbox/?user={user}")
    page.locator(f"button[data-channel='{channel}']").click()


def review(page, title: str):
    return page.locator(".msg", has=page.locator(".header", has_text=title))


def test_approve_on_a_rendered_message_updates_it_and_answers_the_agent(page, dev):
    a = dev.propose(title="Refund order 77")
    result = {}
    poll = threading.Thread(target=lambda: result.update(
        dev.agent.get(f"/v1/actions/{a['id']}/decision", params={"wait": 50}).json()))
    poll.start()
    open_channel(page, dev)
    message = review(page, "Refund order 77")
    expect(message).to_contain_text("Level 1 of 2")  # the escalation state is rendered from the blocks
    expect(message.locator("text=••••••")).to_be_visible()  # card_last4 is masked
    message.locator("button[data-action-id='hitl_approve']").click()
    expect(message).to_contain_text("Approved by @alice", timeout=30_000)
    expect(message.locator("button[data-action-id='hitl_approve']")).to_have_count(0)
    poll.join(40)
    assert result["status"] == "approved" and result["decision"]["reviewers"] == ["U0ALICE01"]


def test_an_outsider_is_told_privately_and_nothing_is_recorded(page, dev):
    a = dev.propose(title="Refund order 78")
    open_channel(page, dev, user="U0MALLORY")
    review(page, "Refund order 78").locator("button[data-action-id='hitl_approve']").click()
    expect(page.get_by_test_id("ephemeral")).to_contain_text("not a reviewer", timeout=30_000)
    assert dev.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "pending"


def test_modify_modal_edits_the_payload_and_the_diff_lands_in_the_thread(page, dev):
    a = dev.propose(title="Refund order 79")
    open_channel(page, dev)
    message = review(page, "Refund order 79")
    message.locator("button[data-action-id='hitl_modify']").click()
    modal = page.get_by_role("dialog")
    expect(modal).to_contain_text("Modify action")
    amount = modal.locator("[data-block-id='f:amount'] input")
    amount.fill("abc") if amount.get_attribute("type") != "number" else None
    amount.fill("95")
    modal.locator("[data-block-id='comment'] textarea").fill("Partial refund: shipping is not refundable")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_have_count(0)
    expect(message).to_contain_text("Modified by @alice", timeout=30_000)
    message.get_by_test_id("open-thread").click()
    thread = page.get_by_test_id("thread")
    expect(thread).to_contain_text("changed the payload")
    expect(thread).to_contain_text("95")
    decided = dev.agent.get(f"/v1/actions/{a['id']}").json()
    assert decided["status"] == "modified" and decided["decision"]["final_payload"]["amount"] == 95


def test_hitl_stats_typed_in_the_sandbox_shows_the_numbers(page, dev):
    for i in range(2):
        dev.propose(title=f"Refund {i}", confidence=0.99)  # auto-approved
    pending = dev.propose(title="Refund to reject")
    open_channel(page, dev)
    message = review(page, "Refund to reject")
    message.locator("select[data-action-id='hitl_reason_tag']").select_option("policy_violation")
    message.locator("button[data-action-id='hitl_reject']").click()
    expect(message).to_contain_text("Rejected by @alice", timeout=30_000)
    page.get_by_test_id("command").fill("/hitl-stats refund 7d")
    page.get_by_test_id("command").press("Enter")
    answer = page.get_by_test_id("ephemeral").filter(has_text="hitl-stats · refund · last 7 days")
    expect(answer).to_contain_text(re.compile(r"Rejection rate\s*100%"), timeout=30_000)
    expect(answer).to_contain_text("3 proposed · 1 reviewed by people")
    expect(answer).to_contain_text("policy violation (1)")
    assert dev.agent.get(f"/v1/actions/{pending['id']}").json()["status"] == "rejected"


def test_a_shadow_review_is_decided_unaided_then_shows_the_agents_answer(page, dev):
    a = dev.propose(action_type="route_ticket", title="Send ticket #31 to billing", summary="mentions a charge",
                    payload={"queue": "billing", "priority": "high"}, confidence=0.8,
                    context={"message": "I was charged twice for order 31"})
    open_channel(page, dev, channel="C0OUTBOUND")
    message = review(page, "route_ticket (shadow review)")
    expect(message).to_contain_text("I was charged twice for order 31")
    expect(message).not_to_contain_text("billing")
    expect(message.locator("button[data-action-id='hitl_approve']")).to_have_count(0)
    message.locator("button[data-action-id='hitl_modify']").click()
    modal = page.get_by_role("dialog")
    expect(modal).to_contain_text("Your decision")
    for key, value in (("queue", "billing"), ("priority", "high")):
        field = modal.locator(f"[data-block-id='f:{key}'] input, [data-block-id='f:{key}'] textarea")
        expect(field).to_have_value("")
        field.fill(value)
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_have_count(0)
    revealed = review(page, "Send ticket #31 to billing")
    expect(revealed).to_contain_text("it matched the decision", timeout=30_000)
    expect(revealed).to_contain_text("Approved by @alice")
    assert dev.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "approved"


def test_a_payload_too_large_for_slack_is_edited_in_the_browser_editor(page, dev):
    long_note = "The customer wrote at length. " * 130  # over 3,000 characters: no modal can hold it
    a = dev.propose(title="Refund order 80", payload={"amount": 120, "order": "80", "card_last4": "4242",
                                                      "note": long_note})
    open_channel(page, dev)
    message = review(page, "Refund order 80")
    message.locator("button[data-action-id='hitl_modify']").click()
    modal = page.get_by_role("dialog")
    expect(modal).to_contain_text("too large to edit in Slack")
    expect(page.get_by_test_id("modal-submit")).to_have_count(0)  # nothing here can approve without the edit
    with page.context.expect_page() as opened:
        modal.locator("a[data-action-id='hitl_open_editor']").click()
    editor = opened.value
    editor.wait_for_load_state()
    expect(editor.locator("#title")).to_have_text("Refund order 80")
    text = editor.get_by_test_id("payload")
    assert "4242" not in text.input_value() and "••••••" in text.input_value()  # masked means never shown
    expect(editor.get_by_test_id("submit")).to_be_disabled()  # only a previewed edit can be submitted

    text.fill(text.input_value().replace('"amount": 120', '"amount": "lots"'))
    editor.get_by_test_id("preview").click()
    expect(editor.get_by_test_id("problems")).to_contain_text("/amount must stay a number")
    expect(editor.get_by_test_id("submit")).to_be_disabled()

    text.fill(text.input_value().replace('"amount": "lots"', '"amount": 95'))
    editor.get_by_test_id("comment").fill("Shipping is not refundable")
    editor.get_by_test_id("preview").click()
    expect(editor.get_by_test_id("diff")).to_contain_text("amount: 120 → 95")
    editor.get_by_test_id("submit").click()
    expect(editor.locator("#status")).to_contain_text("Recorded: the action is modified", timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    editor.screenshot(path=str(ARTIFACTS / "editor.png"), full_page=True)

    decided = dev.agent.get(f"/v1/actions/{a['id']}").json()
    final = decided["decision"]["final_payload"]
    assert decided["status"] == "modified" and final["amount"] == 95 and final["card_last4"] == "4242"
    assert final["note"] == long_note
    expect(message).to_contain_text("Modified by @alice", timeout=30_000)
    # The link was for that revision and that vote: it is spent.
    editor.reload()
    expect(editor.locator("h1")).to_have_text("This editor link cannot be used")
    expect(editor.locator("body")).to_contain_text("this action is modified already")


def test_flagged_spot_checks_raise_a_drift_alert_in_the_sandbox(page, dev):
    ran = [dev.propose(action_type="update_crm_record", title=f"Update CRM record {i}", confidence=0.95,
                       payload={"record": f"r{i}", "phone": "555 0100"}) for i in range(2)]
    assert all(a["status"] == "auto_approved" for a in ran)  # the weekly floor draws them for a spot check
    open_channel(page, dev, channel="C0CRMAUDIT")
    for a in ran:
        check = page.locator(".msg", has=page.locator(".header", has_text=a["title"]))
        check.locator("select[data-action-id='hitl_audit_tag']").select_option("wrong_action")
        check.locator("button[data-action-id='hitl_audit_flag']").click()
        expect(check).to_contain_text("Should not have happened", timeout=30_000)
    page.locator("button[data-channel='C0ALERTS1']").click()
    alert = page.locator(".msg", has=page.locator(".header", has_text="Drift: update_crm_record"))
    expect(alert).to_contain_text("2 of the last 2 spot checks of update_crm_record were flagged", timeout=30_000)
    expect(alert).to_contain_text("back in review")
    from tests.waiting import wait_for

    def next_proposal() -> dict:
        return dev.propose(action_type="update_crm_record", title="Update CRM record 3", confidence=0.99,
                           payload={"record": "r3", "phone": "555 0100"})

    # The worker applied the flags; the web process reads holds again within 2 s (core/watch.py).
    held = wait_for(lambda: (p := next_proposal())["status"] == "pending" and p, 60, "the hold to reach intake",
                    interval=0.5)
    assert held["explanation"].startswith("back to review")
