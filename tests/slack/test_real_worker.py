"""The real `hitl worker` (a forking RQ worker, JSON serializer) posts a review from another process."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core import audit_log
from tests.slack.blockkit import assert_valid_message


@pytest.mark.worker
def test_hitl_worker_process_posts_the_review(slack, worker_env):
    a = slack.propose(title="Posted by a real worker")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--burst"], env=worker_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    post = slack.posted(a["id"])
    assert "Posted by a real worker" in post["text"]
    assert_valid_message(post["blocks"])
    assert slack.location(a["id"]).message_ts.startswith("1700000000.")
    with slack.server.runtime.services.db.read() as s:  # a burst worker seals what it found, and what it did
        assert audit_log.unsealed(s) == 0 and audit_log.verify(s).ok
