"""The sandbox over HTTP, mounted on the web process by `hitl dev`:

- `/sandbox/api/<method>`: the Slack Web API methods the bot calls, with Slack's request and
  response shapes (the bot's `HITL_SLACK_API_URL` points here);
- `/sandbox/response/<id>`: response_url posts (answers to /hitl-stats);
- `/sandbox/`: the page, and `/sandbox/ui/*`, which turn what a person does on the page into signed
  Slack requests to the bot's own `/slack/events`, exactly as Slack would send them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from bot.sandbox import signed_requests
from bot.sandbox.workspace import BOT_USER, Workspace

PAGE = Path(__file__).with_name("page.html")


class Sandbox:
    def __init__(self, workspace: Workspace, signing_secret: str, base_url: str):
        self.ws, self.secret, self.base_url = workspace, signing_secret, base_url.rstrip("/")

    def send(self, body: str, content_type: str) -> httpx.Response:
        headers = {**signed_requests.sign(self.secret, body), "Content-Type": content_type}
        return httpx.post(f"{self.base_url}/slack/events", content=body, headers=headers, timeout=10)

    def response_url(self, user: str, channel: str, ephemeral_ts: str | None = None) -> str:
        """Where the bot answers a command or a click; a click on a private message may replace it."""
        return f"{self.base_url}/sandbox/response/{channel}/{user}" + (f"?ts={ephemeral_ts}" if ephemeral_ts else "")


def web_api(ws: Workspace, method: str, p: dict[str, Any]) -> dict[str, Any]:
    """One Web API call. Unknown methods answer like Slack does: ok false, unknown_method."""
    def structured(key: str) -> Any:
        # slack_sdk sends blocks and views as JSON strings inside form bodies, and as objects in JSON bodies.
        value = p.get(key)
        return json.loads(value) if isinstance(value, str) else value

    def blocks() -> list[dict] | None:
        return structured("blocks")

    if method == "auth.test":
        return {"ok": True, "url": "http://sandbox.local/", "team": "Sandbox", "user": "hitl",
                "team_id": signed_requests.TEAM,
                "user_id": BOT_USER, "bot_id": signed_requests.BOT}
    if method == "chat.postMessage":
        channel = p.get("channel", "")
        if channel not in ws.channels and not channel.startswith("D"):
            return {"ok": False, "error": "channel_not_found"}
        m = ws.post(channel, p.get("text", ""), blocks(), p.get("thread_ts"))
        return {"ok": True, "channel": m.channel, "ts": m.ts, "message": {"type": "message", "ts": m.ts, "text": m.text,
                                                                          "bot_id": signed_requests.BOT, "user": BOT_USER}}
    if method == "chat.update":
        m = ws.update(p.get("channel", ""), p.get("ts", ""), p.get("text"), blocks())
        if m is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": m.channel, "ts": m.ts, "text": m.text}
    if method == "chat.postEphemeral":
        return {"ok": True, "message_ts": ws.ephemeral(p.get("user", ""), p.get("channel", ""), p.get("text", ""), blocks())}
    if method in ("views.open", "views.push"):
        stored = ws.open_view(p.get("trigger_id"), structured("view"), push=method == "views.push")
        return {"ok": True, "view": stored} if stored else {"ok": False, "error": "invalid_trigger_id"}
    if method == "views.update":
        stored = ws.update_view(p.get("view_id", ""), structured("view"))
        return {"ok": True, "view": stored} if stored else {"ok": False, "error": "not_found"}
    if method == "views.publish":
        stored = ws.publish_home(str(p.get("user_id", "")), structured("view") or {})
        return {"ok": True, "view": stored} if stored else {"ok": False, "error": "user_not_found"}
    if method == "conversations.open":
        user = str(p.get("users", "")).split(",")[0]
        if user not in ws.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + user}}
    if method == "users.info":
        user = p.get("user", "")
        if user not in ws.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user, "name": ws.users[user], "real_name": ws.users[user],
                                     "team_id": signed_requests.TEAM, "is_bot": user == BOT_USER}}
    if method == "usergroups.users.list":
        group = p.get("usergroup", "")
        if group not in ws.groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": ws.groups[group]}
    return {"ok": False, "error": "unknown_method"}


async def _params(request: Request) -> dict[str, Any]:
    raw = (await request.body()).decode()
    if request.headers.get("content-type", "").startswith("application/json"):
        return json.loads(raw or "{}")
    return {k: v[0] for k, v in parse_qs(raw).items()}


class Click(BaseModel):
    user: str
    channel: str
    ts: str
    ephemeral: bool = False  # a button on a private message (the /hitl-stats report)
    block_id: str
    action_id: str
    type: str = "button"
    value: str | None = None
    text: str | None = None
    selected_option: dict | None = None
    state: dict = {}


class Submit(BaseModel):
    user: str
    view_id: str
    values: dict


class Command(BaseModel):
    user: str
    channel: str
    text: str


class Reply(BaseModel):
    user: str
    channel: str
    thread_ts: str
    text: str


class Close(BaseModel):
    user: str
    every: bool = False


def router(sandbox: Sandbox) -> APIRouter:
    r = APIRouter(prefix="/sandbox", include_in_schema=False)
    ws = sandbox.ws

    @r.post("/api/{method}")
    async def api(method: str, request: Request) -> JSONResponse:
        if not request.headers.get("authorization", "").startswith("Bearer xoxb-"):
            return JSONResponse({"ok": False, "error": "not_authed"})
        return JSONResponse(web_api(ws, method, await _params(request)))

    @r.post("/response/{channel}/{user}")
    async def response(channel: str, user: str, request: Request, ts: str | None = None) -> JSONResponse:
        body = await _params(request)
        replace = ts if body.get("replace_original") in (True, "true") else None
        ws.ephemeral(user, channel, body.get("text", ""), body.get("blocks"), replace_ts=replace)
        return JSONResponse({"ok": True})

    @r.get("/")
    def page() -> FileResponse:
        return FileResponse(PAGE, media_type="text/html")

    @r.get("/ui/state")
    def state(user: str) -> dict:
        return ws.snapshot(user)

    @r.post("/ui/click")
    def click(c: Click) -> dict:
        if c.ephemeral:
            private = ws.find_ephemeral(c.user, c.ts)
            found = None if private is None else {**private, "user": BOT_USER}
        else:
            message = ws.message(c.channel, c.ts)
            found = None if message is None else message.as_json()
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        action = {"action_id": c.action_id, "block_id": c.block_id, "type": c.type, "value": c.value or "",
                  "text": {"type": "plain_text", "text": c.text or ""}, "selected_option": c.selected_option}
        body = signed_requests.block_actions(
            c.user, ws.users.get(c.user, c.user), found, action, c.state, ws.new_trigger(c.user),
            sandbox.response_url(c.user, c.channel, c.ts if c.ephemeral else None), ephemeral=c.ephemeral)
        answer = sandbox.send(signed_requests.form(body), "application/x-www-form-urlencoded")
        return {"ok": answer.status_code == 200, "status": answer.status_code}

    @r.post("/ui/submit")
    def submit(s: Submit) -> dict:
        view = ws.top_view(s.user)
        if view is None or view["id"] != s.view_id:
            return {"ok": False, "error": "view_not_open"}
        body = signed_requests.view_submission(s.user, ws.users.get(s.user, s.user), view, s.values, ws.new_trigger(s.user))
        answer = sandbox.send(signed_requests.form(body), "application/x-www-form-urlencoded")
        is_json = answer.headers.get("content-type", "").startswith("application/json")
        result = answer.json() if answer.content and is_json else {}
        if result.get("response_action") == "errors":
            return {"ok": False, "errors": result.get("errors", {})}
        if answer.status_code == 200:
            ws.close_view(s.user)
        return {"ok": answer.status_code == 200, "status": answer.status_code}

    @r.post("/ui/close")
    def close(c: Close) -> dict:
        ws.close_view(c.user, every=c.every)
        return {"ok": True}

    @r.post("/ui/command")
    def command(c: Command) -> dict:
        words = c.text.strip().split(None, 1)
        if not words or not words[0].startswith("/"):
            return {"ok": False, "error": "type a slash command, e.g. /hitl-stats 30d"}
        body = signed_requests.slash_command(c.user, ws.users.get(c.user, c.user), c.channel, ws.channels.get(c.channel, ""),
                                      words[0], words[1] if len(words) > 1 else "",
                                      sandbox.response_url(c.user, c.channel), ws.new_trigger(c.user))
        answer = sandbox.send(body, "application/x-www-form-urlencoded")
        if answer.status_code == 404 or answer.status_code >= 400:
            return {"ok": False, "error": f"{words[0]} failed ({answer.status_code})"}
        try:
            ack = answer.json()
        except ValueError:
            ack = {}
        if ack.get("text"):
            ws.ephemeral(c.user, c.channel, ack["text"], ack.get("blocks"))
        return {"ok": True}

    @r.post("/ui/home")
    def home(c: Close) -> dict:
        """The person opened the app's Home tab: Slack tells the bot, which publishes it."""
        body = json.dumps(signed_requests.app_home_opened(c.user, ws.homes.get(c.user)))
        answer = sandbox.send(body, "application/json")
        return {"ok": answer.status_code == 200}

    @r.post("/ui/reply")
    def reply(c: Reply) -> dict:
        msg = ws.post(c.channel, c.text, None, c.thread_ts, user=c.user)
        body = json.dumps(signed_requests.thread_reply(c.user, c.channel, c.thread_ts, c.text, msg.ts))
        answer = sandbox.send(body, "application/json")
        return {"ok": answer.status_code == 200}

    return r
