"""Socket Mode carries the same payloads in envelopes and skips request signing: the same listeners
must handle them. Driven through Bolt's own Socket Mode entry point (run_bolt_app)."""
from __future__ import annotations

import copy

from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack import ids
from bot.slack.bolt_app import build_bolt_app
from tests.slack_requests import block_action, sample


def envelope(payload: dict) -> SocketModeRequest:
    raw = copy.deepcopy(sample("socket_mode_envelope_block_actions_static_select.json"))
    raw["payload"] = payload
    return SocketModeRequest.from_dict(raw)


def test_approve_over_socket_mode_is_recorded_and_applied(slack):
    a = slack.propose()
    slack.drain()
    app = build_bolt_app(slack.server.runtime)
    response = run_bolt_app(app, envelope(block_action("UALICE", ids.APPROVE, slack.bound(a["id"]))))
    assert response.status == 200
    slack.drain()
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "approved"


def test_modify_over_socket_mode_opens_the_modal(slack):
    a = slack.propose()
    slack.drain()
    app = build_bolt_app(slack.server.runtime)
    assert run_bolt_app(app, envelope(block_action("UCAROL", ids.MODIFY, slack.bound(a["id"])))).status == 200
    assert slack.fake.of("views.open")[-1]["view"]["callback_id"] == ids.MODIFY_VIEW
