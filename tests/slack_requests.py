"""Signed requests shaped exactly like Slack's own (tests/fixtures/slack/samples), with our values put in."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import urlencode

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "slack"  # copies of Slack's data, see SOURCES.md there
SAMPLES = FIXTURES / "samples"
SCHEMAS = FIXTURES / "schemas"
SECRET = "test-signing-secret"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def sign(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_action(user: str, action_id: str, value: str, *, channel: str = "C0REVIEW", message_ts: str = "1700000000.000001",
                 reason_tag: str | None = None, trigger_id: str = "111.222.trigger") -> dict:
    body = copy.deepcopy(sample("block_actions_button_in_message.json"))
    body["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0FAKE"}
    body["channel"] = {"id": channel, "name": "reviews"}
    body["container"].update(channel_id=channel, message_ts=message_ts)
    body["message"]["ts"] = message_ts
    body["trigger_id"] = trigger_id
    body["response_url"] = "http://127.0.0.1:9/response-url-unused"
    action = copy.deepcopy(body["actions"][0])
    action.update(action_id=action_id, block_id="hitl_actions.0", value=value, action_ts=f"{time.time():.6f}")
    body["actions"] = [action]
    values = {}
    if reason_tag:
        values["hitl_actions.0"] = {"hitl_reason_tag": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": reason_tag}, "value": reason_tag}}}
    body["state"] = {"values": values}
    return body


def view_submission(user: str, view: dict, values: dict) -> dict:
    """`view` as our app built it (callback_id, private_metadata, blocks); `values` as state.values."""
    body = copy.deepcopy(sample("view_submission_plain_text_input.json"))
    body["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0FAKE"}
    body["view"].update(callback_id=view["callback_id"], private_metadata=view.get("private_metadata", ""),
                        blocks=view["blocks"], state={"values": values})
    return body


def thread_reply_event(user: str, channel: str, thread_ts: str, text: str, ts: str) -> dict:
    return {"token": "x", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}", "event_time": int(time.time()),
            "event": {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                      "thread_ts": thread_ts, "channel_type": "channel"}}
