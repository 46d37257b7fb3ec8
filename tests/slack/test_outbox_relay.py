"""Every committed change has its effects, whichever process committed it and whatever happened to it
afterwards: the web process killed between its commit and its enqueue, or the CLI, which has no
Redis or Slack at all. The relay in the workers carries out what the outbox holds."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from core import audit_log, outbox
from tests.slack.test_worker_faults import kill, start
from tests.slack_requests import block_action
from tests.waiting import wait_for
from workers.relay import relay_once


def unsealed(slack) -> int:
    with slack.server.runtime.services.db.read() as s:
        return audit_log.unsealed(s)


def buttons(message: dict) -> list[str]:
    return [e.get("action_id") for b in message.get("blocks") or [] if b.get("type") == "actions"
            for e in b["elements"]]


def later(rt, seconds: float):
    """The runtime as a relay sees it `seconds` from now."""
    from dataclasses import replace
    from datetime import timedelta

    from core.store.types import utcnow

    return replace(rt, services=replace(rt.services, clock=lambda: utcnow() + timedelta(seconds=seconds)))


def at(rt, moment):
    """The runtime as a relay sees it at `moment`: on a busy machine "now" may already be past a grace."""
    from dataclasses import replace

    return replace(rt, services=replace(rt.services, clock=lambda: moment))


class Killed(BaseException):
    """Like SIGKILL for the code after the commit: nothing after it runs, not even its error handling."""


def test_a_web_process_killed_between_commit_and_enqueue_loses_nothing(slack, monkeypatch):
    rt = slack.server.runtime
    dispatcher = rt.services.dispatcher

    def killed(owed):
        raise Killed

    monkeypatch.setattr(dispatcher, "dispatch", killed)
    with pytest.raises(Exception):  # noqa: B017 - the request dies with the process
        slack.propose(title="Refund 7")
    (row,) = outbox.unsettled(rt.services)
    action_id = row.action_id
    slack.drain()  # nothing was enqueued: nothing happens
    assert slack.location(action_id) is None
    monkeypatch.undo()

    assert relay_once(at(rt, row.created_at)) == 0  # within the grace the dead process had for its own enqueue
    assert relay_once(later(rt, dispatcher.grace_seconds)) == 1
    slack.drain()
    assert slack.location(action_id) is not None and outbox.unsettled(rt.services) == []
    # and a click on it, whose decision's effects die the same way, still updates the message
    monkeypatch.setattr(dispatcher, "dispatch", killed)
    slack.post_interaction(block_action("UALICE", "hitl_approve", slack.bound(action_id)))
    updates = len(slack.fake.of("chat.update"))
    slack.drain()  # the worker applying the click commits the decision, then dies (RQ would retry the job)
    monkeypatch.undo()
    assert slack.agent.get(f"/v1/actions/{action_id}").json()["status"] == "approved"
    assert len(slack.fake.of("chat.update")) == updates  # the message still shows its buttons
    assert relay_once(later(rt, dispatcher.grace_seconds)) == 1  # the message to refresh
    slack.drain()
    assert buttons(slack.fake.of("chat.update")[-1]) == [] and "Approved" in str(slack.fake.of("chat.update")[-1])


@pytest.mark.worker
def test_a_cli_decision_updates_the_slack_message(slack, worker_env):
    a = slack.propose(title="Refund 8")
    slack.drain()
    assert "hitl_approve" in buttons(slack.posted(a["id"]))
    worker = start([sys.executable, "-m", "bot.cli", "worker"], worker_env)
    try:
        # The CLI imports no Redis: its decision's effects go through the outbox to the worker's relay.
        done = subprocess.run([sys.executable, "-m", "bot.cli", "decide", a["id"], "modify", "--reviewer", "UALICE",
                               "--set", "amount=90"], env=worker_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        update = wait_for(lambda: next((u for u in reversed(slack.fake.of("chat.update"))
                                        if "Modified" in str(u.get("blocks"))), None), 60, "the review message to update")
        assert buttons(update) == []
        wait_for(lambda: any(p.get("thread_ts") and "changed the payload" in p.get("text", "")
                             for p in slack.fake.of("chat.postMessage")), 60, "the diff in the review's thread")
        wait_for(lambda: outbox.unsettled(slack.server.runtime.services) == [], 60, "every effect to be settled")
        # and the worker's sealer thread chained every audit event, the CLI's included
        wait_for(lambda: unsealed(slack) == 0, 60, "the worker's sealer to chain every audit event")
        with slack.server.runtime.services.db.read() as s:
            report = audit_log.verify(s)
        assert report.ok and report.checked >= 5, report
    finally:
        kill(worker, signal.SIGTERM)
