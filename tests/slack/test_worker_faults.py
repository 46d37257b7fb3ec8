"""Real worker processes on a real Redis: timers through RQ's own scheduler, and a worker killed with
SIGKILL in the middle of a Slack call. Each ends with nothing lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select

from core.store.tables import Escalation
from tests.slack.conftest import use_policy
from tests.waiting import wait_for

FAST_TREE = """
action_types:
  refund:
    risk: medium
    escalation:
      levels:
        - {targets: [UALICE], timeout: 1s}
        - {targets: [UBOB], timeout: 1s}
      repeat: 1
      final_action: expire
"""
RQ = str(Path(sys.executable).with_name("rq"))


def start(cmd: list[str], env: dict) -> subprocess.Popen:
    # Its own process group: RQ's scheduler is a child process, and "the machine died" kills both.
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)  # a hang detector, not a speed check: busy machines are slow to reap
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:  # never leave it running into the next test's database
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=120)
        raise


def escalations(slack, action_id: str):
    with slack.server.runtime.services.db.read() as s:
        return list(s.scalars(select(Escalation).where(Escalation.action_id == action_id).order_by(Escalation.seq)))


def status(slack, action_id: str) -> str:
    return slack.agent.get(f"/v1/actions/{action_id}").json()["status"]


STOCK_RQ = "stock rq worker --with-scheduler"


@pytest.mark.worker
@pytest.mark.parametrize("command", [STOCK_RQ, "hitl worker"])
def test_a_real_worker_with_its_scheduler_runs_the_tree_in_order_and_never_early(slack, settings, worker_env, command):
    """How late the timers fire is bench/escalations.py's figure (`--worker rq` for the stock worker);
    here only what must hold on any machine: every level, in order, once, none before its deadline."""
    use_policy(settings, FAST_TREE)
    a = slack.propose()
    if command == STOCK_RQ:
        argv = [RQ, "worker", "--with-scheduler", "--url", worker_env["HITL_REDIS_URL"],
                "--serializer", "rq.serializers.JSONSerializer", "decisions", "escalations", "slack", "callbacks"]
    else:  # its reconciler (15 s tick, 10 s grace) is too slow to stand in for a broken scheduler here
        argv = [sys.executable, "-m", "bot.cli", "worker"]
    worker = start(argv, worker_env)
    try:
        wait_for(lambda: status(slack, a["id"]) == "expired", 90, "the tree to run out")
        wait_for(lambda: all(e.notified_at for e in escalations(slack, a["id"])), 60, "the targets to be told")
    finally:
        kill(worker, signal.SIGTERM)
    fired = escalations(slack, a["id"])
    assert [(e.kind, e.level, e.round) for e in fired] == [("escalated", 1, 0), ("escalated", 0, 1), ("escalated", 1, 1),
                                                           ("final", 1, 1)]
    assert all(e.fired_at >= e.due_at for e in fired), [(e.due_at, e.fired_at) for e in fired]  # never early
    # each level's clock starts after the last one fired
    assert all(a.due_at < b.due_at for a, b in pairwise(fired))
    where = slack.location(a["id"])
    replies = [p for p in slack.fake.of("chat.postMessage") if p.get("thread_ts") == where.message_ts]
    assert len(replies) == 3 and "<@UBOB>" in replies[0]["text"]


@pytest.mark.worker
def test_worker_killed_mid_slack_call_loses_nothing(slack, settings, worker_env):
    use_policy(settings, FAST_TREE.replace("timeout: 1s", "timeout: 3s"))
    env = {**worker_env, "HITL_SLACK_LEASE_SECONDS": "2", "HITL_RECONCILE_INTERVAL_SECONDS": "1",
           "HITL_RECONCILE_GRACE_SECONDS": "1"}
    slack.fake.hangs["chat.postMessage"] = 30
    a = slack.propose()
    first = start([sys.executable, "-m", "bot.cli", "worker"], env)
    try:
        wait_for(lambda: slack.fake.of("chat.postMessage"), 60, "the worker to call chat.postMessage")
    finally:
        kill(first)  # SIGKILL, scheduler and all, while Slack has not answered
    assert slack.location(a["id"]) is None
    del slack.fake.hangs["chat.postMessage"]

    second = start([sys.executable, "-m", "bot.cli", "worker"], env)
    try:
        wait_for(lambda: slack.location(a["id"]), 60, "the review to be posted by the new worker")
        wait_for(lambda: status(slack, a["id"]) == "expired", 90, "the tree to run out")
    finally:
        kill(second, signal.SIGTERM)
        err = second.stderr.read() if second.stderr else ""
    fired = escalations(slack, a["id"])
    assert [e.kind for e in fired] == ["escalated", "escalated", "escalated", "final"], err[-2000:]
    assert all(e.fired_at >= e.due_at for e in fired)
    # At-least-once: the killed worker's call reached Slack, so the review message exists twice.
    reviews = [p for p in slack.fake.of("chat.postMessage") if p.get("blocks") and not p.get("thread_ts")]
    assert len(reviews) == 2


@pytest.mark.worker
def test_hitl_worker_stops_on_sigterm(worker_env):
    """Warm shutdown: an idle worker exits at once (its restart loop must not mistake this for a crash)."""
    import redis
    from rq import Worker

    worker = start([sys.executable, "-m", "bot.cli", "worker"], worker_env)
    try:
        conn = redis.Redis.from_url(worker_env["HITL_REDIS_URL"])
        # Idle is after RQ installs its signal handlers; before that a SIGTERM kills the process outright.
        wait_for(lambda: worker.poll() is not None or [w for w in Worker.all(connection=conn)
                                                       if w.get_state() == "idle"], 60, "the worker to be idle")
        worker.send_signal(signal.SIGTERM)
        # "at once" is asserted by exiting 0, not by time
        assert worker.wait(timeout=120) == 0, worker.stderr.read()[-2000:]
    finally:
        kill(worker)


def test_a_sigterm_during_the_reconciler_pass_still_stops_the_worker(runtime, monkeypatch):
    """RQ turns a SIGTERM while idle into StopRequested wherever the worker is; the reconciler's
    catch-all once swallowed it, and the worker ran on until a second signal."""
    from rq.exceptions import StopRequested

    from workers import worker as worker_module

    def interrupted(*args):
        raise StopRequested()

    monkeypatch.setattr(worker_module, "reconcile", interrupted)
    with pytest.raises(StopRequested):
        worker_module.make_worker(runtime).run_maintenance_tasks()


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_while_its_click_waits_for_a_lock_wedges_nothing(slack, settings, worker_env):
    """The issue's repro: hold the row a click needs, send the click, SIGKILL the worker (its
    scheduler child lives on), release the row. Nothing may stay idle in transaction, and the click
    is applied by the next worker."""
    from sqlalchemy import create_engine, text

    from bot.slack import ids
    from tests.slack_requests import block_action

    a = slack.propose()
    slack.drain()
    env = {**worker_env, "HITL_DB_LOCK_TIMEOUT_SECONDS": "0", "HITL_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "0",
           "HITL_RECONCILE_INTERVAL_SECONDS": "1", "HITL_RECONCILE_GRACE_SECONDS": "1"}
    engine = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")

    def waiting_workers() -> int:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hitl-gate worker' "
                                  "AND wait_event_type = 'Lock'")).scalar()

    def stuck_sessions() -> int:
        with engine.connect() as c:
            return c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hitl-gate worker' "
                                  "AND state LIKE 'idle in transaction%'")).scalar()

    def waiting_backends() -> set[int]:
        with engine.connect() as c:
            return set(c.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = 'hitl-gate worker' "
                                      "AND wait_event_type = 'Lock'")).scalars())

    def alive(backends: set[int]) -> set[int]:
        with engine.connect() as c:
            return set(c.execute(text("SELECT pid FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                 {"pids": list(backends)}).scalars())

    first = second = None
    with engine.connect() as holder:
        holder.execute(text("BEGIN"))
        holder.execute(text("SELECT 1 FROM actions WHERE id = :id FOR UPDATE"), {"id": a["id"]})
        first = start([sys.executable, "-m", "bot.cli", "worker"], env)
        try:
            slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
            wait_for(waiting_workers, 60, "the worker's click to wait for the row")
            killed_backends = waiting_backends()
            os.kill(first.pid, signal.SIGKILL)  # the worker only: its scheduler child lives on, as in production
            first.wait(30)
        finally:
            holder.execute(text("ROLLBACK"))
    try:
        wait_for(lambda: stuck_sessions() == 0 and waiting_workers() == 0, 30,
                 "the killed worker's session to end instead of idling in transaction")
        second = start([sys.executable, "-m", "bot.cli", "worker"], env)
        wait_for(lambda: status(slack, a["id"]) == "approved", 90, "the next worker to apply the click")
        # Only the killed worker's sessions count: the live worker may be between two statements of
        # its own transaction at this very moment, which is idle in transaction for a blink.
        assert not alive(killed_backends)
    finally:
        kill(first)  # the process group: the orphaned scheduler too
        if second is not None:
            kill(second, signal.SIGTERM)
        engine.dispose()
