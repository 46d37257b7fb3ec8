"""Decisions pushed to the agent: signed, retried, dead-lettered, redelivered on request."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from freezegun import freeze_time

import workers.context
from core import deciding, deliveries, intake, outbox
from core.agents import create_agent
from core.proposal import Proposal
from hitl_client import verify_callback
from workers.callback_jobs import deliver_callback
from workers.relay import relay_once
from workers.worker import make_worker


class Receiver:
    """An agent's callback endpoint that can be switched down (HTTP 503)."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.up = True
        self.redirect: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.redirect:
                    self.send_response(307)
                    self.send_header("Location", receiver.redirect)
                    self.end_headers()
                    return
                if receiver.up:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(200 if receiver.up else 503)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def settings(settings):
    # The receiver listens on loopback, which the egress policy refuses unless an operator allows it.
    return settings.model_copy(update={"callback_allowed_networks": "127.0.0.0/8"})


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def keyed(runtime):
    workers.context.use(runtime)
    agent, key = create_agent(runtime.services.db, "hooked")
    yield runtime, agent, key
    workers.context.use(None)


def test_decision_is_pushed_signed_and_verifiable(keyed, receiver):
    runtime, agent, key = keyed
    p = Proposal(action_type="refund", title="t", payload={"amount": 3}, confidence=0.5, callback_url=receiver.url,
                 state={"turn": 2})
    action = intake.submit(runtime.services, agent, p)[0]
    deciding.decide(runtime.services, action.id, reviewer="UALICE", kind="modify", edited_payload={"amount": 2})
    make_worker(runtime).work(burst=True)
    ((headers, body),) = receiver.received
    assert verify_callback(key, headers, body)
    assert not verify_callback(key, headers, body + b" ")  # any change breaks it
    assert not verify_callback("hitl_other", headers, body)
    sent = json.loads(body)
    assert sent["id"] == action.id and sent["status"] == "modified" and sent["go_ahead"] is True
    assert sent["decision"]["final_payload"] == {"amount": 2} and sent["state"] == {"turn": 2}
    # The job settled what it owed; the Slack effects wait for a process with Slack credentials.
    open_kinds = {r.kind for r in outbox.unsettled(runtime.services, action.id)}
    assert open_kinds == {"review_needed", "review_changed", "diff_to_post"}


def test_down_endpoint_backs_off_then_dead_letters_and_retry_redelivers(keyed, receiver, settings):
    runtime, agent, key = keyed
    runtime.settings.callback_max_attempts = 3
    receiver.up = False
    with freeze_time("2026-07-01T10:00:00Z") as clock:
        p = Proposal(action_type="ping", title="t", payload={}, confidence=0.5, callback_url=receiver.url)
        action = intake.submit(runtime.services, agent, p)[0]  # auto-approved: owed at once
        assert deliver_callback(action.id) == "pending"  # attempt 1 failed
        assert deliver_callback(action.id) == "nothing owed"  # not due yet: backoff
        assert deliveries.retries_due(runtime.services) == [] and outbox.unsettled(runtime.services, action.id) == []
        clock.tick(timedelta(seconds=18.1))  # first backoff is 15 s ± 20 %
        assert deliveries.retries_due(runtime.services) == [action.id]
        assert deliver_callback(action.id) == "pending"  # attempt 2
        clock.tick(timedelta(seconds=36.1))
        assert deliver_callback(action.id) == "dead"  # attempt 3 of 3
    (dead,) = deliveries.failed(runtime.services)
    assert dead.attempts == 3 and dead.last_error == "HTTP 503"

    receiver.up = True
    env = {**os.environ, "HITL_DATABASE_URL": settings.database_url, "HITL_REDIS_URL": settings.redis_url.get_secret_value(),
           "HITL_DATA_DIR": str(settings.data_dir), "HITL_LOG_LEVEL": "WARNING"}
    listed = subprocess.run([sys.executable, "-m", "bot.cli", "callbacks", "failed"], env=env, capture_output=True,
                            text=True)
    assert action.id in listed.stdout and "HTTP 503" in listed.stdout
    again = subprocess.run([sys.executable, "-m", "bot.cli", "callbacks", "retry"], env=env, capture_output=True, text=True)
    assert again.stdout.strip() == "1 deliveries queued again", again.stderr
    # The CLI has no Redis: the retry waits in the outbox for a worker's relay.
    assert [r.kind for r in outbox.unsettled(runtime.services, action.id)] == ["callback_owed"]
    assert relay_once(runtime) == 1
    make_worker(runtime).work(burst=True)
    assert len(receiver.received) == 1 and json.loads(receiver.received[0][1])["status"] == "auto_approved"
    assert deliveries.failed(runtime.services) == []
