"""Requests the sandbox sends to the bot, shaped like Slack's own (the samples in tests/fixtures/slack/
samples; tests/slack/test_sandbox_payloads.py compares the shapes) and signed with the app's signing secret (v0 scheme)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

TEAM, APP, BOT = "T0SANDBOX", "A0SANDBOX", "B0SANDBOX"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def _plain(text: dict | None) -> dict:
    """Slack marks every plain_text object it sends back with its emoji flag."""
    return {"type": "plain_text", "text": "", "emoji": True, **(text or {})}


def _user(user: str, name: str) -> dict:
    return {"id": user, "username": name, "name": name, "team_id": TEAM}


def block_actions(user: str, name: str, message: dict, action: dict, state: dict, trigger_id: str,
                  response_url: str, ephemeral: bool = False) -> dict:
    """A click on an element of a message. `action`: action_id, block_id, type, value or selected_option.
    On an ephemeral message Slack says so in the container and sends no `message`: it keeps none."""
    element = {"action_id": action["action_id"], "block_id": action["block_id"], "type": action["type"],
               "action_ts": f"{time.time():.6f}"}
    if action["type"] == "button":
        element.update(text=_plain(action.get("text")), value=action.get("value", ""))
    else:
        option = action.get("selected_option")
        element["selected_option"] = {**option, "text": _plain(option.get("text"))} if option else None
    body = {
        "type": "block_actions", "user": _user(user, name), "api_app_id": APP,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"],
                      "is_ephemeral": ephemeral},
        "trigger_id": trigger_id, "team": {"id": TEAM}, "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": message["channel"]},
        "message": {"bot_id": BOT, "type": "message", "text": message["text"], "user": message["user"],
                    "ts": message["ts"], "app_id": APP, "blocks": message.get("blocks") or [], "team": TEAM},
        "state": {"values": state}, "response_url": response_url, "actions": [element],
    }
    if ephemeral:
        del body["message"]
    return body


def view_submission(user: str, name: str, view: dict, values: dict, trigger_id: str) -> dict:
    return {
        "type": "view_submission", "team": {"id": TEAM, "domain": "sandbox"}, "user": _user(user, name),
        "api_app_id": APP, "token": "sandbox", "trigger_id": trigger_id,
        "view": {**view, "team_id": TEAM, "state": {"values": values}, "hash": f"{time.time():.6f}",
                 "app_id": APP, "bot_id": BOT},
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }


def slash_command(user: str, name: str, channel: str, channel_name: str, command: str, text: str, response_url: str,
                  trigger_id: str) -> str:
    """Form-encoded, like Slack's slash command request body."""
    return urlencode({"token": "sandbox", "team_id": TEAM, "team_domain": "sandbox", "channel_id": channel,
                      "channel_name": channel_name, "user_id": user, "user_name": name, "command": command,
                      "text": text, "api_app_id": APP, "is_enterprise_install": "false",
                      "response_url": response_url, "trigger_id": trigger_id})


def thread_reply(user: str, channel: str, thread_ts: str, text: str, ts: str) -> dict:
    return {"token": "sandbox", "team_id": TEAM, "api_app_id": APP, "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}", "event_time": int(time.time()),
            "event": {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                      "thread_ts": thread_ts, "channel_type": "channel"}}


def app_home_opened(user: str, home: dict | None) -> dict:
    """Slack's event when someone opens the app's Home tab; `view` is there once one was published."""
    now = f"{time.time():.6f}"
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home", "event_ts": now}
    if home is not None:
        event["view"] = {**home, "team_id": TEAM, "app_id": APP, "bot_id": BOT}
    return {"token": "sandbox", "team_id": TEAM, "api_app_id": APP, "type": "event_callback",
            "event_id": f"Ev{now.replace('.', '')}", "event_time": int(time.time()), "event": event}


def form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})
