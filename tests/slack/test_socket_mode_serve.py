"""`hitl serve --socket-mode` as an operator runs it: "connected" only after Slack's hello, a token
Slack refuses is one line and exit 2, an endpoint down at start is said so and retried, and SIGTERM
ends the link with a close frame."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from tests.conftest import free_port
from tests.slack.socket_stand_in import SocketModeStandIn
from tests.slack_requests import SECRET
from tests.waiting import wait_for

pytestmark = pytest.mark.worker  # a real server process


class Serve:
    """`hitl serve --socket-mode` in its own process, its output collected line by line."""

    def __init__(self, env: dict):
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--socket-mode"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.reader.join(10)
        return code


@pytest.fixture
def serve_env(settings, fake_slack):
    return {**os.environ, "HITL_DATABASE_URL": settings.database_url,
            "HITL_REDIS_URL": settings.redis_url.get_secret_value(), "HITL_POLICY_FILE": str(settings.policy_file),
            "HITL_DATA_DIR": str(settings.data_dir), "HITL_SLACK_BOT_TOKEN": "xoxb-test",
            "HITL_SLACK_SIGNING_SECRET": SECRET, "HITL_SLACK_APP_TOKEN": "xapp-test",
            "HITL_SLACK_API_URL": fake_slack.url, "HITL_PORT": str(free_port()), "HITL_LOG_LEVEL": "WARNING"}


def test_connected_only_after_hello_and_sigterm_sends_a_close_frame(serve_env, fake_slack):
    with SocketModeStandIn() as stand_in:
        fake_slack.socket_url = stand_in.url
        serve = Serve(serve_env)
        try:
            wait_for(lambda: serve.said("connected to Slack over Socket Mode") or serve.proc.poll() is not None, 90,
                     "hitl serve to say it is connected")
            assert stand_in.connections, "it said connected before any connection"
        finally:
            code = serve.stop()
        wait_for(lambda: stand_in.close_codes, 30, "the stand-in to see the link end")
    assert code == 0 and stand_in.close_codes == [1000], serve.lines


def test_a_refused_app_token_is_one_line_and_exit_2(serve_env, fake_slack):
    fake_slack.refusals[("apps.connections.open", None)] = "invalid_auth"
    serve = Serve(serve_env)
    assert serve.proc.wait(60) == 2
    serve.reader.join(10)
    errors = [line for line in serve.lines if line.startswith("error:")]
    assert errors == ["error: Slack refused the app token (invalid_auth): HITL_SLACK_APP_TOKEN must be an app-level "
                      "token (xapp-…) with the connections:write scope\n"], serve.lines
    assert not any("Traceback" in line for line in serve.lines)


def test_an_endpoint_down_at_start_is_said_and_retried_not_called_connected(serve_env):
    serve = Serve({**serve_env, "HITL_SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"})
    try:
        wait_for(lambda: serve.said("Socket Mode endpoint is not reachable yet") or serve.proc.poll() is not None,
                 90, "hitl serve to say the endpoint is down")
        assert serve.proc.poll() is None and not serve.said("connected to Slack")
    finally:
        serve.stop()
