"""`hitl dev --no-demo` as a user runs it (its own process, its own worker, the sandbox), with an
agent key: the browser tests drive it through chromium, the examples' tests through the examples."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.waiting import answers, wait_for

DEMO_POLICY = Path(__file__).resolve().parents[1] / "examples" / "demo-policy.yaml"


class Dev:
    """A running `hitl dev --no-demo` and an agent key for it."""

    process: Process

    def __init__(self, url: str, key: str):
        self.url, self.key = url, key
        self.agent = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})

    def propose(self, **overrides) -> dict:
        body = {"action_type": "refund", "title": "Refund order 42", "summary": "Customer was double charged",
                "payload": {"amount": 120, "order": "42", "card_last4": "4242"}, "confidence": 0.7}
        body.update(overrides)
        r = self.agent.post("/v1/actions", json=body)
        assert r.status_code == 201, r.text
        return r.json()


def _group_gone(pgid: int, seconds: float) -> bool:
    """Whether every live process of the group has exited (zombies awaiting a reaper count as gone)."""
    import time

    import psutil

    def alive() -> bool:
        for p in psutil.process_iter(["status"]):
            try:
                if p.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(p.pid) == pgid:
                    return True
            except (ProcessLookupError, psutil.NoSuchProcess):
                continue
        return False

    deadline = time.monotonic() + seconds  # a hang detector: busy machines are slow to stop
    while time.monotonic() < deadline:
        if not alive():
            return True
        time.sleep(0.1)
    return False


class Process:
    """`hitl dev --no-demo` as a process that can be stopped and started again on the same data."""

    def __init__(self, env: dict, url: str):
        self.env, self.url, self.proc = env, url, None

    def start(self) -> None:
        self.proc = proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "dev", "--no-demo"], env=self.env,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                            start_new_session=True)
        wait_for(lambda: proc.poll() is not None or answers(f"{self.url}/sandbox/ui/state", user="U0ALICE01"), 90,
                 "hitl dev to serve the sandbox")
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read() if proc.stdout else "hitl dev exited")

    def stop(self) -> None:
        import signal

        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
            if os.environ.get("HITL_TEST_SHOW_DEV"):
                print(self.proc.stdout.read() if self.proc.stdout else "")
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(20)
        # hitl dev may exit before its worker finishes a job: the next test must not find it still
        # working in the shared test database (tests/leaks.py named it doing so).
        if not _group_gone(self.proc.pid, 20):
            os.killpg(self.proc.pid, signal.SIGKILL)
            _group_gone(self.proc.pid, 20)
        self.proc = None


@pytest.fixture(name="dev")
def dev_fixture(tmp_path, database_url, redis_url):
    port = free_port()
    env = {**os.environ, "HITL_DATA_DIR": str(tmp_path / "var"), "HITL_DATABASE_URL": database_url,
           "HITL_REDIS_URL": redis_url, "HITL_POLICY_FILE": str(DEMO_POLICY), "HITL_PORT": str(port),
           "HITL_SLACK_POST_INTERVAL_MS": "0", "HITL_LOG_LEVEL": "WARNING"}
    for name in ("HITL_SLACK_BOT_TOKEN", "HITL_SLACK_SIGNING_SECRET", "HITL_SLACK_APP_TOKEN"):
        env.pop(name, None)  # the sandbox is what runs without Slack credentials
    created = subprocess.run([sys.executable, "-m", "bot.cli", "agents", "create", "browser-agent"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    key = next(w for w in created.stdout.split() if w.startswith("hitl_"))
    process = Process(env, f"http://127.0.0.1:{port}")
    try:
        process.start()
        found = Dev(process.url, key)
        found.process = process
        yield found
    finally:
        process.stop()
