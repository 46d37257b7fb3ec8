"""The real `hitl worker` (a forking RQ worker, JSON serializer) posts a review from another process."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.slack.blockkit import assert_valid_message
from tests.slack_requests import SECRET


def test_hitl_worker_process_posts_the_review(slack, settings):
    a = slack.propose(title="Posted by a real worker")
    env = {**os.environ, "HITL_DATABASE_URL": settings.database_url, "HITL_REDIS_URL": settings.redis_url.get_secret_value(),
           "HITL_POLICY_FILE": str(settings.policy_file), "HITL_DATA_DIR": str(settings.data_dir),
           "HITL_SLACK_BOT_TOKEN": "xoxb-test", "HITL_SLACK_SIGNING_SECRET": SECRET,
           "HITL_SLACK_API_URL": slack.fake.url, "HITL_SLACK_DEFAULT_CHANNEL": "C0REVIEW", "HITL_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--burst"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    post = slack.posted(a["id"])
    assert "Posted by a real worker" in post["text"]
    assert_valid_message(post["blocks"])
    assert slack.location(a["id"]).message_ts.startswith("1700000000.")
