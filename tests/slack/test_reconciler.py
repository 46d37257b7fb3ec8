"""Redis loses everything (FLUSHALL) mid-run: the database still knows what to do, and the worker's
reconciler pass puts the work back."""
from __future__ import annotations

import subprocess
import sys
from itertools import pairwise

import pytest

from bot.slack import ids
from tests.slack_requests import block_action
from workers.worker import make_worker


@pytest.mark.worker
def test_flushall_after_proposals_every_review_is_still_posted_by_a_real_worker(slack, worker_env):
    slack.server.runtime.services.dispatcher.grace_seconds = 0  # as if the grace had passed since: the relay takes them
    proposed = [slack.propose(title=f"Refund {i}")["id"] for i in range(3)]
    slack.server.runtime.redis.flushall()  # our private Redis: the three post jobs are gone
    env = {**worker_env, "HITL_RECONCILE_GRACE_SECONDS": "0", "HITL_SLACK_POST_INTERVAL_MS": "1000"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--burst"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(slack.location(a) is not None for a in proposed)
    assert len(slack.fake.of("chat.postMessage")) == 3  # each posted once


def test_flushall_after_a_click_the_click_is_still_applied(slack):
    a = slack.propose()
    slack.drain()
    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    rt = slack.server.runtime
    rt.redis.flushall()  # the apply job is gone; the click row is not
    rt.settings.reconcile_grace_seconds = 0
    make_worker(rt).work(burst=True)
    assert slack.agent.get(f"/v1/actions/{a['id']}").json()["status"] == "approved"


def test_nothing_to_do_means_nothing_enqueued(slack):
    from workers.reconciler import reconcile

    a = slack.propose()
    slack.drain()
    assert slack.location(a["id"]) is not None
    slack.server.runtime.settings.reconcile_grace_seconds = 0
    counts = reconcile(slack.server.runtime, slack.server.runtime.redis, 15)
    assert set(counts) == {"outbox", "apply_interaction", "deliver_callback", "fire_timers"}
    assert not any(counts.values()), counts
    assert reconcile(slack.server.runtime, slack.server.runtime.redis, 15) == {}  # the lock holds for this tick


def test_two_copies_of_a_post_job_post_once(slack):
    import threading

    from bot.slack import jobs

    a = slack.propose()
    slack.server.runtime.redis.flushall()  # drop the queued copy; run two by hand at once
    barrier = threading.Barrier(2)
    results = []

    def run():
        barrier.wait()
        results.append(jobs.post_review(a["id"]))

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results)[-1] == "posted" and len(slack.fake.of("chat.postMessage")) == 1
    assert jobs.post_review(a["id"]) == "already posted"


def test_slack_500_is_retried_and_429_waits_for_retry_after(slack, monkeypatch):
    import time

    monkeypatch.setattr("workers.queue.RETRY_AFTER", (0, 0, 0))  # in-process burst worker: retry at once
    slack.fake.fail_next("chat.postMessage", status=500)
    a = slack.propose()
    slack.drain()  # first attempt fails with 500, the retry posts
    assert slack.location(a["id"]) is not None
    assert [m for m, _ in slack.fake.calls].count("chat.postMessage") == 2

    slack.fake.fail_next("chat.update", status=429, retry_after=1)
    from tests.slack_requests import block_action

    slack.post_interaction(block_action("UALICE", ids.APPROVE, slack.bound(a["id"])))
    started = time.monotonic()
    slack.drain()
    assert time.monotonic() - started >= 1.0  # waited for Retry-After
    assert [m for m, _ in slack.fake.calls].count("chat.update") == 2
    assert "Approved" in str(slack.fake.of("chat.update")[-1]["blocks"])


def test_a_burst_to_one_channel_is_spread_at_one_message_per_second(slack):
    import time

    for i in range(3):
        slack.propose(title=f"burst {i}")
    started = time.monotonic()
    slack.drain()
    assert len(slack.fake.of("chat.postMessage")) == 3  # nothing dropped
    assert time.monotonic() - started >= 2.0  # three messages to one channel take at least two intervals


def test_posting_slots_are_one_interval_apart_and_per_channel(redis_url):
    import time

    import redis

    from bot.slack.pacing import take_slot

    conn = redis.Redis.from_url(redis_url)
    granted = []
    for _ in range(3):
        take_slot(conn, "C0ONE", interval_ms=300)
        granted.append(time.monotonic())
    assert all(b - a >= 0.29 for a, b in pairwise(granted))
    assert take_slot(conn, "C0OTHER", interval_ms=300) == 0.0  # another channel's slot is free: no wait at all
    assert take_slot(conn, "C0ANY", interval_ms=0) == 0.0


def test_changes_while_a_refresh_is_queued_share_one_chat_update(slack):
    a = slack.propose(title="Refund with quorum", payload={"amount": 900, "order": "7"})  # two approvals needed
    slack.drain()
    before = len(slack.fake.of("chat.update"))
    from core import deciding

    services = slack.server.runtime.services
    deciding.decide(services, a["id"], reviewer="UALICE", kind="approve")
    deciding.decide(services, a["id"], reviewer="UBOB", kind="approve")  # while the first refresh is still queued
    slack.drain()
    updates = slack.fake.of("chat.update")[before:]
    assert len(updates) == 1 and "Approved" in str(updates[0]["blocks"])  # one update, showing the final state
    deciding_again = slack.propose(title="another")
    slack.drain()
    deciding.decide(services, deciding_again["id"], reviewer="UALICE", kind="approve")
    slack.drain()
    assert len(slack.fake.of("chat.update")) == before + 2  # a later change gets its own update
