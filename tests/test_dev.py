"""`hitl dev` (`make run`) as a user runs it, on the embedded defaults: one short banner, no line per
job, and Ctrl+C stops every process it started, the embedded Redis included."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port
from tests.waiting import answers, wait_for

pytestmark = pytest.mark.worker  # a real worker process
DEMO_POLICY = Path(__file__).resolve().parents[1] / "examples" / "demo-policy.yaml"


def posted_reviews(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM review_messages").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_make_run_is_quiet_and_ctrl_c_leaves_nothing_behind(tmp_path):
    port, data = free_port(), tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HITL_")}  # the embedded defaults
    env.update(HITL_DATA_DIR=str(data), HITL_PORT=str(port), HITL_POLICY_FILE=str(DEMO_POLICY))
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "dev"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_for(lambda: proc.poll() is not None or answers(f"http://127.0.0.1:{port}/healthz"), 90, "hitl dev to serve")
        assert proc.poll() is None, proc.stdout.read()
        # The demo agent proposes and the worker posts: jobs ran, and none of them may print a line.
        wait_for(lambda: posted_reviews(data / "hitl.db") >= 3, 90, "the worker to post three demo reviews")
        registry = json.loads((data / "redis.db.settings").read_text())
        redis_pid = int(Path(registry["pidfile"]).read_text())
        started = [proc.pid, redis_pid, *(p.pid for p in psutil.Process(proc.pid).children(recursive=True))]
        assert any("worker" in " ".join(psutil.Process(p).cmdline()) for p in started)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in the terminal does: the whole foreground group
        output = proc.communicate(timeout=90)[0]

    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    wait_for(lambda: not any(alive(p) for p in started), 30, "every process hitl dev started to exit")
    lines = output.splitlines()
    assert f"  Slack sandbox  http://127.0.0.1:{port}/sandbox/" in output
    assert "Ctrl+C stops everything." in output and lines[-1] == "hitl-gate dev: stopped"
    assert not [line for line in lines if "rq." in line or "Job OK" in line or "demo agent:" in line], output
    assert len(lines) <= 15, output
