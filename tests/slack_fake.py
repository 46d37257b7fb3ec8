"""A local fake of the Slack Web API: records every call, answers with Slack's response shapes,
and can be told to answer 429 with Retry-After (or 5xx) for the next calls of a method."""
from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeSlack:
    BOT_USER = "UBOT0001"

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.times: list[float] = []  # monotonic arrival time of each call, same order as calls
        self.groups: dict[str, list[str]] = {}
        self.faults: dict[str, list[tuple[int, dict]]] = {}
        self.refusals: dict[tuple[str, str | None], str] = {}  # (method, channel or None) -> Slack error code
        self.socket_url = "ws://127.0.0.1:9/"  # what apps.connections.open hands out (a test's stand-in)
        self.hangs: dict[str, float] = {}  # method -> seconds to hold the answer (a worker can be killed meanwhile)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                # /api/<method> is the Web API; anything else stands in for a response_url.
                method = self.path.rsplit("/", 1)[-1] if self.path.startswith("/api/") else "response_url"
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                    for key in ("blocks", "view"):
                        if isinstance(params.get(key), str):
                            params[key] = json.loads(params[key])
                status, body, headers = fake._answer(method, params, self.headers.get("Authorization", ""))
                if method in fake.hangs:
                    time.sleep(fake.hangs[method])  # pacing: a Slack that takes this long to answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        # A short poll so shutdown() returns in milliseconds, not the default half second per test.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, method: str, status: int = 429, times: int = 1, retry_after: int = 1) -> None:
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        self.faults.setdefault(method, []).extend([(status, headers)] * times)

    def refuse(self, method: str, error: str, channel: str | None = None) -> None:
        """Answer every call of `method` (to `channel`, if given) with ok: false and `error`, until
        `refusals` is cleared."""
        self.refusals[(method, channel)] = error

    def of(self, method: str) -> list[dict]:
        return [params for m, params in self.calls if m == method]

    def _answer(self, method: str, params: dict, auth: str) -> tuple[int, dict, dict]:
        with self._lock:
            self.calls.append((method, params))
            self.times.append(time.monotonic())
            faults = self.faults.get(method)
            if faults:
                status, headers = faults.pop(0)
                error = "ratelimited" if status == 429 else "internal_error"
                return status, {"ok": False, "error": error}, headers
        refused = self.refusals.get((method, params.get("channel"))) or self.refusals.get((method, None))
        if refused:
            return 200, {"ok": False, "error": refused}, {}
        if method == "response_url":
            return 200, {"ok": True}, {}
        if method == "apps.connections.open":  # Socket Mode: an app-level token, and the WebSocket to use
            if not auth.startswith("Bearer xapp-"):
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            return 200, {"ok": True, "url": self.socket_url}, {}
        if not auth.startswith("Bearer xoxb-"):
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        channel = params.get("channel")
        if method == "auth.test":
            return 200, {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "hitl", "team_id": "T0FAKE",
                         "user_id": self.BOT_USER, "bot_id": "B0FAKE"}, {}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return 200, {"ok": True, "channel": channel, "ts": ts,
                         "message": {"type": "message", "ts": ts, "text": params.get("text"), "bot_id": "B0FAKE"}}, {}
        if method == "chat.update":
            return 200, {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text")}, {}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}, {}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            return 200, {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **(params.get("view") or {})}}, {}
        if method == "usergroups.users.list":
            group = params.get("usergroup")
            if group not in self.groups:
                return 200, {"ok": False, "error": "no_such_subteam"}, {}
            return 200, {"ok": True, "users": self.groups[group]}, {}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(params.get("users", "0FAKE")).split(",")[0]}}, {}
        return 200, {"ok": True}, {}
