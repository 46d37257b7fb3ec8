"""Socket Mode: the bot's one WebSocket to Slack, kept up through any drop, acking every envelope.

slack_sdk's builtin client treats a socket that reads b'' as open and spins on it until its monitor
gives up (51-60 s at 100% of a core, issue 19), and its websockets client waits for a monitor tick
(ping_interval) after any close. This link is the `websockets` package's blocking client, which
raises at once on a close frame, a TCP reset or (by its own pings) a silent drop, and reconnects
straight away; only a failing endpoint is retried with backoff. Envelopes go to Bolt exactly as
slack_bolt's Socket Mode adapter sends them, on a small pool so concurrent clicks do not queue."""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

log = logging.getLogger(__name__)
KNOWN = {"events_api", "interactive", "slash_commands"}  # what Slack sends to act on; anything else is only acked
REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type",
                 "missing_scope", "invalid_token"}
PING_SECONDS = 5.0  # a silent drop (NAT timeout, sleep) is found within ping + pong timeout


class BadAppToken(Exception):
    """Slack refused the app-level token: retrying cannot help."""


class SocketModeLink:
    def __init__(self, app: App, app_token: str, api_url: str, on_connected: Callable[[], None] | None = None,
                 workers: int = 8):
        self.app, self.on_connected = app, on_connected
        self.app_token = app_token
        self.web = WebClient(base_url=api_url if api_url.endswith("/") else api_url + "/", timeout=10)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socket-mode")
        self.stopping = threading.Event()
        self.connected = threading.Event()  # set on each hello, cleared on each drop
        self.connections = 0  # hellos so far: the tests and the benchmark count reconnections by it
        self.ws: ClientConnection | None = None
        self._thread: threading.Thread | None = None

    def endpoint(self) -> str:
        """A fresh WebSocket URL (each is good for one connection). BadAppToken when Slack refuses the token."""
        try:
            return self.web.apps_connections_open(app_token=self.app_token)["url"]
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error in REFUSED_TOKEN:
                raise BadAppToken(f"Slack refused the app token ({error}): HITL_SLACK_APP_TOKEN must be an "
                                  "app-level token (xapp-…) with the connections:write scope") from None
            raise

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="socket-mode-link", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Connect, serve, and connect again on any drop until close(); backoff only while connecting fails."""
        delay = 0.0
        while not self.stopping.is_set():
            if delay and self.stopping.wait(delay):
                return
            try:
                url = self.endpoint()
                with connect(url, open_timeout=10, ping_interval=PING_SECONDS, ping_timeout=PING_SECONDS,
                             close_timeout=2, max_size=2**22) as ws:
                    self.ws = ws
                    delay = 0.0 if self.serve(ws) else delay
            except BadAppToken as exc:
                log.error("%s", exc)
                return
            except ConnectionClosed as exc:
                log.info("Socket Mode connection dropped (%s); reconnecting", exc.rcvd or "no close frame")
                delay = 0.0
            except (OSError, SlackApiError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                delay = min(30.0, max(1.0, delay * 2))
                log.warning("Slack's Socket Mode endpoint is not reachable (%s); retrying in %.0f s",
                            type(exc).__name__, delay)
            except Exception:  # a bug or a message we cannot read: the link must outlive it
                delay = min(30.0, max(1.0, delay * 2))
                log.exception("the Socket Mode link failed; reconnecting in %.0f s", delay)
            finally:
                self.ws = None
                self.connected.clear()

    def serve(self, ws: ClientConnection) -> bool:
        """Reads until the connection ends; True once Slack said hello on it."""
        greeted = False
        for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "hello":
                greeted = True
                self.connections += 1
                self.connected.set()
                if self.on_connected is not None:
                    self.on_connected()
            elif kind == "disconnect":  # Slack is about to close this one (refresh, or too many sockets)
                log.info("Slack asked to reconnect (%s)", message.get("reason"))
                ws.close()
            elif "envelope_id" in message:
                self.pool.submit(self.handle, ws, message)
            else:
                log.info("ignored a Socket Mode message of type %r", kind)
        return greeted

    def handle(self, ws: ClientConnection, envelope: dict[str, Any]) -> None:
        """Acts on a known envelope through Bolt, and acks every one, understood or not: Slack would
        otherwise deliver it again and again."""
        ack: dict[str, Any] = {"envelope_id": envelope["envelope_id"]}
        kind = envelope.get("type")
        if kind in KNOWN:
            try:
                response = run_bolt_app(self.app, SocketModeRequest.from_dict(envelope))
                if response.status == 200 and response.body:
                    is_json = response.headers.get("content-type", [""])[0].startswith("application/json")
                    ack["payload"] = json.loads(response.body) if is_json else {"text": response.body}
                elif response.status != 200:
                    log.info("acked a %s envelope the app did not take (%s)", kind, response.status)
            except Exception:
                log.exception("a %s envelope failed; acked so Slack does not send it again", kind)
        else:
            log.warning("acked an envelope of unknown type %r without acting on it", kind)
        try:
            ws.send(json.dumps(ack))
        except ConnectionClosed:  # Slack delivers an unacked envelope again on the next connection
            log.info("could not ack %s: the connection had dropped", envelope["envelope_id"])

    def close(self) -> None:
        """Ends the link with a close frame (1000), not a dropped socket."""
        self.stopping.set()
        ws = self.ws
        if ws is not None:
            ws.close()
        if self._thread is not None:
            self._thread.join(5)
        self.pool.shutdown(wait=False, cancel_futures=True)
