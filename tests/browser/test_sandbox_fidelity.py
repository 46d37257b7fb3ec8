"""The sandbox behaves like Slack where a reviewer or manager would notice: the /hitl-stats report
with its chart and More, the feed following new content, drafts kept across redraws, modals that
close like Slack's and do not outlive a reload, emoji, full names, a layout that fits, and messages
that outlive a restart. Each test leaves a screenshot in test-artifacts/."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.worker]

MANAGER = "U0MORGAN1"  # examples/demo-policy.yaml's managers


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"sandbox-{name}.png"))


def open_channel(page, dev, channel: str = "C0REFUNDS1", user: str = "U0ALICE01"):
    page.goto(f"{dev.url}/sandbox/?user={user}")
    page.locator(f"button[data-channel='{channel}']").click()


def command(page, text: str) -> None:
    page.get_by_test_id("command").fill(text)
    page.get_by_test_id("command").press("Enter")


def review(page, title: str):
    return page.locator(".msg", has=page.locator(".header", has_text=title))


def test_a_manager_reads_the_report_with_its_chart_and_opens_more(page, dev):
    pending = dev.propose(title="Refund to reject")
    dev.propose(title="Refund auto", confidence=0.99)
    open_channel(page, dev)
    message = review(page, "Refund to reject")
    message.locator("select[data-action-id='hitl_reason_tag']").select_option("policy_violation")
    message.locator("button[data-action-id='hitl_reject']").click()
    expect(message).to_contain_text("Rejected by @alice", timeout=30_000)

    open_channel(page, dev, user=MANAGER)
    command(page, "/hitl-stats refund 30d")
    report = page.get_by_test_id("ephemeral")
    expect(report.locator(".header")).to_have_text("hitl-stats · refund · last 30 days", timeout=30_000)
    chart = report.get_by_test_id("block-image")
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth >= 600", arg=chart.element_handle())
    expect(report).to_be_in_viewport()  # the feed followed the answer down
    shot(page, "stats-report")
    report.locator("button[data-action-id='stats_more']").click()
    expect(report).to_contain_text("Details", timeout=30_000)
    expect(report).to_contain_text("Reviewer load")
    expect(report.locator(".mention", has_text="@alice")).not_to_have_count(0)  # a person, not U0ALICE01
    expect(page.get_by_test_id("ephemeral")).to_have_count(1)  # More replaced the report in place
    shot(page, "stats-more")
    assert dev.agent.get(f"/v1/actions/{pending['id']}").json()["status"] == "rejected"


def test_a_reviewer_who_is_no_manager_is_told_so_privately(page, dev):
    open_channel(page, dev, user="U0FINANCE11")  # in S0FINANCE1: reviews refunds, not tickets
    command(page, "/hitl-stats route_ticket 30d")
    expect(page.get_by_test_id("ephemeral")).to_contain_text("is not one of them", timeout=30_000)
    shot(page, "stats-refused")


def test_the_feed_follows_new_content_unless_the_reader_scrolled_up(page, dev):
    page.set_viewport_size({"width": 1280, "height": 800})
    for i in range(8):
        dev.propose(title=f"Refund order {500 + i}")
    open_channel(page, dev)
    last = review(page, "Refund order 507")
    expect(last).to_be_in_viewport()
    dev.propose(title="Refund order 600")
    expect(review(page, "Refund order 600")).to_be_in_viewport(timeout=10_000)
    page.get_by_test_id("feed").evaluate("feed => { feed.scrollTop = 0; }")
    dev.propose(title="Refund order 601")
    expect(review(page, "Refund order 601")).to_have_count(1)
    expect(review(page, "Refund order 601")).not_to_be_in_viewport()  # reading up there: left alone
    command(page, "/hitl-stats nonsense")  # an answer to the reader's own command is always shown
    expect(page.get_by_test_id("ephemeral")).to_be_in_viewport(timeout=30_000)
    shot(page, "autoscroll")


def test_a_half_typed_thread_reply_survives_redraws(page, dev):
    dev.propose(title="Refund order 700")
    open_channel(page, dev)
    review(page, "Refund order 700").get_by_text("Reply in thread").click()
    reply = page.get_by_test_id("reply")
    reply.click()
    reply.press_sequentially("half a thou")
    dev.propose(title="Refund order 701")  # the page redraws for the new message
    expect(review(page, "Refund order 701")).to_have_count(1)
    expect(page.get_by_test_id("reply")).to_have_value("half a thou")
    expect(page.get_by_test_id("reply")).to_be_focused()
    page.keyboard.type("ght")
    expect(page.get_by_test_id("reply")).to_have_value("half a thought")
    shot(page, "draft-kept")


def test_a_modal_closes_like_slacks_and_does_not_outlive_a_reload(page, dev):
    dev.propose(title="Refund order 800")
    open_channel(page, dev)
    modify = review(page, "Refund order 800").locator("button[data-action-id='hitl_modify']")
    dialog = page.get_by_role("dialog")
    modify.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    modify.click()
    expect(dialog).to_be_visible()
    page.get_by_test_id("overlay").click(position={"x": 5, "y": 5})  # beside the modal
    expect(dialog).to_have_count(0)
    modify.click()
    expect(dialog).to_be_visible()
    shot(page, "modal-open")
    page.reload()
    expect(review(page, "Refund order 800")).to_have_count(0)  # the page starts on its first channel
    page.locator("button[data-channel='C0REFUNDS1']").click()
    expect(review(page, "Refund order 800")).to_have_count(1)
    expect(dialog).to_have_count(0)


def test_emoji_render_in_colour_and_people_have_their_full_names(page, dev):
    open_channel(page, dev)
    coloured = page.evaluate("""() => {
        const c = document.createElement("canvas"); c.width = c.height = 48;
        const g = c.getContext("2d"); g.font = "32px system-ui, sans-serif, 'Noto Color Emoji'";
        g.fillText("✅", 4, 38);
        const d = g.getImageData(0, 0, 48, 48).data; let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i + 3] && Math.abs(d[i] - d[i + 1]) + Math.abs(d[i + 1] - d[i + 2]) > 60) n++;
        return n; }""")
    assert coloured > 50, "no colour emoji font: ✅ would show as an empty box"
    names = page.get_by_test_id("user-switcher").locator("option").all_inner_texts()
    assert "finance reviewer 1 (U0FINANCE11)" in names and not any("financ-" in n for n in names)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_layout_fits_the_window(page, dev, size):
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    note = "A long unbroken line: " + "x" * 400
    dev.propose(title="Refund order 900", payload={"amount": 12, "order": "900", "card_last4": "4242", "note": note})
    open_channel(page, dev)
    message = review(page, "Refund order 900")
    message.get_by_text("Reply in thread").click()
    thread = page.get_by_test_id("thread")
    expect(thread).to_contain_text("Refund order 900")
    fits = page.evaluate("""() => {
        const doc = document.documentElement, aside = document.getElementById("thread");
        const composer = document.getElementById("composer").getBoundingClientRect();
        return { page: doc.scrollWidth <= innerWidth && doc.scrollHeight <= innerHeight,
                 thread: aside.scrollWidth <= aside.clientWidth,
                 bottom: innerHeight - composer.bottom }; }""")
    assert fits["page"] and fits["thread"], fits
    assert 0 <= fits["bottom"] < 4, fits  # the composer sits at the bottom: no band below it
    shot(page, f"layout-{width}x{height}")


def test_pending_reviews_are_still_there_after_a_restart(page, dev):
    dev.propose(title="Refund order 950")
    open_channel(page, dev)
    expect(review(page, "Refund order 950")).to_have_count(1)
    dev.process.stop()
    dev.process.start()
    open_channel(page, dev)
    message = review(page, "Refund order 950")
    expect(message).to_have_count(1)
    message.locator("button[data-action-id='hitl_approve']").click()  # the bot still finds its message
    expect(message).to_contain_text("Approved by @alice", timeout=30_000)
    shot(page, "after-restart")


def test_the_home_tab_lists_my_queue_most_urgent_first_and_opens_a_review(page, dev):
    dev.propose(title="Refund order 1001", confidence=0.9)  # its SLA falls due first
    dev.propose(title="Refund order 1002", confidence=0.3)
    open_channel(page, dev)
    expect(review(page, "Refund order 1002")).to_have_count(1)
    page.get_by_test_id("home-tab").click()
    home = page.get_by_test_id("home")
    expect(home.locator(".header")).to_have_text("Waiting for you (2)", timeout=30_000)
    items = home.locator(".section", has=page.locator("[data-action-id='home_open']"))
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Refund order 1001")
    expect(items.nth(0)).to_contain_text("SLA due")
    expect(items.nth(1)).to_contain_text("Refund order 1002")
    expect(page.get_by_test_id("command")).to_be_hidden()
    shot(page, "home-reviewer")
    items.nth(0).locator("[data-action-id='home_open']").click()
    expect(page.locator("button[data-channel='C0REFUNDS1']")).to_have_class("chan active")
    expect(review(page, "Refund order 1001")).to_be_in_viewport()
    review(page, "Refund order 1001").locator("button[data-action-id='hitl_approve']").click()
    expect(review(page, "Refund order 1001")).to_contain_text("Approved by @alice", timeout=30_000)
    page.get_by_test_id("home-tab").click()
    expect(home.locator(".header")).to_have_text("Waiting for you (1)", timeout=30_000)


def test_a_managers_home_shows_the_headline_and_the_chart(page, dev):
    dev.propose(title="Refund order 1100")
    open_channel(page, dev)
    review(page, "Refund order 1100").locator("button[data-action-id='hitl_approve']").click()
    expect(review(page, "Refund order 1100")).to_contain_text("Approved by @alice", timeout=30_000)  # a review to chart
    open_channel(page, dev, user=MANAGER)
    page.get_by_test_id("home-tab").click()
    home = page.get_by_test_id("home")
    expect(home).to_contain_text("Override rate", timeout=30_000)
    chart = home.get_by_test_id("block-image")
    expect(chart).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth >= 600", arg=chart.element_handle())
    shot(page, "home-manager")
