"""The whole loop over real HTTP: an agent proposes with the client, an operator decides with the
`hitl` CLI in another process, and the agent's blocking wait returns the decision."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from hitl_client import HitlClient, require_approval
from hitl_client.client import HitlError
from tests.waiting import wait_for


def cli(settings, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "HITL_DATABASE_URL": settings.database_url, "HITL_REDIS_URL": settings.redis_url.get_secret_value(),
           "HITL_POLICY_FILE": str(settings.policy_file), "HITL_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True, timeout=60)


def decide_later(live, settings, action_id: str, *args):
    """`hitl decide` once the agent is waiting on the action, the way a reviewer answers later."""
    def run():
        wait_for(lambda: live.app.state.waiter.waiting(action_id), 60, "the agent to wait for the decision")
        result = cli(settings, "decide", action_id, *args)
        assert result.returncode == 0, result.stderr

    t = threading.Thread(target=run)
    t.start()
    return t


def test_client_wait_returns_modified_payload_decided_by_cli(live, settings):
    with HitlClient(live.url, live.key) as hitl:
        action = hitl.request("refund", "Refund order 42", {"amount": 120, "order": "42"}, 0.7, summary="double charge",
                              state={"turn": 7})
        assert action.status == "pending" and not action.decided
        t = decide_later(live, settings, action.id, "modify", "--reviewer", "UALICE", "--set", "amount=100",
                         "--comment", "partial refund", "--tag", "edge_case")
        decided = hitl.wait(action.id, timeout=30)
        t.join()
        assert decided.status == "modified" and decided.go_ahead
        assert decided.final_payload == {"amount": 100, "order": "42"}
        assert decided.decision["patch"] == [{"op": "replace", "path": "/amount", "value": 100}]
        assert decided.decision["reason_tags"] == ["edge_case"] and decided.state == {"turn": 7}
        done = hitl.report_outcome(action.id, "executed", {"refund_id": "r1"})
        assert done.status == "executed"


def test_decorator_runs_with_edited_arguments(live, settings):
    calls = []
    hitl = HitlClient(live.url, live.key)

    @require_approval(hitl, action_type="refund", title="Refund {order_id}", confidence=0.6)
    def refund(order_id: str, amount: float) -> str:
        calls.append((order_id, amount))
        return f"refunded {amount}"

    original = hitl.request
    seen, reviewers = [], []

    def spy(*args, **kwargs):
        a = original(*args, **kwargs)
        seen.append(a.id)
        reviewers.append(decide_later(live, settings, a.id, "modify", "--reviewer", "UBOB", "--set", "amount=5"))
        return a

    hitl.request = spy
    assert refund("o-1", 50) == "refunded 5"
    reviewers[0].join()  # the CLI exits after its decision lands: it must not outlive this test
    assert calls == [("o-1", 5)]
    done = hitl.get(seen[0])
    # It claimed the approved payload before running it: nobody can run that approval again.
    assert done.status == "executed" and done.decision["execution_claimed_at"] is not None
    with pytest.raises(HitlError) as again:
        hitl.execute(done)
    assert again.value.status == 409 and again.value.code == "already_claimed"


def test_the_client_never_claims_a_payload_other_than_the_approved_one(live, settings):
    with HitlClient(live.url, live.key) as hitl:
        a = hitl.request("refund", "x", {"amount": 1}, 0.5)
        assert cli(settings, "decide", a.id, "approve", "--reviewer", "UALICE").returncode == 0
        decided = hitl.get(a.id)
        decided.decision["final_payload"] = {"amount": 1000}  # a payload this process holds, tampered with
        with pytest.raises(HitlError) as refused:
            hitl.execute(decided)
        assert refused.value.code == "payload_mismatch"
        assert hitl.get(a.id).decision["execution_claimed_at"] is None
        assert hitl.execute(hitl.get(a.id))["final_payload"] == {"amount": 1}


def test_decorator_returns_reasons_to_the_llm_on_rejection(live, settings):
    hitl = HitlClient(live.url, live.key)
    ran = []

    @require_approval(hitl, action_type="refund", title="Refund {order_id}")
    def refund(order_id: str, amount: float) -> str:
        ran.append(order_id)
        return "done"

    original = hitl.request
    reviewers = []

    def spy(*args, **kwargs):
        a = original(*args, **kwargs)
        reviewers.append(decide_later(live, settings, a.id, "reject", "--reviewer", "UALICE", "--tag",
                                      "policy_violation", "--comment", "over the 30-day window"))
        return a

    hitl.request = spy
    message = refund("o-2", 10)
    reviewers[0].join()
    assert ran == []
    assert "REJECTED" in message and "policy_violation" in message and "over the 30-day window" in message
    assert "Do not retry the same action unchanged" in message


def test_decorator_cancels_when_nobody_answers_in_time(live):
    hitl = HitlClient(live.url, live.key)

    @require_approval(hitl, action_type="refund", timeout=0.3)
    def refund(amount: float) -> str:
        raise AssertionError("must not run")

    message = refund(3)
    assert "CANCELLED" in message


def test_client_errors_carry_the_field(live):
    with HitlClient(live.url, live.key) as hitl:
        try:
            hitl.request("refund", "x", {"a": 1}, confidence=2)
        except HitlError as exc:
            assert exc.status == 422 and exc.fields[0]["field"] == "confidence"
        else:
            raise AssertionError("expected a 422")


def test_cli_decide_reports_the_loser(live, settings):
    with HitlClient(live.url, live.key) as hitl:
        a = hitl.request("refund", "x", {"amount": 1}, 0.5)
    assert cli(settings, "decide", a.id, "approve", "--reviewer", "UALICE").returncode == 0
    lost = cli(settings, "decide", a.id, "reject", "--reviewer", "UBOB", "--tag", "edge_case")
    assert lost.returncode == 1 and lost.stderr.strip() == "error: already approved by UALICE"
