"""Jobs are enqueued by reference, and a job stored under any name this project ever used still runs.

RQ keeps a job's import path in Redis: queued, scheduled (a timer an hour away) or failed and
waiting for its retry. After an upgrade that moved or renamed the function, those must still resolve.
"""
from __future__ import annotations

import inspect
import subprocess
from pathlib import Path

import fakeredis
import pytest
from rq.serializers import JSONSerializer

from bot.slack import alert_jobs, digest_jobs, gold_jobs, home_jobs, stats_jobs
from bot.slack import jobs as slack_jobs
from core.effects import DURABLE, Effect
from workers import callback_jobs, timer_jobs
from workers.names import QUEUES
from workers.queue import MOVED, HitlJob, enqueue, queue, queue_of

ROOT = Path(__file__).resolve().parents[1]
# Every job path enqueued by a released version, read from the history of workers/jobs.py (where
# they all lived until the jobs moved to bot/slack/jobs.py and workers/*_jobs.py).
EVER_STORED = sorted(MOVED)


def current_jobs():
    found = []
    for module in (slack_jobs, alert_jobs, gold_jobs, stats_jobs, home_jobs, digest_jobs, callback_jobs, timer_jobs):
        found += [f for _, f in inspect.getmembers(module, inspect.isfunction)
                  if f.__module__ == module.__name__ and hasattr(f, "hitl_queue")]
    return found


@pytest.mark.parametrize("name", EVER_STORED)
def test_a_job_stored_under_an_old_name_still_resolves(name):
    job = HitlJob.create(name, args=["x"], connection=fakeredis.FakeRedis(), serializer=JSONSerializer)
    assert callable(job.func) and hasattr(job.func, "hitl_queue")


def test_the_moved_list_covers_every_job_name_in_the_history():
    log = subprocess.run(["git", "log", "-p", "--all", "--", "workers/jobs.py"], cwd=ROOT, capture_output=True,
                         text=True)
    if log.returncode != 0 or not log.stdout:
        pytest.skip("not a git checkout with history")
    defined = {line.split("(")[0][len("+def "):] for line in log.stdout.splitlines() if line.startswith("+def ")}
    assert {f"workers.jobs.{d}" for d in defined if not d.startswith("_")} <= set(MOVED)


def test_every_current_job_resolves_by_its_own_path_and_names_a_queue():
    for func in current_jobs():
        path = f"{func.__module__}.{func.__qualname__}"
        job = HitlJob.create(path, connection=fakeredis.FakeRedis(), serializer=JSONSerializer)
        assert job.func is func
        assert queue_of(func) in QUEUES


def test_enqueue_takes_the_function_and_refuses_what_is_not_a_job():
    conn = fakeredis.FakeRedis()
    assert enqueue(conn, slack_jobs.post_review, "act_1")
    (job,) = queue(conn, queue_of(slack_jobs.post_review)).jobs
    assert job.func_name == "bot.slack.jobs.post_review" and job.func is slack_jobs.post_review
    with pytest.raises(TypeError, match="not a job"):
        enqueue(conn, print, "x")


def test_every_durable_effect_has_a_job():
    """What the composition root routes (bot/bootstrap.py): a durable effect with no job would wait forever."""
    assert set(slack_jobs.ROUTES) | set(alert_jobs.ROUTES) | set(gold_jobs.ROUTES) | {Effect.CALLBACK_OWED} == set(DURABLE)
