"""Redis is restarted (a server without persistence: everything in it is gone, connections drop)
while a real `hitl worker` runs. Work accepted before, during and after the outage all completes."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port
from tests.slack.conftest import use_policy
from tests.slack.test_worker_faults import kill, start, status
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")


class RedisServer:
    def __init__(self, tmp_path):
        self.port, self.dir, self.proc = free_port(), tmp_path, None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        wait_for(lambda: _answers(self.port), 10, "redis-server to start")

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)

    def restart(self, down_for: float, while_down):
        """Stop without saving (so the data is gone), run `while_down`, start again on the same port."""
        self.stop()
        result = while_down()
        time.sleep(down_for)  # pacing, not waiting: the outage itself lasts this long
        self.start()
        return result


def _answers(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """Overrides the suite's shared private Redis: this test owns a server it can restart."""
    return f"redis://127.0.0.1:{redis_server.port}/0"


@pytest.mark.worker
def test_redis_restart_mid_run_loses_nothing(slack, settings, worker_env, redis_server):
    use_policy(settings, "action_types:\n  refund:\n    escalation:\n      levels: [{targets: [UALICE], timeout: 8s}]\n")
    env = {**worker_env, "HITL_RECONCILE_INTERVAL_SECONDS": "1", "HITL_RECONCILE_GRACE_SECONDS": "1"}
    slack.server.runtime.services.dispatcher.grace_seconds = 1  # the same grace in the web process as in the worker
    worker = start([sys.executable, "-m", "bot.cli", "worker"], env)
    try:
        before = slack.propose(title="before the restart")
        wait_for(lambda: slack.location(before["id"]), 60, "the first review to be posted")

        # Accepted while Redis is down (201): the database is the source of truth.
        during = redis_server.restart(1.0, lambda: slack.propose(title="while Redis is down"))
        after = slack.propose(title="after the restart")

        for a in (before, during, after):
            wait_for(lambda a=a: slack.location(a["id"]), 60, f"{a['title']} to be posted")
            wait_for(lambda a=a: status(slack, a["id"]) == "expired", 60, f"{a['title']} to run out its tree")
    finally:
        kill(worker)
        print("\n".join(line for line in worker.stderr.read().splitlines() if not line.startswith(" "))[-6000:])


def test_the_worker_loop_starts_again_when_rq_quits_on_an_error(monkeypatch):
    """RQ's loop returns after an unexpected error (seen: Redis vanishing during a job's bookkeeping);
    `hitl worker` starts a new one, with backoff, until a shutdown is requested."""
    import redis

    from workers import worker as worker_module

    made, sleeps = [], []

    class Fake:
        def __init__(self, outcome):
            self.outcome, self._stop_requested, self._shutdown_requested_date = outcome, False, None

        def work(self, burst, with_scheduler, logging_level=None):
            assert with_scheduler and not burst
            if self.outcome == "redis down":
                raise redis.ConnectionError("Connection refused")
            if self.outcome == "SIGTERM":  # while idle: RQ raises StopRequested and sets only the date
                self._shutdown_requested_date = "now"

    outcomes = iter(["quit on an error", "redis down", "cannot even build", "SIGTERM"])

    def make(*a, **k):
        made.append(1)
        outcome = next(outcomes)
        if outcome == "cannot even build":  # RQ's Worker talks to Redis as it is made
            raise redis.ConnectionError("Connection refused")
        return Fake(outcome)

    monkeypatch.setattr(worker_module, "make_worker", make)
    monkeypatch.setattr("time.sleep", sleeps.append)
    worker_module.run(runtime=None)
    assert len(made) == 4 and sleeps == [1.0, 2.0, 4.0]
