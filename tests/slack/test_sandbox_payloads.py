"""The sandbox's requests to the bot must look like Slack's: the same keys, nested the same way,
as the real payloads in tests/fixtures/slack/samples, and signed by the v0 scheme (Slack's test vector)."""
from __future__ import annotations

from urllib.parse import parse_qs

from bot.sandbox import signed_requests
from bot.sandbox.routes import web_api
from bot.sandbox.workspace import Workspace
from core.policy.loader import load_policy_text
from tests.slack_requests import SAMPLES, sample


def shape(value, depth: int = 0):
    """Keys of dicts, recursively (lists by their first item); leaf types are not compared."""
    if isinstance(value, dict) and depth < 4:
        return {k: shape(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list) and value and depth < 4:
        return [shape(value[0], depth + 1)]
    return None


def missing(expected, actual, path="") -> list[str]:
    out = []
    if isinstance(expected, dict):
        for k, v in expected.items():
            if not isinstance(actual, dict) or k not in actual:
                out.append(f"{path}.{k}")
            else:
                out += missing(v, actual[k], f"{path}.{k}")
    return out


MESSAGE = {"channel": "C0REVIEWS1", "ts": "1700000000.000001", "user": "U0HITLBOT", "text": "Review needed",
           "blocks": [{"type": "section", "block_id": "b1", "text": {"type": "mrkdwn", "text": "x", "verbatim": False}}]}


def test_block_actions_has_every_key_slack_sends():
    body = signed_requests.block_actions("U0ALICE01", "alice", MESSAGE, {"action_id": "hitl_approve", "block_id": "b1",
                                                                   "type": "button", "value": "act_1",
                                                                   "text": {"type": "plain_text", "text": "Approve"}},
                                  {}, "1.2.trigger", "http://127.0.0.1/sandbox/response/C/U")
    reference = sample("block_actions_button_in_message.json")
    reference["message"]["blocks"][0].pop("accessory")  # our message's section has no accessory
    assert missing(shape(reference), shape(body)) == []


def test_static_select_action_has_the_selected_option():
    body = signed_requests.block_actions("U0ALICE01", "alice", MESSAGE, {"action_id": "t", "block_id": "b1",
                                                                   "type": "static_select",
                                                                   "selected_option": {"text": {"type": "plain_text",
                                                                                                "text": "x"},
                                                                                       "value": "x"}},
                                  {}, "1.2.trigger", "http://x")
    assert missing(shape(sample("block_actions_static_select.json")["actions"][0]), shape(body["actions"][0])) == []


def test_view_submission_has_every_key_slack_sends():
    reference = sample("view_submission_plain_text_input.json")
    body = signed_requests.view_submission("U0ALICE01", "alice", reference["view"], reference["view"]["state"]["values"],
                                    "1.2.t")
    assert missing(shape(reference), shape(body)) == []


def test_slash_command_has_every_field_slack_sends_and_is_signed_like_slack():
    reference = sample("slash_command_docs_example.parsed.json")
    body = signed_requests.slash_command("U0ALICE01", "alice", "C0REVIEWS1", "reviews", "/hitl-stats", "30d", "http://x",
                                         "1.t")
    assert set(reference) <= set(parse_qs(body, keep_blank_values=True))
    vector = sample("request_signing_test_vector.json")
    signed = signed_requests.sign(vector["signing_secret"], vector["body"],
                                  int(vector["headers"]["X-Slack-Request-Timestamp"]))
    assert signed["X-Slack-Signature"] == vector["expected_signature"]


def test_web_api_answers_with_slacks_shapes_and_errors():
    ws = Workspace.from_policy(load_policy_text("action_types:\n  refund:\n    reviewers: [U0ALICE01, S0FIN]\n"
                                                "    channel: C0REFUNDS1\n", "p.yaml").policy)
    posted = web_api(ws, "chat.postMessage", {"channel": "C0REFUNDS1", "text": "hi", "blocks": "[]"})
    assert posted["ok"] and posted["channel"] == "C0REFUNDS1" and posted["message"]["ts"] == posted["ts"]
    assert web_api(ws, "chat.postMessage", {"channel": "C0NOPE", "text": "x"}) == {"ok": False, "error": "channel_not_found"}
    assert web_api(ws, "chat.update", {"channel": "C0REFUNDS1", "ts": posted["ts"], "text": "edited"})["ok"]
    assert ws.message("C0REFUNDS1", posted["ts"]).edited
    assert web_api(ws, "usergroups.users.list", {"usergroup": "S0FIN"}) == {"ok": True, "users": ws.groups["S0FIN"]}
    assert web_api(ws, "usergroups.users.list", {"usergroup": "S0NONE"})["error"] == "no_such_subteam"
    assert web_api(ws, "conversations.open", {"users": "U0ALICE01"})["channel"]["id"] == "DU0ALICE01"
    assert web_api(ws, "views.open", {"trigger_id": "forged", "view": {}})["error"] == "invalid_trigger_id"
    trigger = ws.new_trigger("U0ALICE01")
    opened = web_api(ws, "views.open", {"trigger_id": trigger, "view": {"type": "modal", "title": {"type": "plain_text",
                                                                                                  "text": "T"}}})
    assert opened["ok"] and ws.top_view("U0ALICE01")["id"] == opened["view"]["id"]
    assert web_api(ws, "users.info", {"user": "U0ALICE01"})["user"]["id"] == "U0ALICE01"
    assert web_api(ws, "nope.method", {})["error"] == "unknown_method"
    assert SAMPLES.exists()


def test_the_sandbox_knows_the_digest_channels_keeps_messages_and_publishes_home(tmp_path):
    policy = load_policy_text("digest_channel: C0DIGEST1\naction_types:\n  refund:\n    reviewers: [U0ALICE01]\n"
                              "    digest_channel: C0REFDIG1\n", "p.yaml").policy
    ws = Workspace.from_policy(policy).keep_in(tmp_path / "sandbox.json")
    assert {"C0DIGEST1", "C0REFDIG1"} <= set(ws.channels)
    posted = web_api(ws, "chat.postMessage", {"channel": "C0DIGEST1", "text": "weekly", "blocks": "[]"})
    published = web_api(ws, "views.publish", {"user_id": "U0ALICE01", "view": '{"type": "home", "blocks": []}'})
    assert published["ok"] and ws.snapshot("U0ALICE01")["home"]["type"] == "home"
    assert web_api(ws, "views.publish", {"user_id": "U0NOBODY", "view": "{}"})["error"] == "user_not_found"
    again = Workspace.from_policy(policy).keep_in(tmp_path / "sandbox.json")  # a restart
    assert again.message("C0DIGEST1", posted["ts"]).text == "weekly"
    assert again.snapshot("U0ALICE01")["home"] is None  # the bot publishes Home again when it is opened
