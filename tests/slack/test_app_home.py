"""App Home through signed events over HTTP: opening the tab publishes the queue (and the headline
for a manager), and a change to the queue publishes it again for whoever opened it."""
from __future__ import annotations

from bot.slack import home_blocks, ids
from tests.conftest import POLICY
from tests.slack.blockkit import _errors
from tests.slack.conftest import use_policy
from tests.slack_requests import block_action


def opened(user: str) -> dict:
    return {"token": "x", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback",
            "event_id": f"Ev{user}", "event_time": 1700000000,
            "event": {"type": "app_home_opened", "user": user, "channel": "D0" + user, "tab": "home",
                      "event_ts": "1700000000.000100"}}


def published(slack, user: str) -> list[dict]:
    return [c["view"] for c in slack.fake.of("views.publish") if c["user_id"] == user]


def assert_valid_home(view: dict) -> None:
    assert view["type"] == "home" and 1 <= len(view["blocks"]) <= 100
    assert _errors(view["blocks"]) == []


def text_of(view: dict) -> str:
    return "\n".join([b.get("text", {}).get("text", "") for b in view["blocks"]]
                     + [e.get("text", "") for b in view["blocks"] for e in b.get("elements", [])
                        if isinstance(e.get("text"), str)])


def test_opening_home_shows_what_waits_for_me_with_links_to_the_reviews(slack, slack_runtime):
    first = slack.propose(title="Refund order 1")
    second = slack.propose(title="Refund order 2", confidence=0.2)
    slack.drain()
    assert slack.post_event(opened("UALICE")).status_code == 200
    slack.drain()
    (view,) = published(slack, "UALICE")
    assert_valid_home(view)
    assert view["blocks"][0]["text"]["text"] == "Waiting for you (2)"
    items = [b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == home_blocks.OPEN]
    assert [i["accessory"]["value"] for i in items] == [second["id"], first["id"]]  # the less sure first
    where = slack.location(first["id"])
    assert items[1]["accessory"]["url"] == (f"https://fake.slack.com/archives/{where.channel}/"
                                            f"p{where.message_ts.replace('.', '')}")
    assert "confidence 20%" in items[0]["text"]["text"]
    assert "Override rate" not in text_of(view)  # the policy names no managers: no headline on Home

    slack_runtime.settings = slack_runtime.settings.model_copy(update={"home_publish_pace_seconds": 0})
    slack.post_interaction(block_action("UALICE", ids.REJECT, slack.bound(second["id"]), reason_tag="wrong_action"))
    slack.drain()
    latest = published(slack, "UALICE")[-1]
    assert latest["blocks"][0]["text"]["text"] == "Waiting for you (1)"
    assert not published(slack, "UBOB")  # never opened it: not published for nothing


def test_a_manager_sees_the_headline_and_chart_on_home(slack, settings):
    use_policy(settings, POLICY.replace("version: test\n", "version: test\nmanagers: [UMANAGER]\n"))
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.REJECT, slack.bound(a["id"]), reason_tag="wrong_action"))
    slack.drain()
    slack.post_event(opened("UMANAGER"))
    slack.post_event(opened("UALICE"))
    slack.drain()
    (manager,) = published(slack, "UMANAGER")
    (reviewer,) = published(slack, "UALICE")
    assert_valid_home(manager)
    assert manager["blocks"][0]["text"]["text"] == "Waiting for you (0)"
    assert any(b["type"] == "image" for b in manager["blocks"]) and "Rejection rate" in str(manager["blocks"])
    assert "Rejection rate" not in str(reviewer["blocks"])  # a reviewer who is no manager: the queue only


def test_the_link_button_is_acknowledged(slack):
    click = block_action("UALICE", home_blocks.OPEN, "act_x")
    assert slack.post_interaction(click).status_code == 200
