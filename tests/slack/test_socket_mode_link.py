"""The Socket Mode link against a local stand-in for Slack's WebSocket endpoint: every envelope
with an id is acked, only known kinds are acted on, and the link is back after each kind of drop."""
from __future__ import annotations

import copy

import pytest

from bot.slack import ids
from bot.slack.bolt_app import build_bolt_app
from bot.slack.socket_mode import BadAppToken, SocketModeLink
from tests.slack.socket_stand_in import SocketModeStandIn
from tests.slack_requests import block_action, sample
from tests.waiting import wait_for


@pytest.fixture
def stand_in():
    with SocketModeStandIn() as s:
        yield s


@pytest.fixture
def link(slack, stand_in):
    slack.fake.socket_url = stand_in.url
    found = SocketModeLink(build_bolt_app(slack.server.runtime), "xapp-test", slack.fake.url)
    found.start()
    wait_for(found.connected.is_set, 60, "the link's first hello")
    yield found
    found.close()


def status(slack, action_id: str) -> str:
    return slack.agent.get(f"/v1/actions/{action_id}").json()["status"]


def approve_over_the_link(slack, stand_in, reviewer: str) -> None:
    """A new review, approved by a click that arrives over the link: acked with its id, then applied."""
    a = slack.propose()
    slack.drain()
    envelope_id = stand_in.send_envelope("interactive", block_action(reviewer, ids.APPROVE, slack.bound(a["id"])))
    assert stand_in.ack_of(envelope_id) == {"envelope_id": envelope_id}
    slack.drain()
    assert status(slack, a["id"]) == "approved"


def test_an_approve_is_acked_with_its_envelope_id_and_applied(slack, stand_in, link):
    approve_over_the_link(slack, stand_in, "UALICE")


def test_envelopes_nobody_handles_are_acked_and_unknown_kinds_are_not_acted_on(slack, stand_in, link):
    a = slack.propose()
    slack.drain()
    approve = block_action("UALICE", ids.APPROVE, slack.bound(a["id"]))
    no_user = {k: v for k, v in approve.items() if k != "user"}
    no_actions = {**approve, "actions": []}
    command = copy.deepcopy(sample("socket_mode_envelope_slash_command.json")["payload"])
    del command["response_url"]
    sent = [stand_in.send_envelope("something_new", approve),  # a valid Approve, in an envelope of unknown type
            stand_in.send_envelope("interactive", no_user),
            stand_in.send_envelope("interactive", no_actions),
            stand_in.send_envelope("slash_commands", command),
            stand_in.send_envelope("events_api", {"type": "event_callback", "event": {"type": "reaction_added"}})]
    for envelope_id in sent:
        assert stand_in.ack_of(envelope_id)["envelope_id"] == envelope_id
    slack.drain()
    assert status(slack, a["id"]) == "pending"


@pytest.mark.parametrize("drop", ["ask_to_reconnect", "close_with_frame", "abort"])
def test_the_link_is_back_after_each_kind_of_drop(slack, stand_in, link, drop):
    getattr(stand_in, drop)()
    wait_for(lambda: link.connections == 2 and link.connected.is_set(), 60, f"a new connection after {drop}")
    approve_over_the_link(slack, stand_in, "UBOB")


def test_closing_the_link_sends_a_close_frame(slack, stand_in, link):
    link.close()
    wait_for(lambda: stand_in.close_codes, 60, "the stand-in to see the connection end")
    assert stand_in.close_codes == [1000]


def test_a_refused_app_token_is_named_and_not_retried(slack, stand_in):
    slack.fake.refusals[("apps.connections.open", None)] = "invalid_auth"
    with pytest.raises(BadAppToken, match="invalid_auth"):
        SocketModeLink(build_bolt_app(slack.server.runtime), "xapp-test", slack.fake.url).endpoint()
