from __future__ import annotations

import json

import httpx
import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from tests.conftest import LiveServer
from tests.slack_fake import FakeSlack
from tests.slack_requests import SECRET, form, sign


@pytest.fixture
def fake_slack():
    with FakeSlack() as fake:
        fake.groups = {"S0FIN": ["UDAVE"]}
        yield fake


@pytest.fixture
def slack_runtime(settings, fake_slack):
    from pydantic import SecretStr

    import workers.context
    from bot.bootstrap import build_runtime

    s = settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-test"), "slack_signing_secret": SecretStr(SECRET),
                                    "slack_api_url": fake_slack.url, "slack_default_channel": "C0REVIEW"})
    rt = build_runtime(s)
    workers.context.use(rt)
    yield rt
    workers.context.use(None)
    rt.close()


class SlackHarness:
    """The real web process over HTTP, the fake Slack it talks to, and a way to run the queued jobs."""

    def __init__(self, server: LiveServer, fake: FakeSlack, key: str):
        self.server, self.fake, self.key = server, fake, key
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.agent = httpx.Client(base_url=server.url, timeout=90, headers={"Authorization": f"Bearer {key}"})

    def drain(self) -> None:
        """Run every queued job to completion (an RQ SimpleWorker in burst mode, JSON serializer)."""
        rt = self.server.runtime
        from workers.names import QUEUES
        from workers.queue import queue

        queues = [queue(rt.redis, name) for name in QUEUES]
        worker = SimpleWorker(queues, connection=rt.redis, serializer=JSONSerializer)
        worker.work(burst=True)
        for q in queues:
            failed = q.failed_job_registry
            assert failed.count == 0, [q.fetch_job(j).exc_info for j in failed.get_job_ids()]
            assert q.count == 0

    def propose(self, **overrides) -> dict:
        body = {"action_type": "refund", "title": "Refund order 42", "summary": "Customer was double charged",
                "payload": {"amount": 120, "order": "42", "note": "Refund the duplicate charge"}, "confidence": 0.7}
        body.update(overrides)
        r = self.agent.post("/v1/actions", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def post_interaction(self, payload: dict, secret: str = SECRET, timestamp: int | None = None) -> httpx.Response:
        body = form(payload)
        return self.http.post("/slack/events", content=body, headers=sign(body, secret, timestamp))

    def post_event(self, event: dict) -> httpx.Response:
        body = json.dumps(event)
        headers = {**sign(body), "Content-Type": "application/json"}
        return self.http.post("/slack/events", content=body, headers=headers)

    def location(self, action_id: str):
        from core.reviews import location

        return location(self.server.runtime.services, action_id)

    def bound(self, action_id: str) -> str:
        """What a vote button of the newest message about this action carries: its id, revision and
        payload hash (core/seen.py), as a reviewer clicking it now would send."""
        for method, call in reversed(self.fake.calls):
            if method not in ("chat.postMessage", "chat.update"):
                continue
            for block in call.get("blocks") or []:
                for element in block.get("elements") or [] if block.get("type") == "actions" else []:
                    if element.get("action_id") == "hitl_reject" and element["value"].startswith(action_id + ":"):
                        return element["value"]
        raise AssertionError(f"no message with vote buttons for {action_id}")

    def posted(self, action_id: str) -> dict:
        return next(p for p in self.fake.of("chat.postMessage") if any(
            b.get("type") == "actions" and b["elements"][0]["value"].split(":")[0] == action_id for b in p["blocks"]))


@pytest.fixture
def slack(slack_runtime, fake_slack):
    from bot.web.app import create_app
    from core.agents import create_agent

    _agent, key = create_agent(slack_runtime.services.db, "slack-agent")
    with LiveServer(create_app(slack_runtime), slack_runtime) as server:
        yield SlackHarness(server, fake_slack, key)


@pytest.fixture
def worker_env(slack, settings):
    """Environment for a worker subprocess: the same database, Redis, policy and fake Slack as the test."""
    import os

    return {**os.environ, "HITL_DATABASE_URL": settings.database_url,
            "HITL_REDIS_URL": settings.redis_url.get_secret_value(), "HITL_POLICY_FILE": str(settings.policy_file),
            "HITL_DATA_DIR": str(settings.data_dir), "HITL_SLACK_BOT_TOKEN": "xoxb-test",
            "HITL_SLACK_SIGNING_SECRET": SECRET, "HITL_SLACK_API_URL": slack.fake.url,
            "HITL_SLACK_DEFAULT_CHANNEL": "C0REVIEW", "HITL_LOG_LEVEL": "WARNING", "HITL_SLACK_POST_INTERVAL_MS": "0"}


def use_policy(settings, text: str) -> None:
    """Replace the policy file; the policy source reloads when its mtime moves forward."""
    import os

    settings.policy_file.write_text(text)
    later = os.stat(settings.policy_file).st_mtime + 5
    os.utime(settings.policy_file, (later, later))
