"""Every example in examples/ runs against `make run`'s sandbox (`hitl dev`) as its docstring says:
a reviewer answers with `hitl decide` while it waits, and its output shows what ran."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.worker  # hitl dev runs its own worker
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def pending(dev) -> str | None:
    """The proposal waiting for a reviewer, as `hitl actions list` would show it."""
    from core.store.db import Database
    from core.store.tables import Action

    db = Database(dev.process.env["HITL_DATABASE_URL"])
    try:
        with db.read() as s:
            return s.query(Action.id).filter_by(status="pending").scalar()
    finally:
        db.dispose()


def run_example(dev, name: str, *decision: str) -> str:
    """Runs examples/NAME with the sandbox's URL and a key; answers its one pending proposal with `hitl decide`."""
    env = {**os.environ, "HITL_URL": dev.url, "HITL_API_KEY": dev.key}
    example = subprocess.Popen([sys.executable, str(EXAMPLES / name)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(example.stdout.read()))
    reader.start()
    try:
        action_id = wait_for(lambda: example.poll() is not None or pending(dev), 120, f"{name} to propose")
        assert example.poll() is None, f"{name} ended before a reviewer could answer"
        decided = subprocess.run([sys.executable, "-m", "bot.cli", "decide", action_id, *decision],
                                 env=dev.process.env, capture_output=True, text=True, timeout=60)
        assert decided.returncode == 0, decided.stderr
        example.wait(120)
    finally:
        if example.poll() is None:
            example.kill()
        reader.join(10)
    assert example.returncode == 0, output
    return output[0]


def test_the_mcp_example_passes_a_sure_small_refund_and_waits_for_a_reviewer_on_a_larger(dev):
    out = run_example(dev, "mcp_agent.py", "modify", "--reviewer", "U0ALICE01", "--set", "amount=40")
    assert "tools: issue_refund, lookup_order" in out
    assert "small refund: refunded 12.5 for order A-1001" in out
    assert "large refund: refunded 40 for order A-1002" in out and "waiting for a human reviewer" in out


def test_the_langgraph_example_runs_the_reviewers_edit(dev):
    out = run_example(dev, "langgraph_agent.py", "modify", "--reviewer", "U0ALICE01", "--set", "amount=40")
    assert "tool answered: refunded 40 on order A-1002" in out and "agent said: I have dealt" in out


def test_the_openai_agents_example_reports_a_rejection_to_the_model(dev):
    out = run_example(dev, "openai_agents_agent.py", "reject", "--reviewer", "U0ALICE01", "--tag", "policy_violation",
                      "--comment", "past 30 days")
    assert "tool answered:" in out and "REJECTED" in out and "past 30 days" in out


def test_the_decorator_example_approves_a_small_refund_and_waits_on_a_larger(dev):
    out = run_example(dev, "agent.py", "approve", "--reviewer", "U0ALICE01")
    assert "small refund: refunded 12.5 on order A-1001" in out and "large refund: refunded 60.0 on order A-1002" in out
